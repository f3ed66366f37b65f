/**
 * Activity as a use case: the changes in an account per hour or day, deletions apart, with bucket
 * boundaries in a zone ("when did the mass deletion happen?"; the console plots it).
 */
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../domain/instant'
import { type Boundaries, type ActivityBucket as Bucket, activity } from '../../projections/activity'
import { describeDateError, validZone } from '../time/dates'
import { type AppError, attempt, fail, usageError } from './errors'
import { when } from './json'
import type { AppDeps } from './ports'
import { instantArg, must, resolveAccount } from './support'

/** More buckets than a plot can show; ask for days instead. */
const MAX_BUCKETS = 20_000

const boundaries = (unit: 'hour' | 'day', zone: string): Boundaries => ({
  floor: (ms) => DateTime.fromMillis(ms, { zone }).startOf(unit).toMillis(),
  next: (start) =>
    DateTime.fromMillis(start, { zone })
      .plus({ [unit]: 1 })
      .startOf(unit)
      .toMillis(),
})

export interface ActivityRequest {
  readonly account: string
  readonly bucket?: 'hour' | 'day'
  /** First instant counted, in the user's words (default: the first change). */
  readonly from?: string
  readonly to?: string
  /** The zone whose hours and midnights start the buckets (default: the deps' zone). */
  readonly zone?: string
}

export interface ActivityResult {
  readonly json: Record<string, unknown>
  readonly account: AccountId
  readonly unit: 'hour' | 'day'
  readonly zone: string
  readonly total: number
  readonly buckets: readonly Bucket[]
  readonly peak?: Bucket
}

export const getActivity = (deps: AppDeps, req: ActivityRequest): Promise<E.Either<AppError, ActivityResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const account = await resolveAccount(b, req.account)
    const zone = validZone(req.zone ?? deps.zone)
    if (E.isLeft(zone)) return fail(usageError(describeDateError(zone.left)))
    const unit = req.bucket === 'hour' ? 'hour' : 'day'
    const from = req.from === undefined ? (0 as Instant) : instantArg(req.from, deps.zone, 'from', { first: true })
    const to = req.to === undefined ? (MAX_INSTANT as Instant) : instantArg(req.to, deps.zone, 'to', { last: true })
    if (to < from) fail(usageError('getActivity: to is before from'))
    const changes = await must(b.index.changesBetween(account, { from, to }))
    // "first" and "last" shrink to the changes themselves, so the buckets cover the account's life.
    let lo = Number.MAX_SAFE_INTEGER
    let hi = 0
    for (const c of changes) {
      lo = Math.min(lo, c.validFrom)
      hi = Math.max(hi, c.validFrom)
    }
    const window = changes.length === 0 ? undefined : { from: from === 0 ? lo : from, to: to >= MAX_INSTANT ? hi : to }
    const buckets = window === undefined ? [] : activity(changes, window, boundaries(unit, zone.right), MAX_BUCKETS)
    if (buckets === undefined) return fail(usageError(`getActivity: more than ${MAX_BUCKETS} ${unit} buckets; use bucket day or a shorter window`))
    const peak = buckets.reduce<Bucket | undefined>((p, k) => (k.deleted > (p?.deleted ?? 0) ? k : p), undefined)
    return {
      account,
      unit,
      zone: zone.right,
      total: changes.length,
      buckets,
      ...(peak !== undefined && { peak }),
      json: {
        account,
        bucket: unit,
        zone: zone.right,
        from: when(window?.from, zone.right),
        to: when(window?.to, zone.right),
        total: changes.length,
        peakDeletion: peak === undefined ? null : { start: when(peak.start, zone.right), deleted: peak.deleted },
        buckets: buckets.map((k) => ({ ...k, start: when(k.start, zone.right), end: when(k.end, zone.right) })),
      },
    }
  })
