/**
 * An unchanged account costs one round trip (issue 20, item 2): when a complete scan recorded
 * nothing, its checkpoint keeps the account stream's revision and a digest of the folder listing
 * it diffed (`markedUnchanged`). A later scan that lists the folders with their status (one
 * `LIST "" "*" RETURN (STATUS (MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ))`, LIST-STATUS, RFC 5819)
 * and finds the same listing and the same revision (`accountUnchanged`) would diff the same
 * inputs again and record nothing: it skips reading the backup's projection and the diff, and only
 * moves the checkpoint's scan instant on.
 *
 * Why that is exact: the diff is a function of the listing, the checkpoint and the backup's
 * projection of the account. The listing is the same (every field the diff reads is in the
 * digest); the projection is the same (no event was appended since: same revision); the
 * checkpoint's folders are those the previous scan wrote from that listing; and every mailbox's
 * STATUS carries a HIGHESTMODSEQ (CONDSTORE, RFC 7162), which changes with any flag change, so no
 * folder would be opened. Without CONDSTORE (flags can change under the same STATUS), on a
 * checkpoint written by an incomplete, interrupted or recording scan, or after any other writer
 * appended to the stream (a DAV scan, an import), the full scan runs.
 */
import { createHash } from 'crypto'
import type { ServerFolder } from '../../imap/list'
import type { ScanCheckpoint } from '../scanCheckpoint'
import { unchangedSince } from './diffAccount'

/** A digest of every field of the listing that the diff reads, in listing order. Pure. */
export const listingDigest = (server: readonly ServerFolder[]): string =>
  createHash('sha256')
    .update(
      JSON.stringify(
        server.map((f) => [
          f.path,
          f.name,
          f.parentPath,
          f.delimiter,
          f.specialUse ?? null,
          f.selectable,
          f.uidValidity,
          f.uidNext,
          f.messages,
          f.highestModseq ?? null,
          f.mailboxId ?? null,
        ]),
      ),
    )
    .digest('hex')

/** The checkpoint a complete scan that recorded nothing writes: its own, marked with the revision and the listing it diffed. Pure. */
export const markedUnchanged = (checkpoint: ScanCheckpoint, revision: number, server: readonly ServerFolder[]): ScanCheckpoint => ({
  ...checkpoint,
  revision,
  listing: listingDigest(server),
})

/** Whether the checkpoint can be compared at all: written by a complete scan that recorded nothing, not one left to finish. Pure. */
export const comparable = (checkpoint: ScanCheckpoint | undefined): checkpoint is ScanCheckpoint & { revision: number; listing: string } =>
  checkpoint !== undefined && checkpoint.revision !== undefined && checkpoint.listing !== undefined && checkpoint.round === undefined && checkpoint.pendingFirstScan !== true

/**
 * Whether a scan that found `server` with the stream at `revision` has nothing to record: the
 * checkpoint's revision and listing are these, and every mailbox is unchanged by its STATUS with a
 * HIGHESTMODSEQ. Pure.
 */
export const accountUnchanged = (checkpoint: ScanCheckpoint | undefined, revision: number, server: readonly ServerFolder[]): boolean =>
  comparable(checkpoint) &&
  checkpoint.revision === revision &&
  checkpoint.listing === listingDigest(server) &&
  server.every((f) =>
    f.selectable ? f.uidValidity !== 0 && f.highestModseq !== undefined && unchangedSince(checkpoint.folders[f.path], f) : checkpoint.folders[f.path] !== undefined,
  ) &&
  Object.keys(checkpoint.folders).every((p) => server.some((f) => f.path === p))
