/** Date words on the command line, resolved to instants in the settings' zone, and the notes they deserve. */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, type Instant, instant } from '../../domain/instant'
import { type AccountSource, accountSource } from '../../projections/accountSource'
import { formatInstant, parseDate } from '../time/dates'
import { fromDateError, usage } from './failure'
import type { Context } from './grammar'
import { must } from './render'

export const instantArg = (raw: string, zone: string, what: string, allow: { first?: boolean; last?: boolean } = {}): Instant => {
  const r = parseDate(raw, zone)
  if (E.isLeft(r)) throw fromDateError(r.left)
  const d = r.right
  if (d.kind === 'first') {
    if (allow.first !== true) throw usage(`${what} cannot be "first"`)
    return instant(0)
  }
  if (d.kind === 'last') {
    if (allow.last !== true) throw usage(`${what} cannot be "last"`)
    return MAX_INSTANT as Instant
  }
  return d.at
}

/** A date given for a query, by the name of its argument; `asOf` for a valid-time instant (not `known_at`). */
export interface GivenDate {
  readonly what: string
  readonly at: Instant
  readonly asOf: boolean
}

/**
 * The notes a date deserves (pure); none for `first` and `last`. A date in the future is accepted:
 * the backup holds nothing later than now. A valid-time date before an IMAP account's first scan
 * shows a state rebuilt from what that scan found.
 */
export const dateNotes = (d: GivenDate, now: Instant, zone: string, account: AccountId, source: AccountSource): string[] => {
  if (d.at <= 0 || d.at >= MAX_INSTANT) return []
  const notes: string[] = []
  if (d.at > now)
    notes.push(`mailtime: note: ${d.what} ${formatInstant(d.at, zone)} is in the future (now is ${formatInstant(now, zone)}); the backup holds nothing later than now`)
  if (d.asOf && source.firstCaptureAt !== undefined && d.at < source.firstCaptureAt)
    notes.push(
      `mailtime: note: ${d.what} ${formatInstant(d.at, zone)} is before the first scan of ${account} (${formatInstant(source.firstCaptureAt, zone)}): ` +
        'the state then is rebuilt from the messages that scan found, dated by their INTERNALDATE; what was deleted, moved or re-flagged before it is unknown',
    )
  return notes
}

/** Writes the notes of the dates given on stderr (`ctx.warn`: shown with --json too, not with --quiet). */
export const noteDates = async (ctx: Context, account: AccountId, dates: readonly GivenDate[]): Promise<void> => {
  const given = dates.filter((d) => d.at > 0 && d.at < MAX_INSTANT)
  if (given.length === 0) return
  const source = accountSource(await must((await ctx.backend()).index.accountEvents(account)))
  for (const d of given) for (const n of dateNotes(d, ctx.now(), ctx.zone, account, source)) ctx.warn(n)
}
