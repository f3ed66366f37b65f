/**
 * Leases kept in this process's memory: the adapter for a SQLite store, which one machine writes
 * (one capture process). It keeps the same rules as the PostgreSQL table (expiry, take-over of
 * expired leases only, a fair share per live holder), so that the lease tests run against both.
 */
import * as TE from 'fp-ts/TaskEither'
import type { AccountLeaseStatus, AccountLeases, FleetStatus, Holder, WorkerStatus } from './leases'

interface Lease {
  holder: string | null
  acquiredAt: number | null
  expiresAt: number
  lastCaptureAt: number | null
  lastError: string | null
}

export const localLeases = (now: () => number = Date.now): AccountLeases => {
  const workers = new Map<string, { h: Holder; startedAt: number; heartbeatAt: number; expiresAt: number; lastRoundAt: number | null; lastError: string | null }>()
  const leases = new Map<string, Lease>()
  const liveHolder = (l: Lease | undefined, t: number): string | null => (l !== undefined && l.holder !== null && l.expiresAt > t ? l.holder : null)
  return {
    description: 'this process (SQLite store)',
    shared: false,
    renew: (h, ttl) =>
      TE.fromIO(() => {
        const t = now()
        const w = workers.get(h.id)
        workers.set(h.id, { h, startedAt: w?.startedAt ?? t, heartbeatAt: t, expiresAt: t + ttl, lastRoundAt: w?.lastRoundAt ?? null, lastError: w?.lastError ?? null })
        const held: string[] = []
        const heldByOthers: string[] = []
        for (const [a, l] of leases) {
          if (l.holder === h.id) {
            l.expiresAt = t + ttl
            held.push(a)
          } else if (liveHolder(l, t) !== null) heldByOthers.push(a)
        }
        return { held, heldByOthers, live: [...workers.values()].filter((x) => x.expiresAt > t).length }
      }),
    acquire: (h, accounts, max, ttl) =>
      TE.fromIO(() => {
        const t = now()
        const taken: string[] = []
        for (const a of accounts) {
          if (taken.length >= max) break
          const l = leases.get(a)
          const by = liveHolder(l, t)
          if (by !== null && by !== h.id) continue
          leases.set(a, { holder: h.id, acquiredAt: t, expiresAt: t + ttl, lastCaptureAt: l?.lastCaptureAt ?? null, lastError: l?.lastError ?? null })
          taken.push(a)
        }
        return taken
      }),
    release: (h, accounts) =>
      TE.fromIO(() => {
        for (const a of accounts) {
          const l = leases.get(a)
          if (l?.holder === h.id) Object.assign(l, { holder: null, acquiredAt: null, expiresAt: now() })
        }
      }),
    leave: (h) =>
      TE.fromIO(() => {
        for (const l of leases.values()) if (l.holder === h.id) Object.assign(l, { holder: null, acquiredAt: null, expiresAt: now() })
        workers.delete(h.id)
      }),
    record: (h, account, error) =>
      TE.fromIO(() => {
        const l = leases.get(account)
        if (l?.holder !== h.id) return
        if (error === null) Object.assign(l, { lastCaptureAt: now(), lastError: null })
        else l.lastError = error
        const w = workers.get(h.id)
        if (w !== undefined && error !== null) w.lastError = `${account}: ${error}`
      }),
    roundDone: (h) =>
      TE.fromIO(() => {
        const w = workers.get(h.id)
        if (w !== undefined) w.lastRoundAt = now()
      }),
    list: () =>
      TE.fromIO((): FleetStatus => {
        const t = now()
        const ws: WorkerStatus[] = [...workers.values()].map((w) => ({
          holder: w.h.id,
          host: w.h.host,
          pid: w.h.pid,
          startedAt: w.startedAt,
          heartbeatAt: w.heartbeatAt,
          expiresAt: w.expiresAt,
          live: w.expiresAt > t,
          lastRoundAt: w.lastRoundAt,
          lastError: w.lastError,
        }))
        const as: AccountLeaseStatus[] = [...leases.entries()]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([account, l]) => {
            const holder = liveHolder(l, t)
            return { account, holder, acquiredAt: holder === null ? null : l.acquiredAt, lastCaptureAt: l.lastCaptureAt, lastError: l.lastError }
          })
        return { now: t, workers: ws, accounts: as }
      }),
  }
}
