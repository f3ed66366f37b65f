/**
 * Reads the deletions an undelete window may be missing (see domain/restore/undeleteWindow.ts) from
 * the account's stream: only the events recorded after the window's end, found by a binary search
 * on the stream's revisions, and only until a scan's bounding interval begins after the window.
 *
 * A deletion a log import has since pinned (`importLog`: the item's deletion instant, as the index
 * folds it, is before the scan's) is no longer "dated by a scan": it is not counted.
 *
 * Non-guarantee: the search assumes that events are recorded in time order in a stream (true of
 * every writer; a store merged from two clocks could make it miss some, never count one wrongly).
 */
import type { AccountId } from '../../domain/ids'
import { streamOfAccount } from '../../domain/ids'
import { type Instant, MAX_INSTANT } from '../../domain/instant'
import { type BoundedDeletions, deletionsPossiblyIn, pastTheWindow } from '../../domain/restore/undeleteWindow'
import type { MailEvent } from '../../domain/events'
import { orRaise } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import type { ItemId } from '../../domain/ids'
import type { EventStore } from '../store/eventStore'

const PAGE = 1000

export const readDeletionsPossiblyIn = async (
  store: EventStore,
  index: TimeTravel,
  account: AccountId,
  window: { readonly from: Instant; readonly to: Instant },
  found: ReadonlySet<number>,
): Promise<BoundedDeletions[]> => {
  const stream = streamOfAccount(account)
  const last = await orRaise(store.streamRevision(stream))
  if (last < 0) return []
  const recordedAt = async (revision: number): Promise<number> =>
    (await orRaise(store.readStream(stream, { from: revision, maxCount: 1 })))[0]?.event.recordedAt ?? Number.MAX_SAFE_INTEGER
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
  // Deletions still dated only by the scan: an item whose deletion the index dates earlier was
  // pinned by a log import (a deletion seen twice keeps the first instant).
  const pinned = new Set<number>()
  for (const e of after) {
    const w = e.occurredWindow
    if (e.type !== 'ItemDeleted' || w === undefined || found.has(e.itemId) || pinned.has(e.itemId)) continue
    if (e.occurredAt <= window.to || w.from > window.to || w.to < window.from) continue
    const v = await orRaise(index.itemAsOf(account, e.itemId as ItemId, { validAt: MAX_INSTANT as Instant }))
    const at = v?.state.deletedAt
    if (at !== undefined && at < e.occurredAt) pinned.add(e.itemId)
  }
  return deletionsPossiblyIn(after, window, pinned.size === 0 ? found : new Set([...found, ...pinned]))
}
