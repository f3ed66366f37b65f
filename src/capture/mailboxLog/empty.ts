/**
 * What `Emptying N items from <folder>, removeSubfolders=…` deletes, from the items alive at that
 * instant: the items in the folder, and with removeSubfolders=true its subfolders too, with
 * everything in them (items before their folders, deepest folders first, as a folder is never
 * deleted before what it holds). Pure.
 */
import type { ItemState } from '../../../domain/state'
import { folderTree } from '../../../projections/folderTree'

export const emptiedItems = (live: readonly ItemState[], folderPath: string, removeSubfolders: boolean): ItemState[] => {
  const tree = folderTree(live.filter((s) => s.itemType === 'folder'))
  const wanted = (folderPath.startsWith('/') ? folderPath : `/${folderPath}`).toLowerCase()
  const inside = (p: string) => p.toLowerCase().startsWith(`${wanted}/`)
  const emptied = (folderId: number) => {
    const p = tree.pathOf(folderId)
    return p.toLowerCase() === wanted || (removeSubfolders && inside(p))
  }
  const items = live.filter((s) => s.itemType !== 'folder' && emptied(s.folderId))
  const subfolders = removeSubfolders
    ? live
        .filter((s) => s.itemType === 'folder' && inside(tree.pathOf(s.itemId)))
        .sort((a, b) => tree.segmentsOf(b.itemId).length - tree.segmentsOf(a.itemId).length || a.itemId - b.itemId)
    : []
  return [...items, ...subfolders]
}
