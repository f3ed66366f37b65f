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
  /** What the target wrote otherwise than it was (each with the items it concerns): the report shows it. */
  readonly warnings: readonly string[]
  /** The target stopped early because a stop was requested. */
  readonly stopped: boolean
}

export interface RestoreTarget {
  readonly description: string
  materialize(plan: RestorePlan, blobs: BlobStore, journal: Journal, onProgress?: (done: number, total: number) => void): Promise<E.Either<TargetError, MaterializeReport>>
}

/**
 * The folders a target could not create (a name too long for it, a name the server refuses), by
 * their segments in the plan. A folder below a refused one is refused with it: nothing can be put
 * there. Their items are unrestored with the reason, and the restore goes on with the others, as it
 * does for a message the server refuses.
 */
export interface RefusedFolders {
  refuse(folder: readonly string[], why: string): void
  /** Why nothing can be written into `folder` (it, or a folder above it, was refused), if so. */
  reasonFor(folder: readonly string[]): string | undefined
}

export const refusedFolders = (): RefusedFolders => {
  const refused = new Map<string, string>()
  return {
    refuse: (folder, why) => void refused.set(JSON.stringify(folder), `the target cannot hold folder /${folder.join('/')}: ${why}`),
    reasonFor: (folder) => {
      for (let n = 1; n <= folder.length; n++) {
        const why = refused.get(JSON.stringify(folder.slice(0, n)))
        if (why !== undefined) return why
      }
      return undefined
    },
  }
}

/**
 * The outcomes of a plan's folder items once the target has created the plan's folders: restored
 * where `locate` says the folder is, skipped when an earlier run of the same restore recorded it, or
 * unrestored when the target could not create it.
 */
export const folderItemOutcomes = (plan: RestorePlan, journal: Journal, locate: (folder: readonly string[]) => string, refused?: RefusedFolders): ItemOutcome[] =>
  plan.folderItems.map((f) => {
    const earlier = journal.doneAt(plan.targetAccount, f.itemId)
    const why = refused?.reasonFor(f.folder)
    return earlier !== undefined
      ? { account: plan.targetAccount, itemId: f.itemId, outcome: 'skipped', location: earlier }
      : why !== undefined
        ? { account: plan.targetAccount, itemId: f.itemId, outcome: 'unrestored', reason: why }
        : { account: plan.targetAccount, itemId: f.itemId, outcome: 'restored', location: locate(f.folder) }
  })
