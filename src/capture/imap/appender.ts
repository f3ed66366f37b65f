/**
 * The scan's appender: records a scan's events (`diffAccount`) in batches, each appended with the
 * stream revision the scan expects and with a checkpoint in the same transaction; the last batch's
 * checkpoint is the scan's final one. The blobs the events name are synced before each batch (the
 * scanner stored them while reading, docs/reliability.md).
 *
 * Guarantees:
 * 1. A batch is appended only while the account's stream is where this scan left it: when another
 *    writer recorded first, it stops with `Concurrent` (and says what it had appended), before
 *    writing anything more.
 * 2. Until the last batch, the checkpoint marks no folder as up to date (see `AccountDiff.between`),
 *    so a scan killed between batches is finished by the next scan, which diffs against what was
 *    recorded.
 * 3. `shouldStop` is asked between batches; a stopped scan says it was interrupted.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../../domain/ids'
import { streamOfAccount } from '../../../domain/ids'
import type { MailEvent } from '../../../domain/events'
import { type BlobStore, describeBlobError } from '../../blobs/blobStore'
import type { EventStore } from '../../store/eventStore'
import { type ScanCheckpoint, checkpointName } from '../scanCheckpoint'
import type { AccountDiff } from './diffAccount'
import type { ScanError } from './report'

export interface AppendDeps {
  readonly store: EventStore
  readonly blobs: BlobStore
  /** Events per append (and checkpoint); default 1000. */
  readonly batchSize?: number
  /** Asked between batches; true stops after the batch it is on. */
  readonly shouldStop?: () => boolean
  /** Called after each batch is appended with its checkpoint (fault injection in tests). */
  readonly afterBatch?: (batch: number) => Promise<void>
  /** Test-only planted bug: every batch writes the final checkpoint (see `ScanDeps.plantedBug`). */
  readonly plantedBug?: 'checkpoint-ahead'
}

export interface Appended {
  readonly appended: number
  readonly interrupted: boolean
}

/** `events` in batches of `size`; one empty batch when there are none (the checkpoint is still written). */
export const batchesOf = <T>(events: readonly T[], size: number): T[][] =>
  events.length === 0 ? [[]] : Array.from({ length: Math.ceil(events.length / size) }, (_, i) => events.slice(i * size, (i + 1) * size))

/** The checkpoint of a batch before the last: `between`, handing out ids after every item the batches so far created. Pure. */
export const checkpointAfter = (between: ScanCheckpoint, recorded: Iterable<MailEvent>): ScanCheckpoint => {
  let next = between.nextItemId
  for (const e of recorded) if (e.type === 'ItemCreated') next = Math.max(next, e.itemId + 1)
  return { ...between, nextItemId: next }
}

/** Appends a scan's events after `expected` (the stream's revision when the scan began). */
export const appendScan = async (
  deps: AppendDeps,
  account: AccountId,
  diff: Pick<AccountDiff, 'events' | 'checkpoint' | 'between'>,
  expected0: number,
): Promise<E.Either<ScanError, Appended>> => {
  const stream = streamOfAccount(account)
  const batches = batchesOf(diff.events, deps.batchSize ?? 1000)
  let appended = 0
  let expected = expected0
  let between = diff.between
  const concurrent = (actual: number): E.Either<ScanError, never> => E.left({ _tag: 'Concurrent', account, expected, actual, appended })
  for (const [i, batch] of batches.entries()) {
    const lastBatch = i === batches.length - 1
    between = checkpointAfter(between, batch)
    const cp = lastBatch || deps.plantedBug === 'checkpoint-ahead' ? diff.checkpoint : between
    // Another writer recorded first: this scan's diff is stale. (A batch made only of events the
    // store already holds would otherwise succeed, and the scan go on from a head it did not write.)
    const head = await deps.store.streamRevision(stream)()
    if (E.isLeft(head)) return E.left({ _tag: 'Store', error: head.left })
    if (head.right !== expected) return concurrent(head.right)
    // The blobs these events name are durable before the events are (docs/reliability.md).
    const synced = deps.blobs.sync()
    if (E.isLeft(synced)) return E.left({ _tag: 'Blob', message: describeBlobError(synced.left) })
    const r = await deps.store.appendToStream(stream, batch, { expectedRevision: expected, checkpoint: { name: checkpointName(account), value: JSON.stringify(cp) } })()
    if (E.isLeft(r)) return r.left._tag === 'ConcurrencyConflict' ? concurrent(r.left.actual) : E.left({ _tag: 'Store', error: r.left })
    if (r.right.lastRevision !== expected + r.right.appended) return concurrent(r.right.lastRevision)
    appended += r.right.appended
    expected = r.right.lastRevision
    await deps.afterBatch?.(i + 1)
    if (!lastBatch && deps.shouldStop?.() === true) return E.right({ appended, interrupted: true })
  }
  return E.right({ appended, interrupted: false })
}
