/**
 * The console's durable jobs in PostgreSQL (table `jobs`, pgSchema.ts V5).
 *
 * Why a table claimed with `FOR UPDATE SKIP LOCKED` rather than pg-boss or graphile-worker: a job
 * here is a row that server processes poll once a second, a handful a day, never a stream of
 * thousands; its state, progress and report are what the console shows, so they must be columns
 * the page reads anyway; and taking over a job whose server died must use the same expiry rule, on
 * the database's clock, as the capture leases (pgLeases.ts). Both libraries bring their own schema,
 * migrations and polling loop for what one `UPDATE … WHERE id = (SELECT … SKIP LOCKED)` does.
 * A partial unique index keeps one queued or running job per command (same verb and words).
 */
import { randomBytes } from 'crypto'
import type { Pool } from 'pg'
import { attemptStore } from '../../../projections/errors'
import type { JobQueue, QueuedJob, QueuedJobState } from '../../app/jobQueue'

const NOW = '(extract(epoch from clock_timestamp()) * 1000)::bigint'

interface Row {
  id: string
  verb: string
  words: string
  params: string
  state: string
  label: string
  done: number
  total: number
  notes: string
  created_at: string
  started_at: string | null
  ended_at: string | null
  result: string | null
  error: string | null
  status: number | null
  holder: string | null
  attempts: number
}

const COLUMNS = 'id, verb, words, params, state, label, done, total, notes, created_at, started_at, ended_at, result, error, status, holder, attempts'

const num = (v: string | null): number | null => (v === null ? null : Number(v))

const jobOf = (r: Row): QueuedJob => ({
  id: r.id,
  verb: r.verb,
  words: JSON.parse(r.words) as string[],
  params: JSON.parse(r.params) as Record<string, string>,
  state: r.state as QueuedJobState,
  label: r.label,
  done: r.done,
  total: r.total,
  notes: JSON.parse(r.notes) as string[],
  createdAt: Number(r.created_at),
  startedAt: num(r.started_at),
  endedAt: num(r.ended_at),
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  error: r.error,
  status: r.status,
  holder: r.holder,
  attempts: r.attempts,
})

export const pgJobs = (pool: Pool, description: string): JobQueue => {
  const attempt = attemptStore(description)
  return {
    enqueue: (verb, words, params) =>
      attempt(async () => {
        const same = JSON.stringify([verb, ...words])
        // The same command queued or running is that job; one that ends between the two statements
        // lets this one be queued on the next try.
        for (let tries = 0; ; tries++) {
          const id = `job-${randomBytes(6).toString('hex')}`
          const r = await pool.query<{ id: string }>(
            `INSERT INTO jobs (id, verb, same_key, words, params, state, label, created_at) VALUES ($1, $2, $3, $4, $5, 'queued', $2, ${NOW})
             ON CONFLICT (same_key) WHERE state IN ('queued', 'running') DO NOTHING RETURNING id`,
            [id, verb, same, JSON.stringify(words), JSON.stringify(params)],
          )
          if (r.rows.length > 0) return { id, started: true }
          const found = (await pool.query<{ id: string }>("SELECT id FROM jobs WHERE same_key = $1 AND state IN ('queued', 'running')", [same])).rows[0]?.id
          if (found !== undefined) return { id: found, started: false }
          if (tries >= 3) throw new Error('the same command keeps starting and ending; send it again')
        }
      }),
    claim: (holder, ttl) =>
      attempt(async () => {
        const r = await pool.query<Row>(
          `UPDATE jobs SET state = 'running', holder = $1, lease_expires_at = ${NOW} + $2, started_at = COALESCE(started_at, ${NOW}), attempts = attempts + 1
           WHERE id = (SELECT id FROM jobs WHERE state = 'queued' OR (state = 'running' AND lease_expires_at < ${NOW}) ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING ${COLUMNS}`,
          [holder, ttl],
        )
        const row = r.rows[0]
        return row === undefined ? undefined : jobOf(row)
      }),
    heartbeat: (holder, id, ttl, p) =>
      attempt(async () => {
        const r = await pool.query(
          `UPDATE jobs SET lease_expires_at = ${NOW} + $3, label = $4, done = $5, total = $6, notes = $7 WHERE id = $1 AND holder = $2 AND state = 'running'`,
          [id, holder, ttl, p.label, p.done, p.total, JSON.stringify(p.notes)],
        )
        return (r.rowCount ?? 0) > 0
      }),
    finish: (holder, id, end, p) =>
      attempt(async () => {
        await pool.query(
          `UPDATE jobs SET state = $3, result = $4, error = $5, status = $6, ended_at = ${NOW}, lease_expires_at = NULL, label = $7, done = $8, total = $9, notes = $10
           WHERE id = $1 AND holder = $2 AND state = 'running'`,
          [id, holder, end.state, end.result === undefined ? null : JSON.stringify(end.result), end.error, end.status, p.label, p.done, p.total, JSON.stringify(p.notes)],
        )
      }),
    get: (id) =>
      attempt(async () => {
        const r = await pool.query<Row>(`SELECT ${COLUMNS} FROM jobs WHERE id = $1`, [id])
        const row = r.rows[0]
        return row === undefined ? undefined : jobOf(row)
      }),
    list: (limit) => attempt(async () => (await pool.query<Row>(`SELECT ${COLUMNS} FROM jobs ORDER BY created_at DESC, id LIMIT $1`, [limit])).rows.map(jobOf)),
  }
}
