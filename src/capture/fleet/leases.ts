/**
 * Capture leases: which worker captures which account. A fleet of `doSmartScan` workers sharing one
 * PostgreSQL store captures each account on exactly one worker at a time; a worker captures (and so
 * writes) an account only while it holds that account's lease. The port is kept apart from the
 * scanner and from any scheduler so that either can ask it.
 *
 * A lease has an expiry on the store's clock, renewed by the holder's heartbeat; a worker that stops
 * renewing (killed, cut off) loses its leases when they expire, and a live worker takes them over.
 * The PostgreSQL adapter is src/store/postgres/pgLeases.ts; `localLeases` serves one process
 * (SQLite: one machine, one capture process).
 */
import { randomBytes } from 'crypto'
import type * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../../projections/errors'

/** Who holds a lease: host, pid and a random part (a restarted process with a reused pid is another holder). */
export interface Holder {
  readonly id: string
  readonly host: string
  readonly pid: number
}

export const holderOf = (host: string, pid: number, random: string = randomBytes(4).toString('hex')): Holder => ({ id: `${host}:${pid}:${random}`, host, pid })

export interface LeaseTiming {
  /** How long a lease (and the worker's membership) lasts without a renewal. */
  readonly ttlMs: number
  /** How often the holder renews, and looks for accounts to take or give back. */
  readonly heartbeatMs: number
}

/**
 * 10 s leases renewed every 2 s: a dead worker's accounts are taken over within ttl + heartbeat
 * (12 s, plus one round trip), under the 15 s the fleet promises; a worker misses four heartbeats
 * in a row before it loses anything.
 */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 10_000, heartbeatMs: 2_000 }

export interface Renewed {
  /** The accounts the holder still holds (a lease that expired and was taken is not among them). */
  readonly held: readonly string[]
  /** Workers whose membership has not expired, this one included. */
  readonly live: number
  /** Accounts whose lease is held by a live worker other than this one. */
  readonly heldByOthers: readonly string[]
}

export interface WorkerStatus {
  readonly holder: string
  readonly host: string
  readonly pid: number
  readonly startedAt: number
  readonly heartbeatAt: number
  readonly expiresAt: number
  /** False once its membership expired (killed, cut off, or stopped without leaving). */
  readonly live: boolean
  readonly lastRoundAt: number | null
  readonly lastError: string | null
}

export interface AccountLeaseStatus {
  readonly account: string
  /** The live holder, or null when nobody holds it now. */
  readonly holder: string | null
  readonly acquiredAt: number | null
  /** The end of its last capture that read everything. */
  readonly lastCaptureAt: number | null
  /** The error of its last capture, or null when that one succeeded. */
  readonly lastError: string | null
}

export interface FleetStatus {
  /** The store's clock when read (lags are measured against it). */
  readonly now: number
  readonly workers: readonly WorkerStatus[]
  readonly accounts: readonly AccountLeaseStatus[]
}

export interface AccountLeases {
  /** Where the leases are (the store's description, without a password). */
  readonly description: string
  /** Whether workers on other processes can share the accounts (false: one process holds everything). */
  readonly shared: boolean
  /** Joins or stays in the fleet: renews the holder's membership and every lease it still holds. */
  renew(h: Holder, ttlMs: number): TE.TaskEither<StoreError, Renewed>
  /** Takes up to `max` of `accounts` that nobody holds or whose lease expired; returns those taken. */
  acquire(h: Holder, accounts: readonly string[], max: number, ttlMs: number): TE.TaskEither<StoreError, string[]>
  /** Gives leases back (they are free at once). */
  release(h: Holder, accounts: readonly string[]): TE.TaskEither<StoreError, void>
  /** Leaves the fleet: every lease given back, the membership ended. */
  leave(h: Holder): TE.TaskEither<StoreError, void>
  /**
   * Records the end of a capture of an account the holder holds (null: it read everything), and the
   * end of a round, at the store's clock (lags are measured against one clock).
   */
  record(h: Holder, account: string, error: string | null): TE.TaskEither<StoreError, void>
  roundDone(h: Holder): TE.TaskEither<StoreError, void>
  list(): TE.TaskEither<StoreError, FleetStatus>
}

/** What a worker should do at a heartbeat: leases to give back and how many to try to take. */
export interface LeasePlan {
  readonly release: readonly string[]
  readonly acquire: readonly string[]
  readonly max: number
}

/**
 * A worker's fair share: ceil(accounts / live workers). It gives back what it holds beyond its share
 * (never an account it is capturing now: it is given back at a later heartbeat) and tries to take
 * free accounts up to its share. Pure: the same inputs plan the same moves.
 */
export const planLeases = (p: {
  readonly accounts: readonly string[]
  readonly held: readonly string[]
  readonly heldByOthers: readonly string[]
  readonly live: number
  readonly busy: ReadonlySet<string>
}): LeasePlan => {
  const known = new Set(p.accounts)
  const share = p.accounts.length === 0 ? 0 : Math.ceil(p.accounts.length / Math.max(1, p.live))
  const held = p.held.filter((a) => known.has(a))
  // Leases on accounts this worker no longer captures (a configuration changed) go back too.
  const unknown = p.held.filter((a) => !known.has(a) && !p.busy.has(a))
  const excess = Math.max(0, held.length - share)
  const idle = held.filter((a) => !p.busy.has(a))
  const release = [...unknown, ...idle.slice(idle.length - Math.min(excess, idle.length))]
  const others = new Set(p.heldByOthers)
  const mine = new Set(p.held)
  const free = p.accounts.filter((a) => !others.has(a) && !mine.has(a))
  const max = Math.max(0, share - held.length)
  return { release, acquire: max > 0 ? free : [], max }
}
