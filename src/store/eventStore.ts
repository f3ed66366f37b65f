/**
 * The event store port: account streams of `MailEvent`s with optimistic concurrency, idempotent
 * appends, and a global order for projectors. Every adapter (SQLite, PostgreSQL, EventStoreDB)
 * passes the same contract suite (`test/contract/eventStoreContract.ts`).
 *
 * Guarantees:
 * 1. Appending an event whose `eventId` is already stored (in any stream) appends nothing and is
 *    not an error; a batch made only of such events succeeds whatever the expected revision.
 * 2. With `expectedRevision`, new events are appended only if the stream's last revision equals
 *    it (`-1`: the stream must not exist); otherwise nothing is written and the result is a
 *    `ConcurrencyConflict`.
 * 3. A checkpoint passed with an append is written in the same transaction as the events.
 * 4. Revisions start at 0 and have no gaps; global positions only grow.
 */
import type * as TE from 'fp-ts/TaskEither'
import type { MailEvent } from '../../domain/events'
import type { Instant } from '../../domain/instant'
import type { StoreError } from '../../projections/errors'

export type ExpectedRevision = number | 'any'

export interface StoredEvent {
  readonly stream: string
  readonly revision: number
  readonly globalPosition: number
  readonly event: MailEvent
  /**
   * The event's JSON text exactly as the store holds it, when the read asked for it (`withText`)
   * and the adapter keeps one (SQLite and PostgreSQL); it decodes to `event`. An export writes it
   * as it is instead of encoding the event again.
   */
  readonly text?: string
}

export interface AppendResult {
  /** The stream's last revision after the append (-1 if the stream still does not exist). */
  readonly lastRevision: number
  readonly appended: number
  /** Events skipped because their id was already stored. */
  readonly duplicates: number
}

export interface Checkpoint {
  readonly name: string
  readonly value: string
}

export interface AppendOptions {
  readonly expectedRevision?: ExpectedRevision
  readonly checkpoint?: Checkpoint
}

export interface ReadOptions {
  /** First revision to read (forwards) or last one (backwards). */
  readonly from?: number
  readonly direction?: 'forwards' | 'backwards'
  readonly maxCount?: number
  /** Also give each event's stored JSON text (`StoredEvent.text`), where the adapter keeps one. */
  readonly withText?: boolean
}

export interface EventStore {
  /** A display name without secrets, e.g. `sqlite:/var/lib/mailtime/mailtime.db`. */
  readonly description: string
  appendToStream(stream: string, events: readonly MailEvent[], options?: AppendOptions): TE.TaskEither<StoreError, AppendResult>
  readStream(stream: string, options?: ReadOptions): TE.TaskEither<StoreError, StoredEvent[]>
  /** The stream's events whose valid time is at or before the instant, in revision order. */
  readStreamUntil(stream: string, until: Instant): TE.TaskEither<StoreError, StoredEvent[]>
  /** Events of all streams after a global position, in global order. */
  readAll(options: { readonly after?: number; readonly maxCount?: number }): TE.TaskEither<StoreError, StoredEvent[]>
  /** Last revision of a stream, -1 when it does not exist. */
  streamRevision(stream: string): TE.TaskEither<StoreError, number>
  listStreams(prefix?: string): TE.TaskEither<StoreError, string[]>
  readCheckpoint(name: string): TE.TaskEither<StoreError, string | undefined>
  close(): Promise<void>
}
