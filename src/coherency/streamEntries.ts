/**
 * Reads a stream page by page through the event store port, and keeps going past rows that do not
 * decode: a store's read fails at the first undecodable row (naming its revision), so the rows
 * before it are read again in smaller pages, the bad row is reported as an entry, and reading goes
 * on after it. Memory is one page.
 */
import * as E from 'fp-ts/Either'
import type { StoreError } from '../../projections/errors'
import type { EventStore, StoredEvent } from '../store/eventStore'

export type Entry = { readonly _tag: 'Event'; readonly stored: StoredEvent } | { readonly _tag: 'Undecodable'; readonly revision: number; readonly reason: string }

export const PAGE_SIZE = 1000

/** Yields the stream's entries in revision order, one page at a time; a read failure other than an undecodable row is yielded as a Left, and ends it. */
export async function* streamEntries(store: EventStore, stream: string, pageSize = PAGE_SIZE): AsyncGenerator<E.Either<StoreError, Entry[]>> {
  let from = 0
  let size = pageSize
  for (;;) {
    const r = await store.readStream(stream, { from, maxCount: size })()
    if (E.isRight(r)) {
      const last = r.right[r.right.length - 1]
      if (last === undefined) return
      yield E.right(r.right.map((stored) => ({ _tag: 'Event', stored })))
      from = last.revision + 1
      size = pageSize
      continue
    }
    const e = r.left
    if (e._tag !== 'CorruptEvent' || e.stream !== stream || e.revision < from) {
      yield E.left(e)
      return
    }
    if (e.revision === from) {
      yield E.right([{ _tag: 'Undecodable', revision: e.revision, reason: e.reason }])
      from = e.revision + 1
      size = pageSize
      continue
    }
    // Rows before the bad one decode; a page that still reaches it (holes before it) is halved.
    // A page of one row that fails means no row lies between `from` and the bad one.
    if (size === 1) from = e.revision
    else size = Math.max(1, Math.min(Math.floor(size / 2), e.revision - from))
  }
}
