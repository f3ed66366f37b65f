/**
 * Reads the deletions an undelete window may be missing (see domain/restore/undeleteWindow.ts) from
 * the account's stream: only the events recorded after the window's end, found by a binary search
 * on the stream's revisions, and only until a scan's bounding interval begins after the window.
 *
 * Non-guarantee: the search assumes that events are recorded in time order in a stream (true of
 * every writer; a store merged from two clocks could make it miss some, never count one wrongly).
 */
import type { AccountId } from '../../domain/ids'
import { streamOfAccount } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { type BoundedDeletions, deletionsPossiblyIn, pastTheWindow } from '../../domain/restore/undeleteWindow'
import type { MailEvent } from '../../domain/events'
import { orRaise } from '../../projections/errors'
import type { EventStore } from '../store/eventStore'

const PAGE = 1000

export const readDeletionsPossiblyIn = async (store: EventStore, account: AccountId, window: { readonly from: Instant; readonly to: Instant }, found: ReadonlySet<number>): Promise<BoundedDeletions[]> => {
  const stream = streamOfAccount(account)
  const last = await orRaise(store.streamRevision(stream))
  if (last < 0) return []
  const recordedAt = async (revision: number): Promise<number> => (await orRaise(store.readStream(stream, { from: revision, maxCount: 1 })))[0]?.event.recordedAt ?? Number.MAX_SAFE_INTEGER
  // The first revision recorded after the window's end.
  let lo = 0
  let hi = last + 1
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2)
    if ((await recordedAt(mid)) > window.to) hi = mid
    else lo = mid + 1
  }
  const after: MailEvent[] = []
  for (let from = lo; from <= last; from += PAGE) {
    const page = await orRaise(store.readStream(stream, { from, maxCount: PAGE }))
    const end = page.findIndex((s) => pastTheWindow(s.event, window.to))
    after.push(...(end < 0 ? page : page.slice(0, end)).map((s) => s.event))
    if (end >= 0 || page.length < PAGE) break
  }
  return deletionsPossiblyIn(after, window, found)
}
