/** Date words on the command line, resolved to instants in the settings' zone, and the notes they deserve. */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, type Instant, instant } from '../../domain/instant'
import { accountSource } from '../../projections/accountSource'
import { parseDate } from '../time/dates'
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

export { type GivenDate, dateNotes } from '../app/support'
import { type GivenDate, dateNotes } from '../app/support'

/** Writes the notes of the dates given on stderr (`ctx.warn`: shown with --json too, not with --quiet). */
export const noteDates = async (ctx: Context, account: AccountId, dates: readonly GivenDate[]): Promise<void> => {
  const given = dates.filter((d) => d.at > 0 && d.at < MAX_INSTANT)
  if (given.length === 0) return
  const source = accountSource(await must((await ctx.backend()).index.accountEvents(account)))
  for (const d of given) for (const n of dateNotes(d, ctx.now(), ctx.zone, account, source)) ctx.warn(n)
}
