/**
 * Capture leases in PostgreSQL (tables `capture_workers` and `capture_leases`, pgSchema.ts V4).
 *
 * Why rows with an expiry rather than session-level advisory locks: a lock held by a session is
 * released when PostgreSQL notices the session is gone, which is at once for a killed process (the
 * kernel closes its socket) but, for a network cut, only when TCP keepalives give up (two hours by
 * default; bounded only if every installation tunes `tcp_keepalives_*` or `tcp_user_timeout`), and
 * the cut-off worker itself cannot tell it lost the lock without a round trip. An expiry on the
 * database's clock bounds both cases the same way (the lease's time to live), the worker knows
 * locally when its lease may have lapsed (it stops writing before that: member.ts), the rows are
 * what `getCaptureStatus` shows, and they survive a connection pooler in transaction mode, which
 * session locks do not.
 *
 * Every comparison uses the database's clock (`clock_timestamp()`), never a worker's, so skewed
 * clocks on the workers cannot make two of them hold one lease. A lease changes holder only in one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` that sees the latest row version, so two workers racing
 * for a free or expired lease cannot both win.
 */
import type { Pool } from 'pg'
import { attemptStore } from '../../../projections/errors'
import type { AccountLeases, FleetStatus, Holder } from '../../capture/fleet/leases'
import { inTransaction } from './transaction'

const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

const num = (v: string | number | null): number | null => (v === null ? null : Number(v))

export const pgLeases = (pool: Pool, description: string): AccountLeases => {
  const attempt = attemptStore(description)
  return {
    description,
    shared: true,
    renew: (h: Holder, ttl: number) =>
      attempt(() =>
        inTransaction(pool, async (c) => {
          await c.query(
            `INSERT INTO capture_workers (holder, host, pid, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, ${NOW}, ${NOW}, ${NOW} + $4)
             ON CONFLICT (holder) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, expires_at = EXCLUDED.expires_at`,
            [h.id, h.host, h.pid, ttl],
          )
          // Every lease still ours, expired or not: one that expired and was taken has another holder now.
          const held = (await c.query<{ account: string }>(`UPDATE capture_leases SET expires_at = ${NOW} + $2 WHERE holder = $1 RETURNING account`, [h.id, ttl])).rows.map(
            (r) => r.account,
          )
          const live = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM capture_workers WHERE expires_at > ${NOW}`)).rows[0]?.n ?? 1)
          const others = (
            await c.query<{ account: string }>(`SELECT account FROM capture_leases WHERE holder IS NOT NULL AND holder <> $1 AND expires_at > ${NOW}`, [h.id])
          ).rows.map((r) => r.account)
          // Members gone for an hour are forgotten (the status shows recent ones as not live).
          await c.query(`DELETE FROM capture_workers WHERE expires_at < ${NOW} - 3600000`)
          return { held, live: Math.max(1, live), heldByOthers: others }
        }),
      ),
    acquire: (h, accounts, max, ttl) =>
      attempt(async () => {
        if (max <= 0 || accounts.length === 0) return []
        const r = await pool.query<{ account: string }>(
          `WITH wanted AS (
             SELECT a.account, a.n FROM unnest($2::text[]) WITH ORDINALITY AS a(account, n)
             WHERE NOT EXISTS (SELECT 1 FROM capture_leases l WHERE l.account = a.account AND l.holder IS NOT NULL AND l.holder <> $1 AND l.expires_at > ${NOW})
             ORDER BY a.n LIMIT $3)
           INSERT INTO capture_leases AS l (account, holder, acquired_at, expires_at)
           SELECT account, $1, ${NOW}, ${NOW} + $4 FROM wanted
           ON CONFLICT (account) DO UPDATE SET holder = EXCLUDED.holder, acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at
             WHERE l.holder IS NULL OR l.holder = EXCLUDED.holder OR l.expires_at <= ${NOW}
           RETURNING account`,
          [h.id, accounts, max, ttl],
        )
        return r.rows.map((x) => x.account)
      }),
    release: (h, accounts) =>
      attempt(async () => {
        if (accounts.length === 0) return
        await pool.query(`UPDATE capture_leases SET holder = NULL, acquired_at = NULL, expires_at = ${NOW} WHERE holder = $1 AND account = ANY($2::text[])`, [h.id, accounts])
      }),
    leave: (h) =>
      attempt(() =>
        inTransaction(pool, async (c) => {
          await c.query(`UPDATE capture_leases SET holder = NULL, acquired_at = NULL, expires_at = ${NOW} WHERE holder = $1`, [h.id])
          await c.query('DELETE FROM capture_workers WHERE holder = $1', [h.id])
        }),
      ),
    record: (h, account, error) =>
      attempt(async () => {
        if (error === null) await pool.query(`UPDATE capture_leases SET last_capture_at = ${NOW}, last_error = NULL WHERE account = $1 AND holder = $2`, [account, h.id])
        else {
          await pool.query('UPDATE capture_leases SET last_error = $3 WHERE account = $1 AND holder = $2', [account, h.id, error])
          await pool.query('UPDATE capture_workers SET last_error = $2 WHERE holder = $1', [h.id, `${account}: ${error}`])
        }
      }),
    roundDone: (h) =>
      attempt(async () => {
        await pool.query(`UPDATE capture_workers SET last_round_at = ${NOW} WHERE holder = $1`, [h.id])
      }),
    list: () =>
      attempt(async (): Promise<FleetStatus> => {
        const c = await pool.connect()
        try {
          // One snapshot for the three reads, so a lease and its holder agree.
          await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
          const now = Number((await c.query<{ now: string }>(`SELECT ${NOW} AS now`)).rows[0]?.now)
          const ws = await c.query<{
            holder: string
            host: string
            pid: number
            started_at: string
            heartbeat_at: string
            expires_at: string
            last_round_at: string | null
            last_error: string | null
          }>('SELECT holder, host, pid, started_at, heartbeat_at, expires_at, last_round_at, last_error FROM capture_workers ORDER BY started_at, holder')
          const ls = await c.query<{
            account: string
            holder: string | null
            acquired_at: string | null
            expires_at: string
            last_capture_at: string | null
            last_error: string | null
          }>('SELECT account, holder, acquired_at, expires_at, last_capture_at, last_error FROM capture_leases ORDER BY account')
          await c.query('COMMIT')
          return {
            now,
            workers: ws.rows.map((w) => ({
              holder: w.holder,
              host: w.host,
              pid: w.pid,
              startedAt: Number(w.started_at),
              heartbeatAt: Number(w.heartbeat_at),
              expiresAt: Number(w.expires_at),
              live: Number(w.expires_at) > now,
              lastRoundAt: num(w.last_round_at),
              lastError: w.last_error,
            })),
            accounts: ls.rows.map((l) => {
              const live = l.holder !== null && Number(l.expires_at) > now
              return {
                account: l.account,
                holder: live ? l.holder : null,
                acquiredAt: live ? num(l.acquired_at) : null,
                lastCaptureAt: num(l.last_capture_at),
                lastError: l.last_error,
              }
            }),
          }
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined)
          throw e
        } finally {
          c.release()
        }
      }),
  }
}
