/** The restore target port: where a plan is materialized (a Maildir tree, an IMAP account). */
import type * as E from 'fp-ts/Either'
import type { ItemId } from '../../domain/ids'
import type { RestorePlan } from '../../domain/restore/plan'
import type { BlobStore } from '../blobs/blobStore'

export type TargetError = { readonly _tag: 'TargetFailure'; readonly target: string; readonly reason: string }

export interface MaterializeReport {
  restored: number
  /** Items this operation had already written (a re-run): not written again. */
  skipped: number
  readonly unrestored: { itemId: ItemId; reason: string }[]
  /** Folder names the target could not hold as they were, and what they became. */
  readonly renamedFolders: { original: string[]; mapped: string }[]
  /** Where each restored item went (id map). */
  readonly locations: { itemId: ItemId; location: string }[]
}

export interface RestoreTarget {
  readonly description: string
  materialize(plan: RestorePlan, blobs: BlobStore, opKey: string, onProgress?: (done: number, total: number) => void): Promise<E.Either<TargetError, MaterializeReport>>
}
