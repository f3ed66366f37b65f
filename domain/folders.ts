/**
 * Folders: Carbonio's system folder ids and names, and folder paths.
 * User folders are items of type `folder` whose `folderId` is their parent; system folders are
 * implicit in every account and need no event.
 */
import type { Flag } from './flags'
import type { ItemId } from './ids'

export const FolderIds = {
  USER_ROOT: 1,
  INBOX: 2,
  TRASH: 3,
  JUNK: 4,
  SENT: 5,
  DRAFTS: 6,
  CONTACTS: 7,
  TAGS: 8,
  CONVERSATIONS: 9,
  CALENDAR: 10,
  ROOT: 11,
  EMAILED_CONTACTS: 13,
  CHATS: 14,
  TASKS: 15,
  BRIEFCASE: 16,
} as const

/** Visible system folders and their names; hidden ones (Tags, Conversations, ROOT) are not listed. */
export const SYSTEM_FOLDERS: ReadonlyMap<number, string> = new Map([
  [2, 'Inbox'],
  [3, 'Trash'],
  [4, 'Junk'],
  [5, 'Sent'],
  [6, 'Drafts'],
  [7, 'Contacts'],
  [10, 'Calendar'],
  [13, 'Emailed Contacts'],
  [14, 'Chats'],
  [15, 'Tasks'],
  [16, 'Briefcase'],
])

/** System folders every account shows even when empty. */
export const ALWAYS_SHOWN_FOLDERS: readonly number[] = [2, 3, 4, 5, 6]

export const isSystemFolder = (id: number): boolean => id >= 1 && id <= 20

/** Folder name shown for a folder id whose name the backup never learned (Carbonio's `unknown_XX`). */
export const unknownFolderName = (id: ItemId | number): string => `unknown_${id}`

export const joinPath = (parent: string, name: string): string => (parent === '/' ? `/${name}` : `${parent}/${name}`)

/**
 * The flag of a folder that is a level of the hierarchy but not a mailbox: the server lists it
 * (IMAP `\Noselect`, or `\NonExistent`, as `Lists` above `Lists.python-dev` when only the child was
 * created) and it holds no messages. A folder's flags are its mailbox attributes, so a level that
 * becomes a mailbox, or stops being one, is an `ItemFlagsChanged` of the folder. Restores create
 * such a level as an ordinary folder when a folder under it needs it.
 */
export const NOT_A_MAILBOX = '\\Noselect' as Flag

/** Whether a folder holds messages (false for a level of the hierarchy that is not a mailbox). */
export const isMailbox = (folder: { readonly flags: readonly string[] }): boolean => !folder.flags.includes(NOT_A_MAILBOX)
