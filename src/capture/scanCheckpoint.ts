/**
 * The IMAP scan checkpoint: per folder, where the last scan left it (UIDVALIDITY, UIDNEXT, message
 * count, HIGHESTMODSEQ) and its item id; the next item id; the last scan instant. It is written in
 * the same transaction as the scan's events and lets unchanged folders, and unchanged accounts, be
 * skipped. Shared by the
 * scanner, the mail_log importer (which maps server paths to folder ids with it) and the
 * coherency checks.
 */
import * as t from 'io-ts'
import type { AccountId } from '../../domain/ids'

const FolderCheckpoint = t.intersection([
  t.type({ folderId: t.number, uidValidity: t.number, uidNext: t.number, messages: t.number }),
  t.partial({ highestModseq: t.string, mailboxId: t.string }),
])
export const ScanCheckpoint = t.intersection([
  t.type({
    version: t.literal(1),
    nextItemId: t.number,
    lastScanAt: t.number,
    folders: t.record(t.string, FolderCheckpoint),
  }),
  t.partial({
    // Set while a first scan is only partly recorded, so that its resumption still dates arrivals at INTERNALDATE.
    pendingFirstScan: t.boolean,
    // The `seq` of the changes of a scan not finished yet (killed, or incomplete), so that its
    // resumption gives them the ids the first attempt did.
    round: t.number,
    // Set only by a complete scan that recorded nothing: the account stream's revision then and a
    // digest of the server's folder listing it diffed (src/capture/imap/unchanged.ts). A later scan
    // that finds both the same has nothing to record and skips the diff.
    revision: t.number,
    listing: t.string,
  }),
])
export type ScanCheckpoint = t.TypeOf<typeof ScanCheckpoint>
export type FolderCheckpoint = t.TypeOf<typeof FolderCheckpoint>

/** The checkpoint's name in the store. */
export const checkpointName = (account: AccountId): string => `imap-scan:${account}`

/** A folder mapped to its item but not (or no longer) up to date: the next scan reads it in full. */
export const notUpToDate = (folderId: number, uidValidity: number, mailboxId?: string): FolderCheckpoint => ({
  folderId,
  uidValidity,
  uidNext: 0,
  messages: -1,
  ...(mailboxId !== undefined && { mailboxId }),
})
