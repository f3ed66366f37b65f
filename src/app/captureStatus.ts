/**
 * `getCaptureStatus`: the capture fleet as the leases show it: each worker (live or gone), the
 * accounts it holds, its last round and last error, and each account's last capture and lag.
 * Everything is read in one snapshot and dated by the store's clock, the clock the leases use.
 */
import { orRaise } from '../../projections/errors'
import type { AccountLeaseStatus, FleetStatus, WorkerStatus } from '../capture/fleet/leases'
import { type AppError, attempt } from './errors'
import type { AppDeps } from './ports'
import type * as E from 'fp-ts/Either'

export interface AccountCapture {
  readonly account: string
  readonly holder: string | null
  readonly acquiredAt: number | null
  readonly lastCaptureAt: number | null
  /** Milliseconds since the last capture that read everything (null: never captured). */
  readonly lagMs: number | null
  readonly lastError: string | null
}

export interface WorkerCapture extends WorkerStatus {
  readonly accounts: readonly AccountCapture[]
  /** The largest lag among its accounts (null when it holds none, or one was never captured). */
  readonly lagMs: number | null
}

export type CaptureStatus =
  | { readonly fleet: false; readonly store: string }
  | {
      readonly fleet: true
      readonly store: string
      readonly now: number
      readonly workers: readonly WorkerCapture[]
      /** Accounts no live worker holds now (between a worker's death and the take-over, or never taken). */
      readonly unheld: readonly AccountCapture[]
    }

const accountCapture = (now: number, l: AccountLeaseStatus): AccountCapture => ({ ...l, lagMs: l.lastCaptureAt === null ? null : Math.max(0, now - l.lastCaptureAt) })

/** Pure: the fleet's rows grouped by worker. */
export const captureStatusOf = (store: string, s: FleetStatus): CaptureStatus => {
  const accounts = s.accounts.map((l) => accountCapture(s.now, l))
  const workers = s.workers.map((w): WorkerCapture => {
    const mine = accounts.filter((a) => a.holder === w.holder)
    const lags = mine.map((a) => a.lagMs)
    return { ...w, accounts: mine, lagMs: mine.length === 0 || lags.includes(null) ? null : Math.max(...(lags as number[])) }
  })
  return { fleet: true, store, now: s.now, workers, unheld: accounts.filter((a) => a.holder === null) }
}

export const getCaptureStatus = (deps: AppDeps): Promise<E.Either<AppError, CaptureStatus>> =>
  attempt(async () => {
    const b = await deps.backend()
    if (b.leases === undefined || !b.leases.shared) return { fleet: false, store: b.store.description }
    return captureStatusOf(b.leases.description, await orRaise(b.leases.list()))
  })
