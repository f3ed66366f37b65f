/**
 * `getActivity`: changes per hour or day in an account, deletions apart, for "when did the mass
 * deletion happen?" (the web console plots it; the CLI draws bars).
 */
import { getActivity as activityOf } from '../../app/activity'
import { appDeps } from '../appDeps'
import { orExit } from '../failure'
import type { Verb } from '../grammar'
import { human, table } from '../render'

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
    const r = orExit(
      await activityOf(appDeps(ctx), {
        account: raw,
        ...(attrs.bucket !== undefined && { bucket: attrs.bucket === 'hour' ? 'hour' : 'day' }),
        ...(attrs.from !== undefined && { from: attrs.from }),
        ...(attrs.to !== undefined && { to: attrs.to }),
        ...(attrs.zone !== undefined && { zone: attrs.zone }),
      }),
    )
    const { account, unit, buckets, peak } = r
    const max = buckets.reduce((m, k) => Math.max(m, k.changes), 0)
    return {
      json: r.json,
      text:
        buckets.length === 0
          ? `${account}: no changes in that window`
          : [
              `${account}: ${r.total} changes, per ${unit} in ${r.zone} (empty ${unit}s not shown)`,
              table([
                [unit, 'changes', 'created', 'deleted', 'moved', 'flags', ''],
                ...buckets
                  .filter((k) => k.changes > 0)
                  .map((k) => [human(k.start, r.zone), String(k.changes), String(k.created), String(k.deleted), String(k.moved), String(k.flagged), bar(k.changes, max)]),
              ]),
              ...(peak !== undefined ? [`most deletions: ${peak.deleted} in the ${unit} from ${human(peak.start, r.zone)}`] : []),
            ].join('\n'),
    }
  },
}
