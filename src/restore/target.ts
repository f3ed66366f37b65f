/** The restore target port: where a plan is materialized (a Maildir tree, an IMAP account). */
import type * as E from 'fp-ts/Either'
import type { AppendIntent, ItemOutcome } from '../../domain/operations'
import type { RestorePlan } from '../../domain/restore/plan'
import type { BlobStore } from '../blobs/blobStore'

export type TargetError = { readonly _tag: 'TargetFailure'; readonly target: string; readonly reason: string }

/**
 * What a target tells the operation as it works, and what it asks of it. Every outcome is recorded
 * in the operations stream before the target goes on, so a crash loses at most one batch's record,
 * and `pendingIntents` lets the next run find out whether that batch landed.
 */
export interface Journal {
  /** The same for every run of the same restore (command and target): names what it writes. */
  readonly key: string
  /** The location an earlier run (or this one) wrote the item to, if any: the item is skipped. */
  doneAt(account: string, itemId: number): string | undefined
  /** Batches earlier runs announced and never settled. */
  readonly pendingIntents: readonly AppendIntent[]
  intent(i: Omit<AppendIntent, 'type' | 'operationId' | 'at'>): Promise<void>
  record(outcomes: readonly ItemOutcome[]): Promise<void>
  /** True once `doStopOperation` (or a signal) asked this operation to stop; checked between batches. */
  stopRequested(): Promise<boolean>
}

export interface MaterializeReport {
  /** Folder names the target could not hold as they were, and what they became. */
  readonly renamedFolders: { original: string[]; mapped: string }[]
  /** The target stopped early because a stop was requested. */
  readonly stopped: boolean
}

export interface RestoreTarget {
  readonly description: string
  materialize(plan: RestorePlan, blobs: BlobStore, journal: Journal, onProgress?: (done: number, total: number) => void): Promise<E.Either<TargetError, MaterializeReport>>
}
