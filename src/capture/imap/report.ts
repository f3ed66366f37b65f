/** What an IMAP scan tells its caller: the report of a scan, and why a scan could not run. */
import type { AccountId } from '../../../domain/ids'
import type { StoreError } from '../../../projections/errors'

export type ScanError =
  | { readonly _tag: 'Store'; readonly error: StoreError }
  | { readonly _tag: 'Blob'; readonly message: string }
  | { readonly _tag: 'Imap'; readonly account: string; readonly reason: string }
  | { readonly _tag: 'BadCheckpoint'; readonly account: string; readonly reason: string }
  /** Another writer recorded events in the account while this scan ran; `appended` is what this scan had recorded before it noticed. */
  | { readonly _tag: 'Concurrent'; readonly account: string; readonly expected: number; readonly actual: number; readonly appended: number }

/**
 * What became of a folder: read to the end; not opened because its STATUS is the last scan's; not
 * read (see `ScanReport.unreadFolders`); a level of the hierarchy that is not a mailbox; deleted
 * (gone from the server, recorded as deleted).
 */
export type FolderStatus = 'read' | 'unchanged' | 'not read' | 'not a mailbox' | 'deleted'

export interface FolderReport {
  /** The folder's path as every other verb shows it (`/Inbox`, `/Archive/2019`). */
  readonly path: string
  /** Its name on the server (`INBOX`, `Archive.2019`). */
  readonly serverPath: string
  readonly folderId: number
  readonly status: FolderStatus
  readonly messages: number
  readonly created: number
  /** New messages that a restore wrote (recorded with the operation as their source). */
  readonly restored: number
  readonly moved: number
  readonly deleted: number
  readonly flagChanges: number
}

export interface UnreadFolder {
  readonly path: string
  readonly serverPath: string
  readonly reason: string
  /** The server answered NO (or BAD) to opening or reading it; otherwise the connection failed. */
  readonly refused: boolean
}

export interface ScanReport {
  readonly account: AccountId
  readonly firstScan: boolean
  /**
   * The folder listing and the account's stream were those of the last scan, which recorded
   * nothing: nothing else was read or compared (src/capture/imap/unchanged.ts).
   */
  readonly unchanged: boolean
  readonly eventsAppended: number
  /** Messages whose content was fetched from the server, and their bytes. */
  readonly messagesRead: number
  readonly bytesRead: number
  /** Of those bytes, the ones the blob store did not hold yet (content is stored once, by digest). */
  readonly bytesStored: number
  readonly folders: FolderReport[]
  readonly foldersCreated: number
  readonly foldersRenamed: number
  readonly foldersDeleted: number
  /** Every folder was read to the end (or found unchanged). */
  readonly complete: boolean
  /** Folders not read to the end; their messages are kept as recorded. */
  readonly unreadFolders: readonly UnreadFolder[]
  /** Changes seen in folders that were read but left for a complete scan, when the connection failed (guarantee 6). */
  readonly deferredChanges: number
  readonly interrupted: boolean
}

/**
 * Whether a scan recorded everything it set out to: every folder read to the end and every batch
 * recorded. A scan stopped between batches (SIGINT, doStopOperation) read every folder but did not
 * record them all: it is not complete, whatever `complete` says of the folders.
 */
export const scannedToTheEnd = (r: Pick<ScanReport, 'complete' | 'interrupted'>): boolean => r.complete && !r.interrupted
