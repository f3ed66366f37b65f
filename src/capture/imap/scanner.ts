/**
 * The IMAP scanner (our Real Time Scanner and SmartScan): records an account's folders and messages
 * as events, the first time in full and then only what changed.
 *
 * Guarantees:
 * 1. What to record is computed against the backup's own projection of the account, not against
 *    the checkpoint, so a scan killed at any point and run again appends exactly what is missing.
 * 2. The checkpoint (per folder: uidValidity, highestModseq, uidNext, message count; the next item
 *    id; the last scan instant) is written in the same transaction as each batch of events. It only
 *    lets unchanged folders be skipped.
 * 3. A message's identity survives a move: a message gone from one folder and new in another with
 *    the same EMAILID (OBJECTID, RFC 8474, where the server offers it) or else the same content
 *    digest (and Message-ID) is recorded as a move. A folder keeps its identity across a rename by
 *    its MAILBOXID, or else its UIDVALIDITY (see src/imap/objectId.ts for what each server's ids are worth).
 * 4. A folder whose UIDVALIDITY changed is read again in full; its messages are matched by digest,
 *    so nothing is recorded twice.
 * 5. Instants: arrival at INTERNALDATE on the first scan; later, anything the scan can only bound
 *    is dated at the end of the window since the last scan, and the window is recorded. The window
 *    runs from the start of the previous scan to the moment this one has read every folder. A
 *    change a feed dated (`deps.instants`: the Dovecot spool) is dated at the feed's instant, exactly
 *    or within its second, when that instant falls within the window (feeds/instants.ts).
 * 6. A scan that could not read every folder to the end is not complete, and says which folders
 *    it did not read; they are not marked up to date, and their messages stay as recorded.
 *    - When the connection failed (the server went away mid-scan), a rescan is expected to finish
 *      the work: the scan records what it read, but nothing that depends on the folders it did not
 *      read. A message gone from a folder it read may have moved into one it did not, and a message
 *      new in a folder it read may have come from one, so these, and folder deletions, wait for a
 *      complete scan (`deferUntilComplete`), and the folders they were seen in are not marked up to
 *      date either. The scan window does not move, and a first scan records the account's and
 *      folders' creations only when complete (they are dated before the earliest message, which
 *      only a complete scan knows). So a scan cut short and run again ends with the events of a
 *      clean scan, ids and instants included.
 *    - When the server refused to open or read folders (NO, BAD), they may stay refused until an
 *      admin acts: the scan records everything else as a complete scan would, and a refused
 *      folder's changes are recorded, within the window of that scan, by the first scan that reads
 *      it.
 * 7. Every level of the hierarchy the server lists is a folder, levels that are not mailboxes
 *    (`\Noselect`, `\NonExistent`) included, marked with the flag `NOT_A_MAILBOX`; a folder's
 *    recorded parent, name and that flag follow the server's listing (`planFolders`).
 * 8. A scan records only while the account's stream is where the scan found it: when another
 *    writer (a second scan of the account) recorded first, the scan stops with a `Concurrent`
 *    error before writing anything more.
 *
 * 9. An account whose folder listing and stream are those of a complete scan that recorded nothing
 *    is not diffed again: one LIST-STATUS, and the checkpoint's scan instant moved on (unchanged.ts).
 *
 * The scan is in three parts: this module reads (the store's checkpoint and projection, then the
 * server through the IMAP operations of src/imap/: list with status, search, fetch flags, fetch
 * bodies), `diffAccount` decides (pure: the events and the checkpoint), and `appendScan` records.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow, MessageEnvelopeObject } from 'imapflow'
import type { AccountId } from '../../../domain/ids'
import { streamOfAccount } from '../../../domain/ids'
import { type Instant, MAX_INSTANT } from '../../../domain/instant'
import { describeErrors } from '../../../domain/decode'
import type { StoreError } from '../../../projections/errors'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { RestoredMessages } from '../../../domain/restore/restoredMessages'
import { type BlobStore, describeBlobError } from '../../blobs/blobStore'
import type { EventStore } from '../../store/eventStore'
import { imapFailure } from '../../imap/failure'
import { fetchBodies } from '../../imap/fetchBodies'
import { fetchFlags, hasCondstore } from '../../imap/fetchFlags'
import { splitFlags } from '../../imap/flags'
import { type ServerFolder, listWithStatus, withLevelsFound } from '../../imap/list'
import { leaveMailbox, openReadOnly } from '../../imap/mailbox'
import { searchUids } from '../../imap/search'
import { ScanCheckpoint, checkpointName } from '../scanCheckpoint'
import { appendScan } from './appender'
import { accountUnchanged, comparable, markedUnchanged } from './unchanged'
import {
  type FetchedMessage,
  type FolderObservation,
  type FolderToRead,
  type KnownAccount,
  type ObservedFlags,
  diffAccount,
  foldersToRead,
  unchangedFolderReports,
} from './diffAccount'
import type { ScanError, ScanReport } from './report'
import type { FeedInstants } from '../feeds/instants'

export interface ScanDeps {
  readonly store: EventStore
  readonly index: TimeTravel
  readonly blobs: BlobStore
  readonly now: () => Instant
  readonly onProgress?: (p: { folder: string; foldersDone: number; folders: number; messages: number }) => void
  /** Asked between batches; true stops the scan after the batch it is on. */
  readonly shouldStop?: () => boolean
  /** Events per append (and checkpoint). */
  readonly batchSize?: number
  /**
   * Reads the messages restores wrote into this account on this server (recorded as restored, not
   * as new mail). Called after every folder was read, and only when a message was fetched: see `scanAccount`.
   */
  readonly restored?: () => Promise<E.Either<StoreError, RestoredMessages>>
  /** Called after each batch is appended with its checkpoint (fault injection in tests: MAILTIME_FAULT). */
  readonly afterBatch?: (batch: number) => Promise<void>
  /** Called after each folder the scan read to the end, before anything is recorded (fault injection in tests). */
  readonly afterFolder?: (folder: number) => Promise<void>
  /**
   * Test-only planted bug (MAILTIME_TEST_BUG=checkpoint-ahead), which the torture harness must
   * catch: every batch writes the end-of-scan checkpoint, so a resumed scan skips folders whose
   * messages were not all recorded.
   */
  readonly plantedBug?: 'checkpoint-ahead'
  /** When a change feed says the changes this scan may record happened (feeds/instants.ts): they are dated so. */
  readonly instants?: FeedInstants
}

const readCheckpoint = async (deps: ScanDeps, account: AccountId): Promise<E.Either<ScanError, ScanCheckpoint | undefined>> => {
  const raw = await deps.store.readCheckpoint(checkpointName(account))()
  if (E.isLeft(raw)) return E.left({ _tag: 'Store', error: raw.left })
  if (raw.right === undefined) return E.right(undefined)
  let json: unknown
  try {
    json = JSON.parse(raw.right)
  } catch (e) {
    return E.left({ _tag: 'BadCheckpoint', account, reason: (e as Error).message })
  }
  const d = ScanCheckpoint.decode(json)
  return E.isLeft(d) ? E.left({ _tag: 'BadCheckpoint', account, reason: describeErrors(d.left) }) : E.right(d.right)
}

/** What the backup knows of the account now: live items, every item id ever used, the stream's revision. */
const readKnown = async (deps: ScanDeps, account: AccountId): Promise<E.Either<ScanError, KnownAccount>> => {
  const revision = await deps.store.streamRevision(streamOfAccount(account))()
  if (E.isLeft(revision)) return E.left({ _tag: 'Store', error: revision.left })
  const live = await deps.index.liveItemsAsOf(account, { validAt: MAX_INSTANT as Instant })()
  if (E.isLeft(live)) return E.left({ _tag: 'Store', error: live.left })
  const deleted = await deps.index.deletedBetween(account, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
  if (E.isLeft(deleted)) return E.left({ _tag: 'Store', error: deleted.left })
  return E.right({ account, live: live.right, deletedIds: deleted.right.map((d) => d.itemId), revision: revision.right })
}

const addressList = (xs: readonly { name?: string | undefined; address?: string | undefined }[] | undefined): string | undefined =>
  xs === undefined || xs.length === 0 ? undefined : xs.map((a) => (a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? ''))).join(', ')

/** The headers Mailtime records, from a message's envelope. */
const headersOf = (env: MessageEnvelopeObject | undefined): FetchedMessage['headers'] => ({
  ...(env?.subject !== undefined && { subject: env.subject }),
  ...(addressList(env?.from) !== undefined && { from: addressList(env?.from) as string }),
  ...(addressList(env?.to) !== undefined && { to: addressList(env?.to) as string }),
  ...(addressList(env?.cc) !== undefined && { cc: addressList(env?.cc) as string }),
  ...(env?.messageId !== undefined && { messageId: env.messageId }),
  ...(env?.date !== undefined && { date: new Date(env.date).toUTCString() }),
})

interface FolderRead {
  readonly read: Extract<FolderObservation, { _tag: 'Read' }>
  readonly bytesRead: number
  readonly bytesStored: number
}

/**
 * Reads one open folder to the end: its UIDs and flags (with CONDSTORE, only the flags changed
 * since the last scan), and the content of the messages the backup does not hold under their UID,
 * stored in the blob store chunk by chunk. IMAP failures are thrown (the caller decides what a
 * folder not read means); a blob store failure is returned.
 */
const readFolder = async (client: ImapFlow, t: FolderToRead, blobs: BlobStore, now: Instant): Promise<E.Either<ScanError, FolderRead>> => {
  const f = t.folder
  const uids: number[] = []
  const flags = new Map<number, ObservedFlags>()
  const observe = (m: { uid: number; flags: readonly string[]; modseq?: string }) =>
    flags.set(m.uid, { ...splitFlags(m.flags), ...(m.modseq !== undefined && { modseq: m.modseq }) })
  if (f.messages > 0 && t.changedSince !== undefined && hasCondstore(client)) {
    // CONDSTORE: the UID list tells what is new or gone; flags come only for messages changed
    // since the modseq of the last scan (RFC 7162 CHANGEDSINCE). Others keep their recorded flags.
    uids.push(...(await searchUids(client, { all: true }, f.path)))
    for (const m of await fetchFlags(client, { changedSince: t.changedSince })) observe(m)
  } else if (f.messages > 0)
    // Without CONDSTORE (or on a first look at the folder), a full UID and flag listing.
    for (const m of await fetchFlags(client)) {
      uids.push(m.uid)
      observe(m)
    }
  // Fetch the new messages' bytes, in chunks, into the blob store.
  const wanted = uids.filter((u) => !t.knownUids.has(u))
  const fetched: FetchedMessage[] = []
  let bytesRead = 0
  let bytesStored = 0
  for await (const chunk of fetchBodies(client, wanted)) {
    const put = await blobs.putAll(chunk.map((m) => m.source))
    if (E.isLeft(put)) return E.left({ _tag: 'Blob', message: describeBlobError(put.left) })
    for (const [i, m] of chunk.entries()) {
      const stored = put.right[i]
      if (stored === undefined) continue
      bytesRead += m.source.length
      if (stored.written) bytesStored += m.source.length
      const idate = m.internalDate === undefined ? now : new Date(m.internalDate).getTime()
      fetched.push({
        uid: m.uid,
        ...splitFlags(m.flags),
        internalDate: Math.max(idate, 0),
        digest: stored.digest,
        size: m.source.length,
        headers: headersOf(m.envelope),
        ...(m.emailId !== undefined && { emailId: m.emailId }),
      })
    }
  }
  // A message listed but whose content did not come was either expunged meanwhile (it is simply
  // not there) or withheld by the server: then the folder was not read to the end.
  const got = new Set(fetched.map((m) => m.uid))
  const missing = wanted.filter((u) => !got.has(u))
  if (missing.length > 0) {
    const still = await searchUids(client, { uid: missing.join(',') }, f.path)
    if (still.length > 0)
      throw new Error(`the server did not return the content of ${still.length} message(s) (UID ${still.slice(0, 5).join(', ')}${still.length > 5 ? ', …' : ''})`)
  }
  return E.right({ read: { _tag: 'Read', uids, flags, fetched }, bytesRead, bytesStored })
}

/** What reading the folders gave, and what it cost. */
interface Observations {
  readonly reads: Map<string, FolderObservation>
  readonly messagesRead: number
  readonly bytesRead: number
  readonly bytesStored: number
}

/**
 * Reads the folders `toRead` names, in listing order (progress is told for every listed folder).
 * A folder the server refuses is not read, and the scan goes on; once the connection is lost, no
 * folder after it is read either.
 */
const observeFolders = async (
  client: ImapFlow,
  server: readonly ServerFolder[],
  toRead: readonly FolderToRead[],
  deps: ScanDeps,
  now: Instant,
): Promise<E.Either<ScanError, Observations>> => {
  const byPath = new Map(toRead.map((t) => [t.folder.path, t]))
  const reads = new Map<string, FolderObservation>()
  let connectionLost: string | undefined
  let messagesRead = 0
  let bytesRead = 0
  let bytesStored = 0
  let foldersDone = 0
  for (const f of server) {
    deps.onProgress?.({ folder: f.path, foldersDone: foldersDone++, folders: server.length, messages: f.messages })
    const t = byPath.get(f.path)
    if (t === undefined) continue
    if (connectionLost !== undefined) {
      reads.set(f.path, { _tag: 'NotRead', reason: connectionLost, refused: false })
      continue
    }
    let lock: { release(): void } | undefined
    try {
      lock = await openReadOnly(client, f.path)
      const r = await readFolder(client, t, deps.blobs, now)
      if (E.isLeft(r)) return r
      reads.set(f.path, r.right.read)
      messagesRead += r.right.read.fetched.length
      bytesRead += r.right.bytesRead
      bytesStored += r.right.bytesStored
    } catch (e) {
      const why = imapFailure(e)
      if (!client.usable) connectionLost = `the connection to the server was lost: ${why.reason}`
      reads.set(f.path, { _tag: 'NotRead', reason: connectionLost ?? why.reason, refused: why.refused && client.usable })
      continue
    } finally {
      lock?.release()
    }
    await deps.afterFolder?.(foldersDone)
  }
  // Parked with no mailbox selected, the session's next scan of an unchanged account is one LIST.
  if (client.usable) await leaveMailbox(client)
  return E.right({ reads, messagesRead, bytesRead, bytesStored })
}

/** The folder listing with every folder's status; a session with a mailbox selected is synced first. */
const listFolders = async (client: ImapFlow): Promise<ServerFolder[]> => {
  // A session answers STATUS for the mailbox it has selected as it last synced it: on a connection
  // kept open between scans (watch mode, the pool), a message delivered since would go unseen. NOOP syncs it.
  if (client.mailbox !== false) await client.noop()
  return listWithStatus(client)
}

/**
 * The scan of an account found as its checkpoint holds it (unchanged.ts): nothing recorded, only
 * the checkpoint's scan instant moved on (in a transaction of its own, expecting the stream where
 * it was), so that the next change is dated within a window that starts here.
 */
const unchangedScan = async (
  deps: ScanDeps,
  account: AccountId,
  checkpoint: ScanCheckpoint,
  revision: number,
  server: readonly ServerFolder[],
  startedAt: Instant,
): Promise<E.Either<ScanError, ScanReport>> => {
  const cp: ScanCheckpoint = { ...checkpoint, lastScanAt: startedAt }
  const appended = await appendScan(deps, account, { events: [], checkpoint: cp, between: cp }, revision)
  if (E.isLeft(appended)) return appended
  return E.right({
    account,
    firstScan: false,
    unchanged: true,
    eventsAppended: 0,
    messagesRead: 0,
    bytesRead: 0,
    bytesStored: 0,
    folders: unchangedFolderReports(server, checkpoint),
    foldersCreated: 0,
    foldersRenamed: 0,
    foldersDeleted: 0,
    complete: true,
    unreadFolders: [],
    deferredChanges: 0,
    interrupted: false,
  })
}

/** Scans the account that `client` is logged in as: reads, decides (`diffAccount`), records (`appendScan`). */
export const scanAccount = async (client: ImapFlow, account: AccountId, deps: ScanDeps): Promise<E.Either<ScanError, ScanReport>> => {
  const checkpoint = await readCheckpoint(deps, account)
  if (E.isLeft(checkpoint)) return checkpoint
  // The next scan's window starts when this one starts reading (a change made after a folder was
  // read is the next scan's); this one's ends when it has read every folder (`at` below).
  const now = deps.now()

  // An account unchanged since a scan that recorded nothing costs one LIST-STATUS (unchanged.ts).
  let listed: ServerFolder[] | undefined
  if (comparable(checkpoint.right) && client.capabilities.has('LIST-STATUS') && hasCondstore(client)) {
    const revision = await deps.store.streamRevision(streamOfAccount(account))()
    if (E.isLeft(revision)) return E.left({ _tag: 'Store', error: revision.left })
    if (revision.right === checkpoint.right.revision) {
      try {
        listed = await listFolders(client)
      } catch (e) {
        return E.left({ _tag: 'Imap', account, reason: (e as Error).message })
      }
      if (accountUnchanged(checkpoint.right, revision.right, listed)) return unchangedScan(deps, account, checkpoint.right, revision.right, listed, now)
    }
  }

  const known = await readKnown(deps, account)
  if (E.isLeft(known)) return known

  let server: ServerFolder[]
  try {
    listed ??= await listFolders(client)
    server = await withLevelsFound(client, listed)
  } catch (e) {
    return E.left({ _tag: 'Imap', account, reason: (e as Error).message })
  }
  const seen = await observeFolders(client, server, foldersToRead(known.right, server, checkpoint.right), deps, now)
  if (E.isLeft(seen)) return seen

  // Which new messages restores wrote, read only now that every folder was read: a restore writes
  // its intent before each APPEND, so whatever a running restore appended that the listing saw is
  // found. (Read before the listing, a restore starting meanwhile went unseen and its messages were
  // recorded as new mail: the concurrency test caught it.)
  let restored: RestoredMessages | undefined
  const fetchedAny = [...seen.right.reads.values()].some((r) => r._tag === 'Read' && r.fetched.length > 0)
  if (fetchedAny && deps.restored !== undefined) {
    const r = await deps.restored()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    restored = r.right
  }

  const observed = { at: deps.now(), startedAt: now, folders: server, reads: seen.right.reads, ...(deps.instants !== undefined && { instants: deps.instants }) }
  const diff = diffAccount({ ...known.right, ...(restored !== undefined && { restored }) }, observed, checkpoint.right)
  // A complete scan that records nothing marks its checkpoint, so that the next scan that finds the
  // same listing and the same stream skips all this (unchanged.ts). The listing is the one the
  // next scan compares: as the server gave it, before `withLevelsFound`.
  const final = diff.complete && diff.events.length === 0 && diff.checkpoint.round === undefined ? markedUnchanged(diff.checkpoint, known.right.revision, listed) : diff.checkpoint
  const appended = await appendScan(deps, account, { ...diff, checkpoint: final }, known.right.revision)
  if (E.isLeft(appended)) return appended
  return E.right({
    account,
    firstScan: diff.firstScan,
    unchanged: false,
    eventsAppended: appended.right.appended,
    messagesRead: seen.right.messagesRead,
    bytesRead: seen.right.bytesRead,
    bytesStored: seen.right.bytesStored,
    folders: [...diff.folders],
    foldersCreated: diff.foldersCreated,
    foldersRenamed: diff.foldersRenamed,
    foldersDeleted: diff.foldersDeleted,
    complete: diff.complete,
    unreadFolders: diff.unreadFolders,
    deferredChanges: diff.deferredChanges,
    interrupted: appended.right.interrupted,
  })
}
