/** Date words on the command line, resolved to instants in the settings' zone. */
import * as E from 'fp-ts/Either'
import { MAX_INSTANT, type Instant, instant } from '../../domain/instant'
import { parseDate } from '../time/dates'
import { fromDateError, usage } from './failure'

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
