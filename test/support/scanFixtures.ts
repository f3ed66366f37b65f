/**
 * Builders for the scanner's pure decisions (diffAccount, planFolders, matchMoves): a mailbox as
 * the server lists it, and a folder or message as the backup holds it. Each test file keeps its
 * own defaults (sizes, UIDVALIDITY) by passing them; these only spell the shape once.
 */
import type { ItemId } from '../../domain/ids'
import type { ItemState } from '../../domain/state'
import type { ServerFolder } from '../../src/imap/list'

/** A mailbox as the server lists it: selectable, empty, its name and parent taken from `path` split on `delimiter`. */
export const serverFolder = (path: string, o: Partial<ServerFolder> = {}, delimiter = '.'): ServerFolder => {
  const parts = path.split(delimiter)
  return {
    path,
    name: parts[parts.length - 1] ?? path,
    parentPath: parts.slice(0, -1).join(delimiter),
    delimiter,
    specialUse: undefined,
    selectable: true,
    uidValidity: 1,
    uidNext: 1,
    messages: 0,
    highestModseq: '1',
    ...o,
  }
}

/** A level of the hierarchy that is not a mailbox (`\Noselect`): no STATUS. */
export const notAMailbox = (path: string): ServerFolder => serverFolder(path, { selectable: false, uidValidity: 0, uidNext: 0, highestModseq: undefined })

/** A live folder item of the backup, under `parent`. */
export const folderItem = (itemId: number, parent: number, name: string, flags: string[] = []): ItemState => ({
  itemId: itemId as ItemId,
  itemType: 'folder',
  folderId: parent as ItemId,
  name,
  flags,
  tags: [],
  status: 'live',
  known: true,
})

/** A live message item of the backup, in folder `folderId`, of `size` bytes (10 unless `o` says otherwise). */
export const messageItem = (itemId: number, folderId: number, digest: string, o: Partial<ItemState> = {}): ItemState => ({
  itemId: itemId as ItemId,
  itemType: 'message',
  folderId: folderId as ItemId,
  flags: [],
  tags: [],
  status: 'live',
  known: true,
  content: { digest, size: 10 },
  ...o,
})
