/**
 * `getActivity`: changes per hour or day in an account, deletions apart, for "when did the mass
 * deletion happen?" (the web console plots it; the CLI draws bars).
 */
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { MAX_INSTANT, type Instant } from '../../../domain/instant'
import { type Boundaries, activity } from '../../../projections/activity'
import { findAccount } from '../../app/accounts'
import { describeDateError, validZone } from '../../time/dates'
import { instantArg } from '../dateArgs'
import { usage } from '../failure'
import type { Verb } from '../grammar'
import { foundOrFail, human, must, table, when } from '../render'

/** More buckets than a plot can show; ask for days instead. */
const MAX_BUCKETS = 20_000

const boundaries = (unit: 'hour' | 'day', zone: string): Boundaries => ({
  floor: (ms) => DateTime.fromMillis(ms, { zone }).startOf(unit).toMillis(),
  next: (start) => DateTime.fromMillis(start, { zone }).plus({ [unit]: 1 }).startOf(unit).toMillis(),
})

const bar = (n: number, max: number): string => (n === 0 ? '' : '#'.repeat(Math.max(1, Math.round((40 * n) / Math.max(1, max)))))

export const getActivity: Verb = {
  name: 'getActivity',
  summary: 'Counts the changes in an account per hour or day, with deletions apart: a mass deletion shows as a spike.',
  positionals: [{ name: 'account', help: 'account name (login or e-mail address)' }],
  attributes: [
    { name: 'bucket', help: 'hour or day (default day)', values: ['hour', 'day'] },
    { name: 'from', help: 'first instant counted (default first: the first change)' },
    { name: 'to', help: 'last instant counted (default last: the last change)' },
    { name: 'zone', help: 'time zone whose hours and midnights start the buckets (default --tz)' },
  ],
  examples: ['mailtime getActivity alice@example.com', 'mailtime getActivity alice@example.com bucket hour from "01/03/2026 00:00:00" to "02/03/2026 00:00:00" --json'],
  exitCodes: ['2: a bad date or zone, or more than 20,000 buckets (use bucket day or a shorter window)'],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    const b = await ctx.backend()
    const account = foundOrFail(raw, await must(findAccount(b, raw)))
    const zone = validZone(attrs.zone ?? ctx.zone)
    if (E.isLeft(zone)) throw usage(describeDateError(zone.left))
    const unit = attrs.bucket === 'hour' ? 'hour' : 'day'
    const from = attrs.from === undefined ? (0 as Instant) : instantArg(attrs.from, ctx.zone, 'from', { first: true })
    const to = attrs.to === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.to, ctx.zone, 'to', { last: true })
    if (to < from) throw usage('getActivity: to is before from')
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
    if (buckets === undefined) throw usage(`getActivity: more than ${MAX_BUCKETS} ${unit} buckets; use bucket day or a shorter window`)
    const max = buckets.reduce((m, k) => Math.max(m, k.changes), 0)
    const peak = buckets.reduce<(typeof buckets)[number] | undefined>((p, k) => (k.deleted > (p?.deleted ?? 0) ? k : p), undefined)
    return {
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
      text:
        buckets.length === 0
          ? `${account}: no changes in that window`
          : [
              `${account}: ${changes.length} changes, per ${unit} in ${zone.right} (empty ${unit}s not shown)`,
              table([
                [unit, 'changes', 'created', 'deleted', 'moved', 'flags', ''],
                ...buckets.filter((k) => k.changes > 0).map((k) => [human(k.start, zone.right), String(k.changes), String(k.created), String(k.deleted), String(k.moved), String(k.flagged), bar(k.changes, max)]),
              ]),
              ...(peak !== undefined ? [`most deletions: ${peak.deleted} in the ${unit} from ${human(peak.start, zone.right)}`] : []),
            ].join('\n'),
    }
  },
}
