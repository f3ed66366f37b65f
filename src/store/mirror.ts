/**
 * A read model beside a store that keeps no temporal index itself (EventStoreDB): the account
 * streams copied, in global order, into a SQLite or PostgreSQL store, whose own temporal index and
 * operations streams then serve time travel, restores and audit.
 *
 * Why a copy of the events and not just the index rows: the index re-folds an item from all of its
 * events when a late fact lands in the item's past, so it needs them at hand, indexed by item.
 *
 * Guarantees:
 * 1. Each page's events and the source position reached are written in one transaction of the
 *    copy (the append's checkpoint), so a crash between pages re-reads at most one page, and the
 *    copy's id check turns that page into duplicates.
 * 2. The copy's revisions equal the source's: a stream whose copy would get other revisions (an
 *    event missing, or a copy written by something else) is refused with a `CorruptEvent` naming
 *    the stream and revision, never indexed out of order.
 */
import * as E from 'fp-ts/Either'
import type { StoreError } from '../../projections/errors'
import type { EventStore, StoredEvent } from './eventStore'

const PAGE = 1000

/** The checkpoint the copy keeps for a source, named after the source without its secrets. */
export const mirrorCheckpoint = (source: EventStore): string => `mirror:${source.description}`

/** Splits a page into runs of consecutive events of one stream (an append takes one stream). */
const runsOf = (page: readonly StoredEvent[]): StoredEvent[][] => {
  const runs: StoredEvent[][] = []
  for (const e of page) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last[0]?.stream === e.stream) last.push(e)
    else runs.push([e])
  }
  return runs
}

/** Copies every source event after the copy's checkpoint; returns how many were new to the copy. */
export const catchUpMirror = async (source: EventStore, copy: EventStore): Promise<E.Either<StoreError, number>> => {
  const name = mirrorCheckpoint(source)
  const cp = await copy.readCheckpoint(name)()
  if (E.isLeft(cp)) return cp
  let after = cp.right === undefined ? undefined : Number(cp.right)
  let fresh = 0
  for (;;) {
    const page = await source.readAll({ ...(after !== undefined && { after }), maxCount: PAGE })()
    if (E.isLeft(page)) return page
    for (const run of runsOf(page.right)) {
      const first = run[0] as StoredEvent
      const last = run[run.length - 1] as StoredEvent
      const head = await copy.streamRevision(first.stream)()
      if (E.isLeft(head)) return head
      // Events the copy already holds (a page read again after a crash) are skipped by their ids;
      // anything else must continue the copied stream exactly.
      const known = run.filter((e) => e.revision <= head.right)
      const rest = run.slice(known.length)
      const next = rest[0]
      if (next !== undefined && next.revision !== head.right + 1)
        return E.left({
          _tag: 'CorruptEvent',
          stream: next.stream,
          revision: next.revision,
          reason: `the copy beside the store holds revisions up to ${head.right}: an event is missing before this one (remove the copy named by --index; the next command copies the source again)`,
        })
      const r = await copy.appendToStream(
        first.stream,
        rest.map((e) => e.event),
        { ...(rest.length > 0 && { expectedRevision: head.right }), checkpoint: { name, value: String(last.globalPosition) } },
      )()
      if (E.isLeft(r)) return r
      if (rest.length > 0 && r.right.lastRevision !== last.revision)
        return E.left({
          _tag: 'CorruptEvent',
          stream: last.stream,
          revision: last.revision,
          reason: `copied as revision ${r.right.lastRevision}: the copy beside the store has other events in this stream (remove the copy named by --index; the next command copies the source again)`,
        })
      fresh += r.right.appended
    }
    const tail = page.right[page.right.length - 1]
    if (tail === undefined || page.right.length < PAGE) return E.right(fresh)
    after = tail.globalPosition
  }
}
