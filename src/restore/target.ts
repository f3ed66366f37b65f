/** The restore target port: where a plan is materialized (a Maildir tree, an IMAP account). */
import type * as E from 'fp-ts/Either'
import type { AppendIntent, ItemOutcome } from '../../domain/operations'
import type { RestorePlan } from '../../domain/restore/plan'
import type { BlobStore } from '../blobs/blobStore'

export type TargetError =
  /** The target cannot go on (down, refusing, full): the operation fails and the same command resumes. */
  | { readonly _tag: 'TargetFailure'; readonly target: string; readonly reason: string }
  /** The target has no such account: that account's items are unrestored, and the other accounts go on. */
  | { readonly _tag: 'NoSuchAccount'; readonly target: string; readonly account: string; readonly reason: string }

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

/**
 * The outcomes of a plan's folder items once the target has created the plan's folders: restored
 * where `locate` says the folder is, or skipped when an earlier run of the same restore recorded it.
 */
export const folderItemOutcomes = (plan: RestorePlan, journal: Journal, locate: (folder: readonly string[]) => string): ItemOutcome[] =>
  plan.folderItems.map((f) => {
    const earlier = journal.doneAt(plan.targetAccount, f.itemId)
    return earlier !== undefined
      ? { account: plan.targetAccount, itemId: f.itemId, outcome: 'skipped', location: earlier }
      : { account: plan.targetAccount, itemId: f.itemId, outcome: 'restored', location: locate(f.folder) }
  })
