/**
 * The one union of failures a use case returns (as the Left of its Either), and how each reads as
 * one line. Outcomes that are not errors (a partial restore, a stopped run) are fields of the use
 * case's result, not errors. The CLI maps an `AppError` to an exit code with one table
 * (`src/cli/failure.ts`), the HTTP API to a status with another (`src/server/explain.ts`).
 */
import * as E from 'fp-ts/Either'
import { type StoreError, StoreErrorRaised, describeStoreError } from '../../projections/errors'
import type { BlobError } from '../blobs/blobStore'
import { describeBlobError } from '../blobs/blobStore'
import type { DateError } from '../time/dates'
import { describeDateError } from '../time/dates'

export type AppError =
  /** Bad input: a word, a date, a parameter; the message names it. */
  | { readonly _tag: 'Usage'; readonly message: string }
  /** An unknown account, item, operation or path. */
  | { readonly _tag: 'NotFound'; readonly message: string }
  /** The event store or the operations streams failed (a concurrency conflict among them). */
  | { readonly _tag: 'Store'; readonly error: StoreError }
  | { readonly _tag: 'Blob'; readonly error: BlobError }
  /** The request contradicts the current state (stopping an operation that is not running). */
  | { readonly _tag: 'Conflict'; readonly message: string }
  /** A server the use case needs (IMAP, SMTP, the port) cannot be reached. */
  | { readonly _tag: 'Unavailable'; readonly message: string }
  /** An export (or other evidence) does not verify. */
  | { readonly _tag: 'Verify'; readonly message: string }

export const usageError = (message: string): AppError => ({ _tag: 'Usage', message })
export const notFoundError = (message: string): AppError => ({ _tag: 'NotFound', message })
export const conflictError = (message: string): AppError => ({ _tag: 'Conflict', message })
export const storeError = (error: StoreError): AppError => ({ _tag: 'Store', error })
export const dateError = (e: DateError): AppError => usageError(describeDateError(e))

export const describeAppError = (e: AppError): string => {
  switch (e._tag) {
    case 'Store':
      return describeStoreError(e.error)
    case 'Blob':
      return describeBlobError(e.error)
    default:
      return e.message
  }
}

/**
 * A use case's early exit. Use cases are written as straight-line async code; a check that fails
 * throws this, and `run` (the use case's boundary) turns it back into a Left. It never leaves
 * `src/app`: callers only ever see the Either.
 */
export class AppFailure extends Error {
  constructor(readonly error: AppError) {
    super(describeAppError(error))
  }
}

export const fail = (e: AppError): never => {
  throw new AppFailure(e)
}

/**
 * How an outcome that is not an error reads (the restore's and export's end state). The adapters map
 * it with their one table: an exit code, a job state.
 */
export type Outcome = 'done' | 'partial' | 'stopped' | 'failed'

/** The boundary of a use case: its early exits (and store errors raised in long loops) as a Left. */
export const caught = (e: unknown): AppError => {
  if (e instanceof AppFailure) return e.error
  if (e instanceof StoreErrorRaised) return storeError(e.error)
  throw e
}

/** Runs a use case's body: its value as a Right, its early exit as a Left. */
export const attempt = async <A>(body: () => Promise<A>): Promise<E.Either<AppError, A>> => {
  try {
    return E.right(await body())
  } catch (e) {
    return E.left(caught(e))
  }
}

/**
 * The kind of failure, which is what the adapters' tables are keyed by: a store's concurrency
 * conflict is a conflict, whatever layer raised it.
 */
export type ErrorKind = 'Usage' | 'NotFound' | 'Store' | 'Conflict' | 'Unavailable' | 'Verify'

export const kindOf = (e: AppError): ErrorKind => (e._tag === 'Store' ? (e.error._tag === 'ConcurrencyConflict' ? 'Conflict' : 'Store') : e._tag === 'Blob' ? 'Store' : e._tag)
