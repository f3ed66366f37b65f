/**
 * An account's folder trees at instants for the life of a command, named by the one rule of
 * `projections/folderNaming.ts` (each instant's live folders and each folder's history read once).
 */
import type { AccountId } from '../../domain/ids'
import type { FolderTree } from '../../projections/folderTree'
import { folderNamer } from '../../projections/folderNaming'
import type { ReadBackend } from '../app/ports'
import { must } from './render'

/** `(at, wanted)`: the tree as of `at` that names the folders of `wanted` (the folders an answer shows) and their parents. */
export const folderTreesOf = (b: ReadBackend, account: AccountId): ((at: number, wanted?: Iterable<number>) => Promise<FolderTree>) => {
  const namer = folderNamer(b.index, account)
  return async (at, wanted = []) => must(namer.treeAt(at, wanted))
}
