/**
 * The folder tree at one instant: folder paths from folder states, with Carbonio's system folders
 * always present and `unknown_<id>` for folders whose name the backup never learned.
 */
import { SYSTEM_FOLDERS, isSystemFolder, joinPath, unknownFolderName, FolderIds } from '../domain/folders'
import type { ItemState } from '../domain/state'

export interface FolderTree {
  /** Path of a folder id, e.g. `/Inbox/Projects`; the user root is `/`. */
  pathOf(folderId: number): string
  /** Name of a folder id at that instant. */
  nameOf(folderId: number): string
  /** Parent id of a folder (the user root for top-level and unknown folders). */
  parentOf(folderId: number): number
  /** Folder ids known at that instant (user folders plus visible system folders). */
  ids(): number[]
  /** The names from the top level down (`['Projects', 'Alpha']`); names may themselves hold `/`. */
  segmentsOf(folderId: number): string[]
  /** Whether the folder (and so its name) is known at that instant, or is a system folder. */
  has(folderId: number): boolean
}

export const folderTree = (folders: readonly ItemState[]): FolderTree => {
  const byId = new Map<number, ItemState>()
  for (const f of folders) if (f.itemType === 'folder') byId.set(f.itemId, f)
  const paths = new Map<number, string>()

  const nameOf = (id: number): string => {
    const f = byId.get(id)
    if (f?.name !== undefined) return f.name
    return SYSTEM_FOLDERS.get(id) ?? unknownFolderName(id)
  }
  const parentOf = (id: number): number => {
    const f = byId.get(id)
    if (f === undefined || isSystemFolder(id)) return FolderIds.USER_ROOT
    return f.folderId
  }
  const pathOf = (id: number, seen: ReadonlySet<number> = new Set()): string => {
    if (id === FolderIds.USER_ROOT || id === FolderIds.ROOT) return '/'
    const cached = paths.get(id)
    if (cached !== undefined) return cached
    const parent = parentOf(id)
    // A cycle can only come from inconsistent input; cut it at the top level rather than loop.
    const parentPath = seen.has(parent) || parent === id ? '/' : pathOf(parent, new Set([...seen, id]))
    const p = joinPath(parentPath, nameOf(id))
    paths.set(id, p)
    return p
  }
  const ids = (): number[] => [...new Set([...SYSTEM_FOLDERS.keys(), ...byId.keys()])].sort((a, b) => a - b)
  const segmentsOf = (id: number): string[] => {
    const out: string[] = []
    const seen = new Set<number>()
    for (let f = id; f !== FolderIds.USER_ROOT && f !== FolderIds.ROOT && !seen.has(f); f = parentOf(f)) {
      seen.add(f)
      out.unshift(nameOf(f))
    }
    return out
  }
  const has = (id: number): boolean => byId.has(id) || SYSTEM_FOLDERS.has(id) || id === FolderIds.USER_ROOT
  return { pathOf: (id) => pathOf(id), nameOf, parentOf, ids, segmentsOf, has }
}
