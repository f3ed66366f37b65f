/** An account's folder trees at instants, each read once for the life of a command. */
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { type FolderTree, folderTree } from '../../projections/folderTree'
import type { ReadBackend } from '../app/backend'
import { must } from './render'

export const folderTreesOf = (b: ReadBackend, account: AccountId): ((at: number) => Promise<FolderTree>) => {
  const cache = new Map<number, FolderTree>()
  return async (at) => {
    const hit = cache.get(at)
    if (hit !== undefined) return hit
    const t = folderTree(await must(b.index.foldersAsOf(account, { validAt: at as Instant })))
    cache.set(at, t)
    return t
  }
}
