/**
 * The operations-stream port. Each operation is its own stream of `OperationEvent`s; appends are
 * durable when they return, so a crash loses at most the batch being written.
 */
import type * as TE from 'fp-ts/TaskEither'
import type { OperationEvent } from '../../domain/operations'
import type { StoreError } from '../../projections/errors'

export interface OperationLog {
  append(operationId: string, events: readonly OperationEvent[]): TE.TaskEither<StoreError, void>
  read(operationId: string): TE.TaskEither<StoreError, OperationEvent[]>
  /** Whether a stop was requested (checked between batches, so it must not read the whole stream). */
  stopRequested(operationId: string): TE.TaskEither<StoreError, boolean>
  /** Every operation id, oldest first. */
  list(): TE.TaskEither<StoreError, string[]>
  /** Ids of the operations started with this resume key, oldest first. */
  byResumeKey(resumeKey: string): TE.TaskEither<StoreError, string[]>
  /**
   * Ids of the operations that have a resume key (the restores), oldest first: what a scan reads to
   * recognise restored messages, without reading the many other operations (every scan is one).
   */
  restores(): TE.TaskEither<StoreError, string[]>
}
