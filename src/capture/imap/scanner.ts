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
 *    the same content digest (and Message-ID) is recorded as a move. This server has no OBJECTID.
 * 4. A folder whose UIDVALIDITY changed is read again in full; its messages are matched by digest,
 *    so nothing is recorded twice.
 * 5. Instants: arrival at INTERNALDATE on the first scan; later, anything the scan can only bound
 *    is dated at the end of the window since the last scan, and the window is recorded.
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
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import type { ImapFlow, ListResponse } from 'imapflow'
import type { AccountId, ItemId } from '../../../domain/ids'
import { FIRST_USER_ITEM_ID, streamOfAccount } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import type { MailEvent, OccurredWindow, SourcePosition, EventType } from '../../../domain/events'
import { type Flag, type Tag, SYSTEM_FLAGS, normaliseSet } from '../../../domain/flags'
import { FolderIds, NOT_A_MAILBOX, isSystemFolder } from '../../../domain/folders'
import { type Payload, type Provenance, makeEvent } from '../../../domain/makeEvent'
import type { ItemState } from '../../../domain/state'
import { describeErrors } from '../../../domain/decode'
import type { StoreError } from '../../../projections/errors'
import { folderTree } from '../../../projections/folderTree'
import { type BlobStore, describeBlobError } from '../../blobs/blobStore'
import type { EventStore } from '../../store/eventStore'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { RestoredMessages } from '../../../domain/restore/restoredMessages'

const FolderCheckpoint = t.intersection([
  t.type({ folderId: t.number, uidValidity: t.number, uidNext: t.number, messages: t.number }),
  t.partial({ highestModseq: t.string }),
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
  }),
])
export type ScanCheckpoint = t.TypeOf<typeof ScanCheckpoint>
export type FolderCheckpoint = t.TypeOf<typeof FolderCheckpoint>

export const checkpointName = (account: AccountId): string => `imap-scan:${account}`

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
   * as new mail). Called after every folder was listed: see the moves below.
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
}

/** A folder as the server lists it. */
export interface ServerFolder {
  readonly path: string
  readonly name: string
  readonly parentPath: string
  readonly delimiter: string
  readonly specialUse: string | undefined
  /** False for a level of the hierarchy that is not a mailbox (`\Noselect`, `\NonExistent`). */
  readonly selectable: boolean
  /** 0 when the server gave no STATUS (a level that is not a mailbox, or a folder it cannot open). */
  readonly uidValidity: number
  readonly uidNext: number
  readonly messages: number
  readonly highestModseq: string | undefined
}

interface NewMessage {
  readonly folderId: number
  readonly path: string
  readonly uidValidity: number
  readonly uid: number
  readonly flags: string[]
  readonly tags: string[]
  readonly internalDate: number
  readonly digest: string
  readonly size: number
  readonly headers: { subject?: string; from?: string; to?: string; cc?: string; messageId?: string; date?: string }
}

/** A recorded message the scan no longer finds where it was (`path`: the server folder it was read from). */
export interface Vanished {
  readonly state: ItemState
  readonly path: string
}

const SPECIAL: Readonly<Record<string, number>> = {
  '\\Inbox': FolderIds.INBOX,
  '\\Trash': FolderIds.TRASH,
  '\\Junk': FolderIds.JUNK,
  '\\Sent': FolderIds.SENT,
  '\\Drafts': FolderIds.DRAFTS,
}
const SYSTEM: ReadonlySet<string> = new Set(SYSTEM_FLAGS)

/** IMAP flags split into Mailtime flags (system flags, minus the session-only \Recent) and tags (keywords). */
export const splitFlags = (flags: Iterable<string>): { flags: string[]; tags: string[] } => {
  const f: string[] = []
  const k: string[] = []
  for (const x of flags) {
    if (x === '\\Recent') continue
    if (x.startsWith('\\')) {
      if (SYSTEM.has(x)) f.push(x)
    } else if (x.length > 0 && x.length <= 128) k.push(x)
  }
  return { flags: [...new Set(f)].sort(), tags: [...new Set(k)].sort() }
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

const addressList = (xs: readonly { name?: string | undefined; address?: string | undefined }[] | undefined): string | undefined =>
  xs === undefined || xs.length === 0 ? undefined : xs.map((a) => (a.name ? `${a.name} <${a.address ?? ''}>` : (a.address ?? ''))).join(', ')

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

/** The names our system folders have (and a restore writes them under). */
const SYSTEM_NAMES: Readonly<Record<string, string>> = { '\\Sent': 'sent', '\\Drafts': 'drafts', '\\Trash': 'trash', '\\Junk': 'junk' }

/**
 * A folder's special use, as far as it is safe to map it to a system folder. imapflow also guesses
 * one from localized names ("Entwürfe" for Drafts); such a folder would come back from a restore
 * as "Drafts", so a guess counts only when the name is already the system folder's.
 */
const specialUseOf = (l: ListResponse): string | undefined =>
  l.specialUse === undefined || l.specialUseSource !== 'name' || SYSTEM_NAMES[l.specialUse] === l.name.toLowerCase() ? l.specialUse : undefined

const NOT_SELECTABLE = /^\\(noselect|nonexistent)$/i

/** Every folder the server lists, parents before children; levels that are not mailboxes included. */
const listFolders = async (client: ImapFlow): Promise<ServerFolder[]> => {
  const list: ListResponse[] = await client.list({ statusQuery: { uidValidity: true, uidNext: true, messages: true, highestModseq: true } })
  return list
    .map((l) => ({
      path: l.path,
      name: l.name,
      parentPath: l.parentPath,
      delimiter: l.delimiter,
      specialUse: specialUseOf(l),
      selectable: ![...l.flags].some((f) => NOT_SELECTABLE.test(f)),
      uidValidity: Number(l.status?.uidValidity ?? 0),
      uidNext: l.status?.uidNext ?? 0,
      messages: l.status?.messages ?? 0,
      highestModseq: l.status?.highestModseq === undefined ? undefined : String(l.status.highestModseq),
    }))
    .sort((a, b) => a.path.split(a.delimiter).length - b.path.split(b.delimiter).length || (a.path < b.path ? -1 : 1))
}

/** What a folder's flags are on the server: its mailbox attributes that Mailtime keeps. */
const folderFlags = (f: ServerFolder): Flag[] => (f.selectable ? [] : [NOT_A_MAILBOX])

/** A folder mapped to its item but not (or no longer) up to date: the next scan reads it in full. */
const notUpToDate = (folderId: number, uidValidity: number): FolderCheckpoint => ({ folderId, uidValidity, uidNext: 0, messages: -1 })

/** A change of a folder item that the server's listing shows (see `planFolders`). */
export type FolderChange =
  | { readonly kind: 'create'; readonly folder: ServerFolder; readonly itemId: number; readonly parentId: number; readonly system?: boolean }
  | { readonly kind: 'rename'; readonly folder: ServerFolder; readonly itemId: number }
  | { readonly kind: 'move'; readonly folder: ServerFolder; readonly itemId: number; readonly parentId: number; readonly fromParentId: number }
  | { readonly kind: 'flags'; readonly folder: ServerFolder; readonly itemId: number }

export interface FolderPlan {
  /** Each listed folder's item id. */
  readonly byPath: ReadonlyMap<string, number>
  /** Each listed folder's parent item id. */
  readonly parentOf: ReadonlyMap<string, number>
  /** The checkpoint's folders after this listing: renamed ones under their new path, new ones mapped but not up to date. */
  readonly folders: Readonly<Record<string, FolderCheckpoint>>
  readonly changes: readonly FolderChange[]
  /** Folders of the checkpoint that are no longer listed and were not renamed. */
  readonly gone: readonly (readonly [string, FolderCheckpoint])[]
  readonly nextItemId: number
}

/**
 * Maps the server's folders to items, pure: a folder the checkpoint maps keeps its id; one that
 * disappeared and one that appeared with the same UIDVALIDITY is a rename; others are new. Then
 * each folder's recorded name, parent and flags (`known`: the live folders of the projection) are
 * compared with the listing: a store recorded before levels that are not mailboxes were kept has
 * such a level's children at the top; the next scan records the level and moves them under it.
 * A level that is not a mailbox has no UIDVALIDITY, so no identity beyond its path: it is never
 * taken for a rename.
 */
export const planFolders = (
  server: readonly ServerFolder[],
  checkpoint: Readonly<Record<string, FolderCheckpoint>>,
  known: ReadonlyMap<number, ItemState>,
  firstFreeId: number,
): FolderPlan => {
  const folders: Record<string, FolderCheckpoint> = { ...checkpoint }
  const byPath = new Map<string, number>()
  const parentOf = new Map<string, number>()
  const used = new Set<number>()
  const changes: FolderChange[] = []
  const listed = new Set(server.map((f) => f.path))
  const vanished = Object.entries(folders).filter(([p]) => !listed.has(p))
  let nextItemId = firstFreeId
  const parentIdOf = (f: ServerFolder): number =>
    f.parentPath === '' ? FolderIds.USER_ROOT : (byPath.get(f.parentPath) ?? (f.parentPath.toUpperCase() === 'INBOX' ? FolderIds.INBOX : FolderIds.USER_ROOT))
  /** The changes that bring a recorded folder to what the listing shows. */
  const follow = (f: ServerFolder, itemId: number): void => {
    const before = known.get(itemId)
    const parentId = parentIdOf(f)
    if (before === undefined) {
      // Mapped by an earlier scan that did not record its creation (interrupted, or incomplete).
      changes.push({ kind: 'create', folder: f, itemId, parentId })
      return
    }
    if (before.name !== f.name) changes.push({ kind: 'rename', folder: f, itemId })
    if (before.folderId !== parentId) changes.push({ kind: 'move', folder: f, itemId, parentId, fromParentId: before.folderId })
    if (!same(normaliseSet(before.flags), folderFlags(f))) changes.push({ kind: 'flags', folder: f, itemId })
  }
  for (const f of server) {
    const special = !f.selectable ? undefined : f.path.toUpperCase() === 'INBOX' ? FolderIds.INBOX : f.specialUse !== undefined ? SPECIAL[f.specialUse] : undefined
    const cp = folders[f.path]
    parentOf.set(f.path, parentIdOf(f))
    if (special !== undefined && !used.has(special)) {
      byPath.set(f.path, special)
      used.add(special)
      // Recorded as a folder the first time: an IMAP account has only the system folders its server
      // shows (Carbonio's are implicit), and an account view lists those that existed at its instant.
      if (!known.has(special)) changes.push({ kind: 'create', folder: f, itemId: special, parentId: FolderIds.USER_ROOT, system: true })
      continue
    }
    if (cp !== undefined) {
      byPath.set(f.path, cp.folderId)
      used.add(cp.folderId)
      follow(f, cp.folderId)
      continue
    }
    // A folder that disappeared with the same UIDVALIDITY was renamed (or moved in the tree).
    const renamed = f.selectable && f.uidValidity !== 0 ? vanished.find(([, c]) => c.uidValidity === f.uidValidity && !used.has(c.folderId)) : undefined
    const id = renamed !== undefined ? renamed[1].folderId : nextItemId++
    byPath.set(f.path, id)
    used.add(id)
    if (renamed !== undefined) {
      const [oldPath, c] = renamed
      delete folders[oldPath]
      folders[f.path] = c
      follow(f, id)
    } else {
      folders[f.path] = notUpToDate(id, f.uidValidity)
      if (!known.has(id)) changes.push({ kind: 'create', folder: f, itemId: id, parentId: parentIdOf(f) })
    }
  }
  const gone = vanished.filter(([p]) => folders[p] !== undefined)
  return { byPath, parentOf, folders, changes, gone, nextItemId }
}

/**
 * Pairs messages gone from where they were with new ones of the same content (and Message-ID):
 * each pair is a move. Pure; the order of both lists decides ties, as a clean scan meets them.
 */
export const matchMoves = <V extends Vanished, N extends { readonly digest: string; readonly headers: { readonly messageId?: string } }>(
  vanished: readonly V[],
  created: readonly N[],
): { moves: { message: N; from: V }[]; fresh: N[]; left: V[] } => {
  const pool = new Map<string, V[]>()
  for (const v of vanished) {
    const k = v.state.content?.digest ?? `no-content:${v.state.itemId}`
    const list = pool.get(k)
    if (list === undefined) pool.set(k, [v])
    else list.push(v)
  }
  const moves: { message: N; from: V }[] = []
  const fresh: N[] = []
  for (const m of created) {
    const candidates = pool.get(m.digest) ?? []
    const i = candidates.findIndex((c) => c.state.headers?.messageId === undefined || m.headers.messageId === undefined || c.state.headers.messageId === m.headers.messageId)
    const match = i >= 0 ? candidates.splice(i, 1)[0] : undefined
    if (match !== undefined) moves.push({ message: m, from: match })
    else fresh.push(m)
  }
  return { moves, fresh, left: [...pool.values()].flat() }
}

/**
 * Which new messages an incomplete scan must leave for a complete one: those whose content the
 * backup holds in a folder the scan did not read (they may have been moved from there, which only
 * reading that folder tells). Pure. The messages gone from folders it read that no new message
 * accounts for wait too (they may have moved into a folder not read): see `scanAccount`.
 */
export const deferUntilComplete = <N extends { readonly digest: string }>(
  created: readonly N[],
  unreadFolderIds: ReadonlySet<number>,
  messagesByFolder: ReadonlyMap<number, readonly ItemState[]>,
): { now: N[]; later: N[] } => {
  const elsewhere = new Set<string>()
  for (const id of unreadFolderIds) for (const s of messagesByFolder.get(id) ?? []) if (s.content !== undefined) elsewhere.add(s.content.digest)
  return { now: created.filter((m) => !elsewhere.has(m.digest)), later: created.filter((m) => elsewhere.has(m.digest)) }
}

interface FlagChange {
  readonly itemId: ItemId
  readonly path: string
  readonly source: SourcePosition
  readonly flags?: Flag[]
  readonly tags?: Tag[]
}

interface FolderRead {
  readonly fresh: NewMessage[]
  readonly vanished: Vanished[]
  readonly flagChanges: FlagChange[]
  readonly messagesRead: number
  readonly bytesRead: number
  readonly bytesStored: number
}

/**
 * Reads one folder to the end: its UIDs and flags, and the content of messages the backup does not
 * hold under their UID. IMAP failures are thrown (the caller decides what a folder not read means);
 * a blob store failure is returned.
 */
const readFolder = async (
  client: ImapFlow,
  f: ServerFolder,
  folderId: number,
  cp: FolderCheckpoint | undefined,
  known: readonly ItemState[],
  deps: ScanDeps,
  now: Instant,
  round: number,
): Promise<E.Either<ScanError, FolderRead>> => {
  const sameValidity = known.filter((s) => s.imap?.uidValidity === f.uidValidity)
  const byUid = new Map(sameValidity.map((s) => [s.imap?.uid as number, s]))
  // Items recorded under an older UIDVALIDITY are re-read and matched by content.
  const vanished: Vanished[] = known.filter((s) => s.imap?.uidValidity !== f.uidValidity).map((s) => ({ state: s, path: f.path }))
  const current: { uid: number; flags: string[]; tags: string[]; modseq?: string }[] = []
  const condstore = client.enabled.has('CONDSTORE') || client.capabilities.has('CONDSTORE')
  if (f.messages > 0 && condstore && cp?.highestModseq !== undefined && cp.uidValidity === f.uidValidity) {
    // CONDSTORE: the UID list tells what is new or gone; flags come only for messages changed
    // since the modseq of the last scan (RFC 7162 CHANGEDSINCE). Others keep their recorded flags.
    const uids = await client.search({ all: true }, { uid: true })
    // Anything but a list (a refusal, no mailbox selected) is no answer: taken as "no messages", it would delete them all.
    if (!Array.isArray(uids)) throw new Error(`the server gave no answer to UID SEARCH ALL in ${f.path}`)
    const changed = new Map<number, { flags: string[]; tags: string[]; modseq?: string }>()
    for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: BigInt(cp.highestModseq) })) {
      const { flags, tags } = splitFlags(m.flags ?? [])
      changed.set(m.uid, { flags, tags, ...(m.modseq !== undefined && { modseq: String(m.modseq) }) })
    }
    for (const uid of uids) {
      const c = changed.get(uid)
      const s = byUid.get(uid)
      if (c !== undefined) current.push({ uid, ...c })
      else current.push({ uid, flags: s?.flags ?? [], tags: s?.tags ?? [] })
    }
  } else if (f.messages > 0)
    // Without CONDSTORE (or on a first look at the folder), a full UID and flag listing.
    for await (const m of client.fetch('1:*', { uid: true, flags: true }, { uid: true })) {
      const { flags, tags } = splitFlags(m.flags ?? [])
      current.push({ uid: m.uid, flags, tags, ...(m.modseq !== undefined && { modseq: String(m.modseq) }) })
    }
  const present = new Set(current.map((m) => m.uid))
  for (const [uid, s] of byUid) if (!present.has(uid)) vanished.push({ state: s, path: f.path })
  const flagChanges: FlagChange[] = []
  for (const m of current) {
    const s = byUid.get(m.uid)
    if (s === undefined) continue
    const source = { kind: 'imap', mailbox: f.path, uidValidity: f.uidValidity, uid: m.uid, ...(m.modseq !== undefined ? { modseq: m.modseq } : { seq: round }) }
    if (!same(s.flags, m.flags)) flagChanges.push({ itemId: s.itemId, path: f.path, source, flags: m.flags as Flag[] })
    if (!same(s.tags, m.tags)) flagChanges.push({ itemId: s.itemId, path: f.path, source, tags: m.tags as Tag[] })
  }
  // Fetch the new messages' bytes, in chunks, into the blob store.
  const wanted = current.filter((m) => !byUid.has(m.uid)).map((m) => m.uid)
  const fresh: NewMessage[] = []
  let bytesRead = 0
  let bytesStored = 0
  for (let i = 0; i < wanted.length; i += 200) {
    const range = wanted.slice(i, i + 200).join(',')
    for await (const m of client.fetch(range, { uid: true, flags: true, internalDate: true, envelope: true, source: true }, { uid: true })) {
      if (m.source === undefined) continue
      const put = deps.blobs.put(m.source)
      if (E.isLeft(put)) return E.left({ _tag: 'Blob', message: describeBlobError(put.left) })
      bytesRead += m.source.length
      if (put.right.written) bytesStored += m.source.length
      const { flags, tags } = splitFlags(m.flags ?? [])
      const idate = m.internalDate === undefined ? now : new Date(m.internalDate).getTime()
      const env = m.envelope
      const headers = {
        ...(env?.subject !== undefined && { subject: env.subject }),
        ...(addressList(env?.from) !== undefined && { from: addressList(env?.from) as string }),
        ...(addressList(env?.to) !== undefined && { to: addressList(env?.to) as string }),
        ...(addressList(env?.cc) !== undefined && { cc: addressList(env?.cc) as string }),
        ...(env?.messageId !== undefined && { messageId: env.messageId }),
        ...(env?.date !== undefined && { date: new Date(env.date).toUTCString() }),
      }
      fresh.push({ folderId, path: f.path, uidValidity: f.uidValidity, uid: m.uid, flags, tags, internalDate: Math.max(idate, 0), digest: put.right.digest, size: m.source.length, headers })
    }
  }
  // A message listed but whose content did not come was either expunged meanwhile (it is simply
  // not there) or withheld by the server: then the folder was not read to the end.
  const got = new Set(fresh.map((m) => m.uid))
  const missing = wanted.filter((u) => !got.has(u))
  if (missing.length > 0) {
    const still = await client.search({ uid: missing.join(',') }, { uid: true })
    if (!Array.isArray(still)) throw new Error(`the server gave no answer to UID SEARCH in ${f.path}`)
    if (still.length > 0) throw new Error(`the server did not return the content of ${still.length} message(s) (UID ${still.slice(0, 5).join(', ')}${still.length > 5 ? ', …' : ''})`)
  }
  return E.right({ fresh, vanished, flagChanges, messagesRead: fresh.length, bytesRead, bytesStored })
}

/**
 * Whether the server says a mailbox does not exist: RFC 5530's NONEXISTENT, or the text of servers
 * that do not send it (Dovecot 2.3 answers SELECT with a bare `NO Mailbox doesn't exist: …`).
 */
const doesNotExist = (e: unknown): boolean => {
  const err = e as { responseStatus?: string; serverResponseCode?: string; responseText?: string }
  return err.responseStatus === 'NO' && (err.serverResponseCode?.toUpperCase() === 'NONEXISTENT' || /\b(doesn't|does not) exist\b|\bno such mailbox\b/i.test(err.responseText ?? ''))
}

/**
 * Levels of the hierarchy that the server lists as if they were mailboxes. Dovecot's Maildir++ keeps
 * listing a mailbox deleted while it had children, without `\Noselect` and without STATUS, and
 * answers that it does not exist when it is opened. Only folders the listing gave no STATUS for are
 * asked; a folder that cannot be opened for another reason stays a mailbox (reading it says why).
 */
const withLevelsFound = async (client: ImapFlow, server: readonly ServerFolder[]): Promise<ServerFolder[]> => {
  const out: ServerFolder[] = []
  for (const f of server) {
    if (!f.selectable || f.uidValidity !== 0) {
      out.push(f)
      continue
    }
    let level = false
    try {
      const lock = await client.getMailboxLock(f.path, { readOnly: true })
      lock.release()
    } catch (e) {
      level = doesNotExist(e)
    }
    out.push(level ? { ...f, selectable: false } : f)
  }
  return out
}

/** An IMAP failure as a reason, and whether it was the server refusing (NO, BAD) rather than the connection failing. */
const imapFailure = (e: unknown): { reason: string; refused: boolean } => {
  const err = e as { message?: string; responseText?: string; responseStatus?: string }
  const refused = err.responseStatus === 'NO' || err.responseStatus === 'BAD'
  return { reason: (err.responseText ?? err.message ?? String(e)).replace(/\s*\(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)\.?$/, ''), refused }
}

export const scanAccount = async (client: ImapFlow, account: AccountId, deps: ScanDeps): Promise<E.Either<ScanError, ScanReport>> => {
  const stream = streamOfAccount(account)
  const cp0 = await readCheckpoint(deps, account)
  if (E.isLeft(cp0)) return cp0
  const first = cp0.right === undefined || cp0.right.pendingFirstScan === true
  const now = deps.now()
  const lastScanAt = cp0.right?.lastScanAt ?? now
  const window: OccurredWindow | undefined = first ? undefined : { from: instant(lastScanAt), to: now }
  const revision = await deps.store.streamRevision(stream)()
  if (E.isLeft(revision)) return E.left({ _tag: 'Store', error: revision.left })
  const expectedStart = revision.right
  // The `seq` of this scan's changes in their source position (so in their ids): a scan resuming
  // one that did not finish gives its changes the same ids.
  const round = cp0.right?.round ?? expectedStart + 1

  // What the backup knows now: live items, and every item id ever used.
  const last = { validAt: MAX_INSTANT as Instant }
  const liveE = await deps.index.liveItemsAsOf(account, last)()
  if (E.isLeft(liveE)) return E.left({ _tag: 'Store', error: liveE.left })
  const live = liveE.right
  const deletedE = await deps.index.deletedBetween(account, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
  if (E.isLeft(deletedE)) return E.left({ _tag: 'Store', error: deletedE.left })
  const firstFreeId = Math.max(
    cp0.right?.nextItemId ?? FIRST_USER_ITEM_ID,
    FIRST_USER_ITEM_ID,
    ...live.map((s) => s.itemId + 1),
    ...deletedE.right.map((d) => d.itemId + 1),
  )
  const knownFolders = new Map(live.filter((s) => s.itemType === 'folder').map((s) => [s.itemId as number, s]))
  const messagesByFolder = new Map<number, ItemState[]>()
  for (const s of live) {
    if (s.itemType === 'folder' || s.imap === undefined) continue
    const list = messagesByFolder.get(s.folderId)
    if (list === undefined) messagesByFolder.set(s.folderId, [s])
    else list.push(s)
  }

  let server: ServerFolder[]
  try {
    server = await withLevelsFound(client, await listFolders(client))
  } catch (e) {
    return E.left({ _tag: 'Imap', account, reason: (e as Error).message })
  }

  const events: MailEvent[] = []
  const prov = (source: SourcePosition, w: OccurredWindow | undefined = window, by?: string): Provenance => ({
    accountId: account,
    observedVia: source.kind === 'restore' ? 'restore' : 'imap-scan',
    source,
    recordedAt: now,
    ...(w !== undefined && { occurredWindow: w }),
    ...(by !== undefined && { by }),
  })
  const emit = <K extends EventType>(type: K, at: number, source: SourcePosition, payload: Payload<K>, w?: OccurredWindow, by?: string) =>
    events.push(makeEvent(type, prov(source, w, by), instant(at), payload))

  // Folders: map each server folder to an item id, detecting creations, renames and deletions.
  const plan = planFolders(server, cp0.right?.folders ?? {}, knownFolders, firstFreeId)
  let nextItemId = plan.nextItemId
  const cpFolders: Record<string, FolderCheckpoint> = { ...plan.folders }
  const idOf = (path: string): number => plan.byPath.get(path) as number

  // Messages, folder by folder.
  const created: NewMessage[] = []
  const vanished: Vanished[] = []
  const flagChanges: FlagChange[] = []
  const status = new Map<string, FolderStatus>()
  const unread: UnreadFolder[] = []
  let connectionLost: string | undefined
  let messagesRead = 0
  let bytesRead = 0
  let bytesStored = 0
  let foldersDone = 0
  for (const f of server) {
    const folderId = idOf(f.path)
    const cp = cpFolders[f.path]
    deps.onProgress?.({ folder: f.path, foldersDone: foldersDone++, folders: server.length, messages: f.messages })
    const known = (messagesByFolder.get(folderId) ?? []).filter((s) => s.imap !== undefined)
    if (!f.selectable) {
      // Nothing to read; messages recorded there (when it was a mailbox) are gone with it.
      status.set(f.path, 'not a mailbox')
      for (const s of known) vanished.push({ state: s, path: f.path })
      cpFolders[f.path] = { folderId, uidValidity: 0, uidNext: 0, messages: 0 }
      continue
    }
    const unchanged =
      cp !== undefined &&
      cp.uidValidity === f.uidValidity &&
      cp.uidNext === f.uidNext &&
      cp.messages === f.messages &&
      f.highestModseq !== undefined &&
      cp.highestModseq === f.highestModseq
    if (unchanged) {
      status.set(f.path, 'unchanged')
      continue
    }
    // A folder not read is never taken as emptied: its messages stay as recorded, and it stays
    // mapped (so its id is kept) but not up to date (so the next scan reads it).
    const notRead = (reason: string, refused: boolean) => {
      status.set(f.path, 'not read')
      unread.push({ path: f.path, serverPath: f.path, reason, refused })
      cpFolders[f.path] = notUpToDate(folderId, cp?.uidValidity ?? f.uidValidity)
    }
    if (connectionLost !== undefined) {
      notRead(connectionLost, false)
      continue
    }
    let lock: { release(): void } | undefined
    try {
      lock = await client.getMailboxLock(f.path, { readOnly: true })
      const r = await readFolder(client, f, folderId, cp, known, deps, now, round)
      if (E.isLeft(r)) return r
      created.push(...r.right.fresh)
      vanished.push(...r.right.vanished)
      flagChanges.push(...r.right.flagChanges)
      messagesRead += r.right.messagesRead
      bytesRead += r.right.bytesRead
      bytesStored += r.right.bytesStored
    } catch (e) {
      const why = imapFailure(e)
      if (!client.usable) connectionLost = `the connection to the server was lost: ${why.reason}`
      notRead(connectionLost ?? why.reason, why.refused && client.usable)
      continue
    } finally {
      lock?.release()
    }
    status.set(f.path, 'read')
    cpFolders[f.path] = {
      folderId,
      uidValidity: f.uidValidity,
      uidNext: f.uidNext,
      messages: f.messages,
      ...(f.highestModseq !== undefined && { highestModseq: f.highestModseq }),
    }
    await deps.afterFolder?.(foldersDone)
  }
  const complete = unread.length === 0
  // The connection failed before every folder was read: what was read waits for the rescan where it
  // depends on what was not (guarantee 6). Folders the server refused do not hold the rest back.
  const cut = unread.some((u) => !u.refused)
  // Messages of folders that are gone.
  for (const [p, c] of plan.gone) for (const s of messagesByFolder.get(c.folderId) ?? []) vanished.push({ state: s, path: p })

  // What waits for a complete scan (guarantee 6); the folders it was seen in are not up to date.
  const unreadIds = new Set(unread.map((u) => idOf(u.path)))
  const split: { now: NewMessage[]; later: NewMessage[] } = cut ? deferUntilComplete(created, unreadIds, messagesByFolder) : { now: created, later: [] }
  const paired = matchMoves(vanished, split.now)
  const deferred = cut ? [...split.later.map((m) => m.path), ...paired.left.map((v) => v.path)] : []
  for (const p of deferred) {
    const c = cpFolders[p]
    if (c !== undefined && plan.byPath.has(p)) cpFolders[p] = notUpToDate(c.folderId, c.uidValidity)
  }
  const deferredChanges = cut ? split.later.length + paired.left.length + plan.gone.length : 0

  // A first scan dates the account and its folders before its earliest message, counting those a
  // first attempt that did not finish recorded.
  let earliest: number = now
  for (const m of created) earliest = Math.min(earliest, m.internalDate)
  if (first) for (const s of live) if (s.internalDate !== undefined) earliest = Math.min(earliest, s.internalDate)
  // A folder a later scan finds existed before the first message dated in it or its subfolders (a
  // new message keeps its INTERNALDATE when it falls in the scan's window): dated a second before
  // that, never before the window, so that no message is in a folder that does not exist yet.
  const firstDatedIn = new Map<string, number>()
  if (!first && window !== undefined) {
    const parentPath = new Map(server.map((f) => [f.path, f.parentPath]))
    for (const m of created)
      if (m.internalDate >= window.from && m.internalDate <= window.to)
        for (let p: string | undefined = m.path; p !== undefined && p !== ''; p = parentPath.get(p)) firstDatedIn.set(p, Math.min(firstDatedIn.get(p) ?? m.internalDate, m.internalDate))
  }
  const folderEventsAt = (path: string): number =>
    first ? earliest - 1000 : Math.min(now, Math.max(lastScanAt, (firstDatedIn.get(path) ?? now + 1000) - 1000))
  if (first && !cut) emit('AccountCreated', earliest - 2000, { kind: 'imap-account', seq: 0 }, { name: account })

  let foldersCreated = 0
  let foldersRenamed = 0
  for (const c of plan.changes) {
    const f = c.folder
    const src = { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity, seq: round }
    const itemId = c.itemId as ItemId
    switch (c.kind) {
      case 'create':
        // On a first scan, dated before the earliest message: only a complete scan knows it.
        if (first && cut) break
        if (c.system !== true) foldersCreated++
        emit('ItemCreated', folderEventsAt(f.path), { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity }, {
          itemId,
          itemType: 'folder',
          folderId: c.parentId as ItemId,
          name: f.name,
          flags: folderFlags(f),
          tags: [],
        })
        break
      case 'rename':
        foldersRenamed++
        emit('ItemRenamed', now, src, { itemId, name: f.name, itemType: 'folder' })
        break
      case 'move':
        emit('ItemMoved', now, src, { itemId, folderId: c.parentId as ItemId, fromFolderId: c.fromParentId as ItemId, itemType: 'folder' })
        break
      case 'flags':
        emit('ItemFlagsChanged', now, src, { itemId, flags: folderFlags(f), itemType: 'folder' })
        break
    }
  }

  // Which new messages restores wrote, read only now that every folder was listed: a restore writes
  // its intent before each APPEND, so whatever a running restore appended that the listing saw is
  // found. (Read before the listing, a restore starting meanwhile went unseen and its messages were
  // recorded as new mail: the concurrency test caught it.)
  let restored: RestoredMessages | undefined
  if (split.now.length > 0 && deps.restored !== undefined) {
    const r = await deps.restored()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    restored = r.right
  }

  const counts = new Map<string, { created: number; restored: number; moved: number; deleted: number; flagChanges: number }>()
  const countsOf = (path: string) => {
    const hit = counts.get(path)
    if (hit !== undefined) return hit
    const c = { created: 0, restored: 0, moved: 0, deleted: 0, flagChanges: 0 }
    counts.set(path, c)
    return c
  }
  // Moves: a vanished message and a new one with the same content are the same item.
  for (const { message: m, from } of paired.moves) {
    const s = from.state
    const src = { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
    countsOf(m.path).moved++
    emit('ItemMoved', now, src, { itemId: s.itemId, folderId: m.folderId as ItemId, fromFolderId: s.folderId, itemType: s.itemType, imap: { mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid } })
    if (!same(s.flags, m.flags)) emit('ItemFlagsChanged', now, src, { itemId: s.itemId, flags: m.flags as Flag[] })
    if (!same(s.tags, m.tags)) emit('ItemTagsChanged', now, src, { itemId: s.itemId, tags: m.tags as Tag[] })
  }
  for (const m of paired.fresh) {
    const src = { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
    const restoredBy = restored?.find({ folder: m.path, uidValidity: m.uidValidity, uid: m.uid, digest: m.digest })
    if (restoredBy !== undefined) countsOf(m.path).restored++
    else countsOf(m.path).created++
    // Arrival at INTERNALDATE (never after the scan); a restored copy keeps its original
    // INTERNALDATE, but it exists only since the restore wrote it.
    const internalDate = Math.min(m.internalDate, now)
    const arrival =
      restoredBy !== undefined ? Math.min(restoredBy.at, now) : first || window === undefined ? internalDate : internalDate >= window.from && internalDate <= window.to ? internalDate : now
    const w = restoredBy === undefined && !first && arrival === now ? window : undefined
    emit(
      'ItemCreated',
      arrival,
      restoredBy === undefined ? src : { kind: 'restore', operationId: restoredBy.operationId, seq: restoredBy.itemId, mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid },
      {
        itemId: nextItemId++ as ItemId,
        itemType: 'message',
        folderId: m.folderId as ItemId,
        flags: m.flags as Flag[],
        tags: m.tags as Tag[],
        content: { digest: m.digest, size: m.size },
        headers: m.headers,
        internalDate: instant(internalDate),
        imap: { mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid },
      },
      w,
      restoredBy?.initiator,
    )
  }
  for (const c of flagChanges) {
    countsOf(c.path).flagChanges++
    if (c.flags !== undefined) emit('ItemFlagsChanged', now, c.source, { itemId: c.itemId, flags: c.flags })
    if (c.tags !== undefined) emit('ItemTagsChanged', now, c.source, { itemId: c.itemId, tags: c.tags })
  }
  let foldersDeleted = 0
  if (!cut) {
    for (const v of paired.left) {
      countsOf(v.path).deleted++
      emit('ItemDeleted', now, { kind: 'imap-expunge', mailbox: v.state.imap?.mailbox ?? v.path, uidValidity: v.state.imap?.uidValidity ?? 0, uid: v.state.imap?.uid ?? 0, seq: round }, {
        itemId: v.state.itemId,
        itemType: v.state.itemType,
        folderId: v.state.folderId,
      })
    }
    for (const [p, c] of plan.gone) {
      delete cpFolders[p]
      foldersDeleted++
      status.set(p, 'deleted')
      emit('ItemDeleted', now, { kind: 'imap-folder-delete', mailbox: p, uidValidity: c.uidValidity, seq: round }, { itemId: c.folderId as ItemId, itemType: 'folder' })
    }
  }

  // Append in batches, each with the checkpoint as of the end of the scan: the diff is against the
  // projection, so a crash between batches is repaired by the next scan. A scan cut short keeps
  // the window's start (and, for a first scan, says it is still pending), so that the scan that
  // completes it dates and names its changes as a clean scan would.
  const checkpoint: ScanCheckpoint = cut
    ? { version: 1, nextItemId, lastScanAt, folders: cpFolders, round, ...(first && { pendingFirstScan: true }) }
    : { version: 1, nextItemId, lastScanAt: now, folders: cpFolders }
  const size = deps.batchSize ?? 1000
  let appended = 0
  let expected = expectedStart
  let interrupted = false
  const batches = events.length === 0 ? [[]] : Array.from({ length: Math.ceil(events.length / size) }, (_, i) => events.slice(i * size, (i + 1) * size))
  // Until the last batch, the checkpoint keeps the folder mapping (so ids stay stable) but marks no
  // folder as up to date, and hands out ids after the last one recorded, as a clean scan would.
  const mapping = Object.fromEntries(Object.entries(cpFolders).map(([p, c]) => [p, notUpToDate(c.folderId, c.uidValidity)]))
  let appendedMax = Math.max(cp0.right?.nextItemId ?? FIRST_USER_ITEM_ID, ...Object.values(cpFolders).map((c) => c.folderId + 1)) - 1
  const concurrent = (actual: number): E.Either<ScanError, never> => E.left({ _tag: 'Concurrent', account, expected, actual, appended })
  for (const [i, batch] of batches.entries()) {
    const lastBatch = i === batches.length - 1
    for (const e of batch) if (e.type === 'ItemCreated') appendedMax = Math.max(appendedMax, e.itemId)
    const cp: ScanCheckpoint = lastBatch || deps.plantedBug === 'checkpoint-ahead'
      ? checkpoint
      : { version: 1, nextItemId: appendedMax + 1, folders: mapping, lastScanAt, round, ...(first && { pendingFirstScan: true }) }
    // Another writer recorded first: this scan's diff is stale. (A batch made only of events the
    // store already holds would otherwise succeed, and the scan go on from a head it did not write.)
    const head = await deps.store.streamRevision(stream)()
    if (E.isLeft(head)) return E.left({ _tag: 'Store', error: head.left })
    if (head.right !== expected) return concurrent(head.right)
    // The blobs these events name are durable before the events are (docs/reliability.md).
    const synced = deps.blobs.sync()
    if (E.isLeft(synced)) return E.left({ _tag: 'Blob', message: describeBlobError(synced.left) })
    const r = await deps.store.appendToStream(stream, batch, { expectedRevision: expected, checkpoint: { name: checkpointName(account), value: JSON.stringify(cp) } })()
    if (E.isLeft(r)) return r.left._tag === 'ConcurrencyConflict' ? concurrent(r.left.actual) : E.left({ _tag: 'Store', error: r.left })
    if (r.right.lastRevision !== expected + r.right.appended) return concurrent(r.right.lastRevision)
    appended += r.right.appended
    expected = r.right.lastRevision
    await deps.afterBatch?.(i + 1)
    if (!lastBatch && deps.shouldStop?.() === true) {
      interrupted = true
      break
    }
  }
  const paths = pathsOf(server, plan)
  return E.right({
    account,
    firstScan: first,
    eventsAppended: appended,
    messagesRead,
    bytesRead,
    bytesStored,
    folders: folderReports(server, plan, paths, status, counts, knownFolders),
    foldersCreated,
    foldersRenamed,
    foldersDeleted,
    complete,
    unreadFolders: unread.map((u) => ({ ...u, path: paths.get(u.serverPath) ?? u.serverPath })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    deferredChanges,
    interrupted,
  })
}

/** Each listed folder's path as the folder tree names it (`/Inbox`, `/Archive/2019`), whatever was recorded. */
const pathsOf = (server: readonly ServerFolder[], plan: FolderPlan): Map<string, string> => {
  const states: ItemState[] = []
  for (const f of server) {
    const id = plan.byPath.get(f.path)
    // System folders are named by the tree itself (INBOX is /Inbox).
    if (id === undefined || isSystemFolder(id)) continue
    states.push({ itemId: id as ItemId, itemType: 'folder', folderId: (plan.parentOf.get(f.path) ?? FolderIds.USER_ROOT) as ItemId, name: f.name, flags: [], tags: [], status: 'live', known: true })
  }
  const tree = folderTree(states)
  return new Map(server.map((f) => [f.path, tree.pathOf(plan.byPath.get(f.path) ?? FolderIds.USER_ROOT)]))
}

/** The report's folders, listed and deleted ones, by path. */
const folderReports = (
  server: readonly ServerFolder[],
  plan: FolderPlan,
  paths: ReadonlyMap<string, string>,
  status: ReadonlyMap<string, FolderStatus>,
  counts: ReadonlyMap<string, { created: number; restored: number; moved: number; deleted: number; flagChanges: number }>,
  known: ReadonlyMap<number, ItemState>,
): FolderReport[] => {
  const before = folderTree([...known.values()])
  const zero = { created: 0, restored: 0, moved: 0, deleted: 0, flagChanges: 0 }
  const listed = server.map((f) => ({
    path: paths.get(f.path) ?? f.path,
    serverPath: f.path,
    folderId: plan.byPath.get(f.path) ?? 0,
    status: status.get(f.path) ?? 'unchanged',
    messages: f.messages,
    ...(counts.get(f.path) ?? zero),
  }))
  const deleted = plan.gone
    .filter(([p]) => status.get(p) === 'deleted')
    .map(([p, c]) => ({ path: before.pathOf(c.folderId), serverPath: p, folderId: c.folderId, status: 'deleted' as const, messages: 0, ...(counts.get(p) ?? zero) }))
  return [...listed, ...deleted].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
