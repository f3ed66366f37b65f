/**
 * Failures a store or a projection reports as values. Each names what it failed on, so the CLI can
 * print one precise line.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'

export type StoreError =
  | { readonly _tag: 'ConcurrencyConflict'; readonly stream: string; readonly expected: number; readonly actual: number }
  | { readonly _tag: 'StoreUnavailable'; readonly store: string; readonly reason: string }
  | { readonly _tag: 'CorruptEvent'; readonly stream: string; readonly revision: number; readonly reason: string }
  | { readonly _tag: 'StoreFailure'; readonly store: string; readonly reason: string }

export const storeFailure = (store: string, e: unknown): StoreError => ({
  _tag: 'StoreFailure',
  store,
  reason: e instanceof Error ? e.message : String(e),
})

export const describeStoreError = (e: StoreError): string => {
  switch (e._tag) {
    case 'ConcurrencyConflict':
      return `concurrent write on stream ${e.stream}: expected revision ${e.expected}, found ${e.actual}`
    case 'StoreUnavailable':
      return `cannot open store ${e.store}: ${e.reason}`
    case 'CorruptEvent':
      return `stored event ${e.stream}@${e.revision} cannot be decoded: ${e.reason}`
    case 'StoreFailure':
      return `store ${e.store} failed: ${e.reason}`
  }
}

/**
 * A store error raised through code that reads and writes in long loops (purge, export, migration,
 * the operations stream) instead of threading an Either through every step. The CLI's one error
 * handler turns it back into the store error's message and exit code.
 */
export class StoreErrorRaised extends Error {
  constructor(readonly error: StoreError) {
    super(describeStoreError(error))
  }
}

/**
 * Runs an adapter's async work as a TaskEither: a `StoreErrorRaised` from inside becomes its error,
 * anything else a `StoreFailure` naming the store.
 */
export const attemptStore =
  (where: string) =>
  <A>(f: () => Promise<A>): TE.TaskEither<StoreError, A> =>
  async () => {
    try {
      return E.right(await f())
    } catch (e) {
      return E.left(e instanceof StoreErrorRaised ? e.error : storeFailure(where, e))
    }
  }

export const orRaise = async <A>(te: TE.TaskEither<StoreError, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new StoreErrorRaised(r.left)
  return r.right
}
