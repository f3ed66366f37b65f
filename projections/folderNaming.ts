/**
 * How a folder is named as of an instant: the one rule every verb, account view, diff, export and
 * restore plan uses, so that no two of them can show one folder under two names.
 *
 * 1. A folder alive at the instant has the path it had then.
 * 2. A folder gone by then (deleted or purged) has the name and parent it had when it went: a message
 *    deleted with its folder is named in that folder, not `unknown_<id>`.
 * 3. System folders have Carbonio's names (`/Inbox`, `/Trash`…); `unknown_<id>` is left for folders
 *    the backup knows nothing of at the instant: never learned, or recorded only later. (Nothing
 *    after the instant is used, so that an export, whose timeline ends at its last state, names
 *    folders as the account's full history does.)
 *
 * Rule 2 applies along the parents too. The live folders come from one query; every other
 * folder costs one seek into its history (cached for the life of a `FolderNamer`), and only the
 * folders an answer names are looked up, so an account whose items are all in live folders costs
 * nothing more.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { AccountId, ItemId } from '../domain/ids'
import type { Instant } from '../domain/instant'
import { isSystemFolder, FolderIds } from '../domain/folders'
import type { ItemState } from '../domain/state'
import type { StoreError } from './errors'
import { type FolderTree, folderTree } from './folderTree'
import type { AsOf, TimeTravel } from './timeTravel'
import type { ItemVersion } from './versions'

/** The state that names a folder at `at` among its versions (rules 1 and 2); undefined before the first. */
export const namingState = (versions: readonly ItemVersion[], at: number): ItemState | undefined =>
  versions.find((v) => v.validFrom <= at && (v.validTo === null || v.validTo > at))?.state

/** Folder histories read so far, by folder id (the same at every instant). */
export type Histories = Map<number, readonly ItemVersion[]>

const needsLookup = (id: number): boolean => id !== FolderIds.USER_ROOT && id !== FolderIds.ROOT && !isSystemFolder(id)

/**
 * The tree that names, as of `at`, the live folders `live` (what `foldersAsOf` answered for `at`),
 * the folders of `wanted` and every parent on their paths.
 */
export const completeFolderTree =
  (tt: TimeTravel, account: AccountId, at: AsOf, live: readonly ItemState[], wanted: Iterable<number>, histories: Histories = new Map()): TE.TaskEither<StoreError, FolderTree> =>
  async () => {
    const states = new Map<number, ItemState>()
    for (const f of live) if (f.itemType === 'folder') states.set(f.itemId, f)
    let todo = [...new Set([...wanted, ...[...states.values()].map((f) => f.folderId as number)])]
    const looked = new Set<number>()
    while (todo.length > 0) {
      const next: number[] = []
      for (const id of todo) {
        if (states.has(id) || looked.has(id) || !needsLookup(id)) continue
        looked.add(id)
        let h = histories.get(id)
        if (h === undefined) {
          const r = await tt.itemHistory(account, id as ItemId, at.knownAt)()
          if (E.isLeft(r)) return r
          h = r.right
          histories.set(id, h)
        }
        const s = namingState(h, at.validAt)
        if (s === undefined || s.itemType !== 'folder') continue
        states.set(id, s)
        next.push(s.folderId)
      }
      todo = next
    }
    return E.right(folderTree([...states.values()]))
  }

/** Folder trees of one account at instants, for one answer that names folders at many (an item's versions). */
export interface FolderNamer {
  /** The tree as of `validAt` that names the folders of `wanted`. */
  treeAt(validAt: number, wanted: Iterable<number>): TE.TaskEither<StoreError, FolderTree>
}

/** A namer that reads each instant's live folders and each folder's history once. */
export const folderNamer = (tt: TimeTravel, account: AccountId, knownAt?: Instant): FolderNamer => {
  const liveAt = new Map<number, readonly ItemState[]>()
  const histories: Histories = new Map()
  return {
    treeAt: (validAt, wanted) => async () => {
      const at: AsOf = { validAt: validAt as Instant, ...(knownAt !== undefined && { knownAt }) }
      let live = liveAt.get(validAt)
      if (live === undefined) {
        const r = await tt.foldersAsOf(account, at)()
        if (E.isLeft(r)) return r
        live = r.right
        liveAt.set(validAt, live)
      }
      return completeFolderTree(tt, account, at, live, wanted, histories)()
    },
  }
}
