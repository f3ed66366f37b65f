/**
 * The folder tree at one instant: folder paths from folder states. Live states are the folders that
 * exist then; states of folders that were gone by then (deleted or purged) or not recorded yet only
 * lend their names, so that an item can be named in the folder it was in. System folders always
 * have Carbonio's names (`/Inbox`, `/Trash`…), whatever a server calls them; `unknown_<id>` is for
 * folders whose name the backup never learned. `folderNames.ts` gathers the states for an instant.
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
  /** Folder ids alive at that instant (system folders only when recorded). */
  liveIds(): number[]
  /** The names from the top level down (`['Projects', 'Alpha']`); names may themselves hold `/`. */
  segmentsOf(folderId: number): string[]
  /** Whether the folder is alive at that instant, or is a system folder (whose name never changes). */
  has(folderId: number): boolean
  /** Whether the tree holds a name for the folder (alive or not), or it is a system folder or the root. */
  names(folderId: number): boolean
}

const isRoot = (id: number): boolean => id === FolderIds.USER_ROOT || id === FolderIds.ROOT

export const folderTree = (folders: readonly ItemState[]): FolderTree => {
  const byId = new Map<number, ItemState>()
  for (const f of folders) if (f.itemType === 'folder') byId.set(f.itemId, f)
  const paths = new Map<number, string>()

  const nameOf = (id: number): string => SYSTEM_FOLDERS.get(id) ?? byId.get(id)?.name ?? unknownFolderName(id)
  const parentOf = (id: number): number => {
    const f = byId.get(id)
    if (f === undefined || isSystemFolder(id)) return FolderIds.USER_ROOT
    return f.folderId
  }
  const pathOf = (id: number, seen: ReadonlySet<number> = new Set()): string => {
    if (isRoot(id)) return '/'
    const cached = paths.get(id)
    if (cached !== undefined) return cached
    const parent = parentOf(id)
    // A cycle can only come from inconsistent input; cut it at the top level rather than loop.
    const parentPath = seen.has(parent) || parent === id ? '/' : pathOf(parent, new Set([...seen, id]))
    const p = joinPath(parentPath, nameOf(id))
    paths.set(id, p)
    return p
  }
  const liveIds = (): number[] =>
    [...byId.values()]
      .filter((f) => f.status === 'live')
      .map((f) => f.itemId as number)
      .sort((a, b) => a - b)
  const segmentsOf = (id: number): string[] => {
    const out: string[] = []
    const seen = new Set<number>()
    for (let f = id; !isRoot(f) && !seen.has(f); f = parentOf(f)) {
      seen.add(f)
      out.unshift(nameOf(f))
    }
    return out
  }
  const has = (id: number): boolean => byId.get(id)?.status === 'live' || SYSTEM_FOLDERS.has(id) || id === FolderIds.USER_ROOT
  const names = (id: number): boolean => byId.has(id) || SYSTEM_FOLDERS.has(id) || isRoot(id)
  return { pathOf: (id) => pathOf(id), nameOf, parentOf, liveIds, segmentsOf, has, names }
}
