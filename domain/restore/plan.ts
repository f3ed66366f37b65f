/**
 * Restore plans: which items a restore writes, into which folders, with which flags and tags, and
 * which items it cannot restore and why. Planning is pure; `src/restore` materializes a plan into a
 * target. Folders are given as name segments from the top level down, as they were named in the
 * source; targets map names they cannot hold and report it.
 *
 * A folder the restore selects (a deleted folder in an undelete window, a folder given to
 * `doItemRestore`) is an item like a message, as in Carbonio's item-centric backup: it is restored
 * by recreating it at its path, and is counted with the restored (or skipped) items.
 */
import { isSystemFolder, unknownFolderName } from '../folders'
import type { ItemId } from '../ids'
import { itemKey } from '../operations'
import type { Instant } from '../instant'
import type { ItemType } from '../itemTypes'
import type { ItemState } from '../state'

export interface RestoreItem {
  readonly itemId: ItemId
  readonly itemType: ItemType
  readonly folder: readonly string[]
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  readonly internalDate?: Instant
  readonly digest: string
  readonly size: number
  readonly subject?: string
}

/** A folder item the restore recreates (empty if no message goes into it). */
export interface RestoreFolderItem {
  readonly itemId: ItemId
  /** Its own path: its parent's segments, then its name. */
  readonly folder: readonly string[]
}

export interface Unrestorable {
  readonly itemId: ItemId
  readonly itemType: ItemType
  readonly reason: string
}

export interface RestorePlan {
  readonly kind: 'undelete' | 'newAccount' | 'item' | 'rewind'
  readonly sourceAccount: string
  readonly targetAccount: string
  /** Every folder the restore needs, parents first. */
  readonly folders: readonly (readonly string[])[]
  /** The messages to write. */
  readonly items: readonly RestoreItem[]
  /** The folders restored as items (they are in `folders` too). */
  readonly folderItems: readonly RestoreFolderItem[]
  readonly unrestorable: readonly Unrestorable[]
}

/** How many items a plan accounts for: each ends restored, skipped or unrestored. */
export const planSize = (p: RestorePlan): number => p.items.length + p.folderItems.length + p.unrestorable.length

/** Why an item cannot be written into a mailbox, or undefined if it can. */
export const whyUnrestorable = (s: ItemState): string | undefined => {
  if (s.status === 'purged') return `purged by retention${s.purgeReason !== undefined ? ` (${s.purgeReason})` : ''}`
  if (s.itemType === 'folder') return undefined
  if (s.itemType !== 'message') return `${/^[aeiou]/.test(s.itemType) ? 'an' : 'a'} ${s.itemType} is not a message; mailbox targets hold messages only (export it instead)`
  if (s.content === undefined) return 'no content was captured (known only from a log line)'
  return undefined
}

const toItem = (s: ItemState, folder: readonly string[], flags: readonly string[], tags: readonly string[]): RestoreItem => ({
  itemId: s.itemId,
  itemType: s.itemType,
  folder,
  flags,
  tags,
  ...(s.internalDate !== undefined && { internalDate: s.internalDate }),
  digest: s.content?.digest ?? '',
  size: s.content?.size ?? 0,
  ...(s.headers?.subject !== undefined && { subject: s.headers.subject }),
})

const foldersOf = (items: readonly { readonly folder: readonly string[] }[]): string[][] => {
  const keys = new Map<string, string[]>()
  for (const i of items)
    for (let n = 1; n <= i.folder.length; n++) {
      const seg = i.folder.slice(0, n)
      keys.set(JSON.stringify(seg), seg)
    }
  return [...keys.values()].sort((a, b) => a.length - b.length || (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
}

/** A folder item's own path, below the segments of the folder it is in. */
const ownPath = (s: ItemState, parent: readonly string[]): string[] => [...parent, s.name ?? unknownFolderName(s.itemId)]

/**
 * `parent` is the folder the item goes into (for a folder item: the folder it is recreated in);
 * `message` builds the message to write, for items that are messages.
 */
const finish = (
  kind: RestorePlan['kind'],
  source: string,
  target: string,
  pairs: readonly { s: ItemState; parent: readonly string[]; message: () => RestoreItem }[],
): RestorePlan => {
  const items: RestoreItem[] = []
  const folderItems: RestoreFolderItem[] = []
  const unrestorable: Unrestorable[] = []
  for (const { s, parent, message } of pairs) {
    const why = whyUnrestorable(s)
    if (why !== undefined) unrestorable.push({ itemId: s.itemId, itemType: s.itemType, reason: why })
    else if (s.itemType === 'folder') folderItems.push({ itemId: s.itemId, folder: ownPath(s, parent) })
    else items.push(message())
  }
  items.sort((a, b) => a.itemId - b.itemId)
  folderItems.sort((a, b) => a.itemId - b.itemId)
  unrestorable.sort((a, b) => a.itemId - b.itemId)
  return { kind, sourceAccount: source, targetAccount: target, folders: foldersOf([...items, ...folderItems]), items, folderItems, unrestorable }
}

/** Carbonio's undelete tag: `undelete_DD_MM_YY`, the day the undelete runs. */
export const undeleteTag = (runDay: { day: number; month: number; year: number }): string =>
  `undelete_${String(runDay.day).padStart(2, '0')}_${String(runDay.month).padStart(2, '0')}_${String(runDay.year % 100).padStart(2, '0')}`

export interface DeletedItem {
  /** The item's state as it was deleted (its folder is where it was). */
  readonly state: ItemState
  /** The segments of the folder it was in, as named in the window (unknown_<id> when never known). */
  readonly folder: readonly string[]
}

/**
 * Time-range undelete: every item deleted in the window goes back to its source folder (or under
 * `dedicatedFolder` when given), tagged `undelete_DD_MM_YY` and without `\Deleted`.
 */
export const planUndelete = (account: string, deleted: readonly DeletedItem[], tag: string, dedicatedFolder: string | undefined): RestorePlan =>
  finish(
    'undelete',
    account,
    account,
    deleted.map(({ state: s, folder }) => {
      const parent = dedicatedFolder === undefined ? folder : [dedicatedFolder, ...folder]
      return {
        s,
        parent,
        message: () =>
          toItem(
            s,
            parent,
            s.flags.filter((f) => f !== '\\Deleted'),
            [...new Set([...s.tags, tag])].sort(),
          ),
      }
    }),
  )

export interface PlacedItem {
  readonly state: ItemState
  readonly folder: readonly string[]
}

/**
 * Restore on a new account: every item alive at the instant, with its folder, flags and tags. The
 * items include every user folder alive then (each placed in its parent), so that the whole tree is
 * recreated, empty folders included; each is a folder item. System folders (Inbox, Trash, …) are
 * not items: every account has them, and an item in one recreates it. An item given twice is
 * planned as its first entry.
 */
export const planRestoreOnNewAccount = (source: string, target: string, items: readonly PlacedItem[]): RestorePlan => {
  const seen = new Set<number>()
  return finish(
    'newAccount',
    source,
    target,
    items
      .filter((p) => !(p.state.itemType === 'folder' && isSystemFolder(p.state.itemId)))
      .filter((p) => !seen.has(p.state.itemId) && seen.add(p.state.itemId) !== undefined)
      .map(({ state: s, folder }) => ({
        s,
        parent: folder,
        message: () =>
          toItem(
            s,
            folder,
            s.flags.filter((f) => f !== '\\Deleted'),
            s.tags,
          ),
      })),
  )
}

/**
 * Single item restore: the item as it was, into its folder then (or `restoreFolder`), as a copy. A
 * folder is recreated (empty) there under its name.
 */
export const planItemRestore = (account: string, item: PlacedItem, restoreFolder: readonly string[] | undefined): RestorePlan => {
  const parent = restoreFolder ?? item.folder
  return finish('item', account, account, [
    {
      s: item.state,
      parent,
      message: () =>
        toItem(
          item.state,
          parent,
          item.state.flags.filter((f) => f !== '\\Deleted'),
          item.state.tags,
        ),
    },
  ])
}

/** The folder items of plans, by `itemKey` (target account and item id): what a report names as folders recreated. */
export const folderItemsOf = (plans: readonly RestorePlan[]): Map<string, readonly string[]> =>
  new Map(plans.flatMap((p) => p.folderItems.map((f) => [itemKey(p.targetAccount, f.itemId), f.folder] as const)))
