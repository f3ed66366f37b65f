/**
 * A backend whose events live in a store without a temporal index (EventStoreDB), and whose time
 * travel, operations streams and audit live in a SQLite or PostgreSQL store beside it: the copy
 * (`src/store/mirror.ts`). Writes go to the source; every time-travel query first copies what the
 * source gained since the last one, so a read never misses an appended event. A long-running
 * process (`serve`) also follows the source live (`follow`), so that queries find the copy warm.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../projections/errors'
import type { EventStore } from '../store/eventStore'
import { catchUpMirror } from '../store/mirror'
import type { Backend, TemporalIndex } from '../app/ports'

/** Something that calls back when the source may hold new events; returns how to stop. */
export type Follow = (onChange: () => void, onError: (e: StoreError) => void) => () => void

export interface MirroredBackend extends Backend {
  /** The store beside the source that holds the copy of its events. */
  readonly copy: EventStore
  /** Copies what the source gained (also done before every query); returns how many events were new. */
  sync(): TE.TaskEither<StoreError, number>
  /** Keeps the copy up to date in the background until the returned function is called. */
  follow(onError: (e: StoreError) => void): () => void
}

export const mirroredBackend = (source: EventStore, beside: Backend, subscribe?: Follow): MirroredBackend => {
  // One copy at a time: concurrent queries wait for the copy in flight instead of racing it.
  let running: Promise<E.Either<StoreError, number>> | undefined
  const sync = (): TE.TaskEither<StoreError, number> => () => {
    running ??= catchUpMirror(source, beside.store).finally(() => {
      running = undefined
    })
    return running
  }
  const first =
    <A extends unknown[], B>(f: (...a: A) => TE.TaskEither<StoreError, B>) =>
    (...a: A): TE.TaskEither<StoreError, B> =>
    async () => {
      const s = await sync()()
      return E.isLeft(s) ? s : f(...a)()
    }
  const ix = beside.index
  const index: TemporalIndex = {
    kind: ix.kind,
    accountEvents: first(ix.accountEvents),
    liveItemsAsOf: first(ix.liveItemsAsOf),
    liveRefsAsOf: first(ix.liveRefsAsOf),
    eachLiveItem: first(ix.eachLiveItem),
    foldersAsOf: first(ix.foldersAsOf),
    itemAsOf: first(ix.itemAsOf),
    itemHistory: first(ix.itemHistory),
    changesBetween: first(ix.changesBetween),
    deletedBetween: first(ix.deletedBetween),
    rebuild: first(ix.rebuild),
  }
  const follow = (onError: (e: StoreError) => void): (() => void) => {
    if (subscribe === undefined) return () => undefined
    return subscribe(() => {
      void sync()().then((r) => {
        if (E.isLeft(r)) onError(r.left)
      })
    }, onError)
  }
  return {
    store: source,
    copy: beside.store,
    index,
    blobs: beside.blobs,
    operations: beside.operations,
    sync,
    follow,
    close: async () => {
      await running
      await source.close()
      await beside.close()
    },
  }
}

export const isMirrored = (b: Backend): b is MirroredBackend => 'follow' in b && 'sync' in b
