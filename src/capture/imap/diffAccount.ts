/**
 * The scanner's decision, pure: from what the backup knows of an account, what the server showed
 * (its folder listing and what was read in each folder) and the last scan's checkpoint, the events
 * that bring the backup to the server, and the checkpoint to write with them. No I/O: the scanner
 * (scanner.ts) reads the store and the server, and the appender (appender.ts) records the result.
 *
 * The guarantees this decision keeps are listed in scanner.ts (2 to 7); in short:
 * - the diff is against the backup's projection (`known`), not the checkpoint, so a scan killed at
 *   any point and run again appends exactly what is missing; the checkpoint only lets unchanged
 *   folders be skipped (`foldersToRead`) and keeps ids stable;
 * - a message gone from one folder and new in another with the same content is a move (`matchMoves`);
 * - a scan whose connection failed records nothing that depends on the folders it did not read
 *   (`deferUntilComplete`), keeps the window and, on a first scan, the account's and folders'
 *   creations for the scan that completes it, and gives its changes the same ids (`round`);
 * - a folder the server refused does not hold the rest back;
 * - every level of the hierarchy the server lists is a folder (`planFolders`).
 */
import type { FeedInstants, FeedInterval } from '../feeds/instants'
import type { AccountId, ItemId } from '../../../domain/ids'
import { FIRST_USER_ITEM_ID } from '../../../domain/ids'
import { type Instant, instant } from '../../../domain/instant'
import type { EventType, MailEvent, OccurredWindow, SourcePosition } from '../../../domain/events'
import { type Flag, type Tag, normaliseSet } from '../../../domain/flags'
import { FolderIds, NOT_A_MAILBOX, isSystemFolder } from '../../../domain/folders'
import { type Payload, type Provenance, makeEvent } from '../../../domain/makeEvent'
import type { ItemState } from '../../../domain/state'
import type { RestoredMessages } from '../../../domain/restore/restoredMessages'
import { folderTree } from '../../../projections/folderTree'
import type { ServerFolder } from '../../imap/list'
import { type FolderCheckpoint, type ScanCheckpoint, notUpToDate } from '../scanCheckpoint'
import type { FolderReport, FolderStatus, UnreadFolder } from './report'

// ---------------------------------------------------------------------------------------------
// Model

/** What the backup knows of the account when the scan begins. */
export interface KnownAccount {
  readonly account: AccountId
  /** The live items of the account's projection (as of the end of time). */
  readonly live: readonly ItemState[]
  /** The ids of items recorded and deleted since: an id is never handed out twice. */
  readonly deletedIds: readonly number[]
  /** The account stream's revision when the scan began. */
  readonly revision: number
  /**
   * The messages restores wrote into this account on this server, read once every folder was read
   * (they are recorded as restored, not as new mail). Absent: none.
   */
  readonly restored?: RestoredMessages
}

/** A message's flags as the server showed them, in Mailtime's terms (see src/imap/flags.ts). */
export interface ObservedFlags {
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  readonly modseq?: string
}

/** A message whose content the scan fetched (the backup did not hold it under its UID). */
export interface FetchedMessage {
  readonly uid: number
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  /** INTERNALDATE, ms. */
  readonly internalDate: number
  /** Of the content, now in the blob store. */
  readonly digest: string
  readonly size: number
  readonly headers: { subject?: string; from?: string; to?: string; cc?: string; messageId?: string; date?: string }
  /** Its EMAILID (OBJECTID, RFC 8474), when the server offers one. */
  readonly emailId?: string
}

/**
 * What reading one folder gave: read to the end (its UIDs; the flags of the messages whose flags the
 * server gave, all of them or, with CONDSTORE, those changed since the last scan; the messages whose
 * content was fetched), or not read, and why.
 */
export type FolderObservation =
  | { readonly _tag: 'Read'; readonly uids: readonly number[]; readonly flags: ReadonlyMap<number, ObservedFlags>; readonly fetched: readonly FetchedMessage[] }
  /** `refused`: the server answered NO (or BAD); otherwise the connection failed. */
  | { readonly _tag: 'NotRead'; readonly reason: string; readonly refused: boolean }

/** What the server showed. */
export interface ObservedAccount {
  /** The scan's instant: when it had read every folder (its window's end; its events are recorded then). */
  readonly at: Instant
  /** When the scan started reading (default `at`): the next scan's window starts there (a change made after a folder was read is the next scan's). */
  readonly startedAt?: Instant
  /** When a change feed says the changes this scan may record happened (the Dovecot spool: feeds/instants.ts). */
  readonly instants?: FeedInstants
  /** Every folder the server lists, parents before children (src/imap/list.ts). */
  readonly folders: readonly ServerFolder[]
  /**
   * What reading each folder `foldersToRead` named gave, by server path. Such a folder missing here
   * was not read, as if the connection had failed before it.
   */
  readonly reads: ReadonlyMap<string, FolderObservation>
}

/** What the scan must read in a folder: `knownUids` are messages the backup holds (their content is not fetched again). */
export interface FolderToRead {
  readonly folder: ServerFolder
  /** The last scan's HIGHESTMODSEQ, when only flags changed since it need fetching (the server must have CONDSTORE). */
  readonly changedSince?: string
  readonly knownUids: ReadonlySet<number>
}

export interface AccountDiff {
  readonly firstScan: boolean
  readonly events: readonly MailEvent[]
  /** The checkpoint written with the last batch of `events`. */
  readonly checkpoint: ScanCheckpoint
  /**
   * The checkpoint written with each batch before the last: the folder mapping (so ids stay stable)
   * but no folder up to date, and the window's start kept. Its `nextItemId` is raised past the ids
   * the batches so far created (`checkpointAfter`, appender.ts).
   */
  readonly between: ScanCheckpoint
  /** Each listed (or deleted) folder, with what the scan did there, by path. */
  readonly folders: readonly FolderReport[]
  readonly foldersCreated: number
  readonly foldersRenamed: number
  readonly foldersDeleted: number
  readonly complete: boolean
  readonly unreadFolders: readonly UnreadFolder[]
  /** Changes seen but left for a complete scan, when the connection failed (see `deferUntilComplete`). */
  readonly deferredChanges: number
}

/** A recorded message the scan no longer finds where it was (`path`: the server folder it was read from). */
export interface Vanished {
  readonly state: ItemState
  readonly path: string
}

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

/** Where a message is on the server, with its EMAILID when the server gives one. */
const imapLocation = (m: NewMessage) => ({ mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid, ...(m.emailId !== undefined && { emailId: m.emailId }) })

/** A new message with where it was found. */
interface NewMessage extends FetchedMessage {
  readonly folderId: number
  readonly path: string
  readonly uidValidity: number
}

interface FlagChange {
  readonly itemId: ItemId
  readonly path: string
  readonly uidValidity: number
  readonly uid: number
  readonly source: SourcePosition
  readonly flags?: Flag[]
  readonly tags?: Tag[]
}

interface Counts {
  created: number
  restored: number
  moved: number
  deleted: number
  flagChanges: number
}

// ---------------------------------------------------------------------------------------------
// Folders

const SPECIAL: Readonly<Record<string, number>> = {
  '\\Inbox': FolderIds.INBOX,
  '\\Trash': FolderIds.TRASH,
  '\\Junk': FolderIds.JUNK,
  '\\Sent': FolderIds.SENT,
  '\\Drafts': FolderIds.DRAFTS,
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** What a folder's flags are on the server: its mailbox attributes that Mailtime keeps. */
const folderFlags = (f: ServerFolder): Flag[] => (f.selectable ? [] : [NOT_A_MAILBOX])

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
  // MAILBOXIDs (OBJECTID) the checkpoint knows (where it had each), and those the server lists now.
  const byMailboxId = new Map(Object.entries(checkpoint).flatMap(([p, c]) => (c.mailboxId !== undefined ? [[c.mailboxId, [p, c] as const]] : [])))
  const listedIds = new Set(server.flatMap((f) => (f.mailboxId !== undefined ? [f.mailboxId] : [])))
  /** A recorded folder whose mailbox the server now lists under another name (it was renamed away). */
  const movedAway = (c: FolderCheckpoint, f: ServerFolder): boolean => c.mailboxId !== undefined && c.mailboxId !== f.mailboxId && listedIds.has(c.mailboxId)
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
    const cp = checkpoint[f.path]
    parentOf.set(f.path, parentIdOf(f))
    if (special !== undefined && !used.has(special)) {
      byPath.set(f.path, special)
      used.add(special)
      // Recorded as a folder the first time: an IMAP account has only the system folders its server
      // shows (Carbonio's are implicit), and an account view lists those that existed at its instant.
      if (!known.has(special)) changes.push({ kind: 'create', folder: f, itemId: special, parentId: FolderIds.USER_ROOT, system: true })
      continue
    }
    // The same MAILBOXID: the same folder, under this name now (renamed, or moved in the tree).
    const sameId = f.mailboxId !== undefined ? byMailboxId.get(f.mailboxId) : undefined
    const here = cp !== undefined && !used.has(cp.folderId) && !movedAway(cp, f) ? cp : undefined
    if (sameId !== undefined && !used.has(sameId[1].folderId) && (here === undefined || here === sameId[1])) {
      const [oldPath, c] = sameId
      if (!listed.has(oldPath)) delete folders[oldPath]
      folders[f.path] = c
      byPath.set(f.path, c.folderId)
      used.add(c.folderId)
      follow(f, c.folderId)
      continue
    }
    if (here !== undefined) {
      folders[f.path] = here
      byPath.set(f.path, here.folderId)
      used.add(here.folderId)
      follow(f, here.folderId)
      continue
    }
    // A folder that disappeared with the same UIDVALIDITY was renamed (or moved in the tree), unless
    // both have MAILBOXIDs and they differ.
    const renamed =
      f.selectable && f.uidValidity !== 0
        ? vanished.find(
            ([, c]) => c.uidValidity === f.uidValidity && !used.has(c.folderId) && (c.mailboxId === undefined || f.mailboxId === undefined || c.mailboxId === f.mailboxId),
          )
        : undefined
    const id = renamed !== undefined ? renamed[1].folderId : nextItemId++
    byPath.set(f.path, id)
    used.add(id)
    if (renamed !== undefined) {
      const [oldPath, c] = renamed
      delete folders[oldPath]
      folders[f.path] = c
      follow(f, id)
    } else {
      folders[f.path] = notUpToDate(id, f.uidValidity, f.mailboxId)
      if (!known.has(id)) changes.push({ kind: 'create', folder: f, itemId: id, parentId: parentIdOf(f) })
    }
  }
  const gone = vanished.filter(([p]) => folders[p] !== undefined)
  return { byPath, parentOf, folders, changes, gone, nextItemId }
}

// ---------------------------------------------------------------------------------------------
// Messages

/**
 * Pairs messages gone from where they were with new ones of the same content (and Message-ID):
 * each pair is a move. Pure; the order of both lists decides ties, as a clean scan meets them.
 */
export const matchMoves = <V extends Vanished, N extends { readonly digest: string; readonly headers: { readonly messageId?: string }; readonly emailId?: string }>(
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
    // EMAILIDs (OBJECTID), where both have one, decide: equal, the same message (a server may give
    // identical messages one EMAILID: then the order decides among them); different, never.
    const emailIdOf = (c: V) => c.state.imap?.emailId
    const sameMessageId = (c: V) => c.state.headers?.messageId === undefined || m.headers.messageId === undefined || c.state.headers.messageId === m.headers.messageId
    const byEmailId = m.emailId === undefined ? -1 : candidates.findIndex((c) => emailIdOf(c) === m.emailId)
    const i = byEmailId >= 0 ? byEmailId : candidates.findIndex((c) => sameMessageId(c) && (m.emailId === undefined || emailIdOf(c) === undefined))
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
 * accounts for wait too (they may have moved into a folder not read): see `diffAccount`.
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

/** The messages recorded in one server folder under its current UIDVALIDITY, by UID. */
const byUidOf = (known: readonly ItemState[], uidValidity: number): Map<number, ItemState> =>
  new Map(known.filter((s) => s.imap?.uidValidity === uidValidity).map((s) => [s.imap?.uid as number, s]))

/**
 * One folder read to the end, against what the backup holds there: its new messages, the recorded
 * ones it no longer holds (items recorded under an older UIDVALIDITY among them: they are matched
 * by content), and flag and keyword changes. A message whose flags the server did not give (with
 * CONDSTORE: unchanged since the last scan) keeps its recorded flags.
 */
const diffFolder = (
  f: ServerFolder,
  folderId: number,
  known: readonly ItemState[],
  read: Extract<FolderObservation, { _tag: 'Read' }>,
  round: number,
): { fresh: NewMessage[]; vanished: Vanished[]; flagChanges: FlagChange[] } => {
  const byUid = byUidOf(known, f.uidValidity)
  const vanished: Vanished[] = known.filter((s) => s.imap?.uidValidity !== f.uidValidity).map((s) => ({ state: s, path: f.path }))
  const present = new Set(read.uids)
  for (const [uid, s] of byUid) if (!present.has(uid)) vanished.push({ state: s, path: f.path })
  const flagChanges: FlagChange[] = []
  for (const uid of read.uids) {
    const s = byUid.get(uid)
    const m = read.flags.get(uid)
    if (s === undefined || m === undefined) continue
    const source = { kind: 'imap', mailbox: f.path, uidValidity: f.uidValidity, uid, ...(m.modseq !== undefined ? { modseq: m.modseq } : { seq: round }) }
    const at = { path: f.path, uidValidity: f.uidValidity, uid }
    if (!same(s.flags, m.flags)) flagChanges.push({ itemId: s.itemId, ...at, source, flags: [...m.flags] as Flag[] })
    if (!same(s.tags, m.tags)) flagChanges.push({ itemId: s.itemId, ...at, source, tags: [...m.tags] as Tag[] })
  }
  const fresh = read.fetched.map((m) => ({ ...m, folderId, path: f.path, uidValidity: f.uidValidity }))
  return { fresh, vanished, flagChanges }
}

// ---------------------------------------------------------------------------------------------
// The account

/** What the diff derives from the backup and the checkpoint before looking at any folder's messages. */
interface Basis {
  readonly first: boolean
  readonly lastScanAt: number | undefined
  readonly round: number
  readonly plan: FolderPlan
  readonly knownFolders: ReadonlyMap<number, ItemState>
  readonly messagesByFolder: ReadonlyMap<number, readonly ItemState[]>
}

const basisOf = (known: KnownAccount, server: readonly ServerFolder[], checkpoint: ScanCheckpoint | undefined): Basis => {
  const firstFreeId = Math.max(checkpoint?.nextItemId ?? FIRST_USER_ITEM_ID, FIRST_USER_ITEM_ID, ...known.live.map((s) => s.itemId + 1), ...known.deletedIds.map((id) => id + 1))
  const knownFolders = new Map(known.live.filter((s) => s.itemType === 'folder').map((s) => [s.itemId as number, s]))
  const messagesByFolder = new Map<number, ItemState[]>()
  for (const s of known.live) {
    if (s.itemType === 'folder' || s.imap === undefined) continue
    const list = messagesByFolder.get(s.folderId)
    if (list === undefined) messagesByFolder.set(s.folderId, [s])
    else list.push(s)
  }
  return {
    first: checkpoint === undefined || checkpoint.pendingFirstScan === true,
    lastScanAt: checkpoint?.lastScanAt,
    // The `seq` of this scan's changes in their source position (so in their ids): a scan resuming
    // one that did not finish gives its changes the same ids.
    round: checkpoint?.round ?? known.revision + 1,
    plan: planFolders(server, checkpoint?.folders ?? {}, knownFolders, firstFreeId),
    knownFolders,
    messagesByFolder,
  }
}

/** Whether a folder's STATUS is the one the checkpoint holds: it is not opened. */
export const unchangedSince = (cp: FolderCheckpoint | undefined, f: ServerFolder): boolean =>
  cp !== undefined &&
  cp.uidValidity === f.uidValidity &&
  cp.uidNext === f.uidNext &&
  cp.messages === f.messages &&
  f.highestModseq !== undefined &&
  cp.highestModseq === f.highestModseq

/**
 * The folders a scan must read, in listing order: mailboxes whose STATUS differs from the
 * checkpoint's (renamed folders are compared under their new path). Pure.
 */
export const foldersToRead = (known: KnownAccount, server: readonly ServerFolder[], checkpoint: ScanCheckpoint | undefined): FolderToRead[] => {
  const { plan, messagesByFolder } = basisOf(known, server, checkpoint)
  const out: FolderToRead[] = []
  for (const f of server) {
    const cp = plan.folders[f.path]
    if (!f.selectable || unchangedSince(cp, f)) continue
    const folderId = plan.byPath.get(f.path) as number
    out.push({
      folder: f,
      ...(cp?.highestModseq !== undefined && cp.uidValidity === f.uidValidity && { changedSince: cp.highestModseq }),
      knownUids: new Set(byUidOf(messagesByFolder.get(folderId) ?? [], f.uidValidity).keys()),
    })
  }
  return out
}

/**
 * Each listed folder's messages against the backup: levels that are not mailboxes, folders the
 * checkpoint says are unchanged, folders not read, folders read. Updates `cpFolders` (the
 * checkpoint's folders) as it goes.
 */
const diffFolders = (
  server: readonly ServerFolder[],
  reads: ReadonlyMap<string, FolderObservation>,
  plan: FolderPlan,
  messagesByFolder: ReadonlyMap<number, readonly ItemState[]>,
  cpFolders: Record<string, FolderCheckpoint>,
  round: number,
): { created: NewMessage[]; vanished: Vanished[]; flagChanges: FlagChange[]; status: Map<string, FolderStatus>; unread: UnreadFolder[] } => {
  const idOf = (path: string): number => plan.byPath.get(path) as number
  const created: NewMessage[] = []
  const vanished: Vanished[] = []
  const flagChanges: FlagChange[] = []
  const status = new Map<string, FolderStatus>()
  const unread: UnreadFolder[] = []
  for (const f of server) {
    const folderId = idOf(f.path)
    const cp = cpFolders[f.path]
    const knownHere = messagesByFolder.get(folderId) ?? []
    if (!f.selectable) {
      // Nothing to read; messages recorded there (when it was a mailbox) are gone with it.
      status.set(f.path, 'not a mailbox')
      for (const s of knownHere) vanished.push({ state: s, path: f.path })
      cpFolders[f.path] = { folderId, uidValidity: 0, uidNext: 0, messages: 0 }
      continue
    }
    if (unchangedSince(cp, f)) {
      status.set(f.path, 'unchanged')
      // A checkpoint written before MAILBOXIDs were kept learns them here.
      if (cp !== undefined && f.mailboxId !== undefined && cp.mailboxId !== f.mailboxId) cpFolders[f.path] = { ...cp, mailboxId: f.mailboxId }
      continue
    }
    const read = reads.get(f.path) ?? { _tag: 'NotRead', reason: 'not read by this scan', refused: false }
    if (read._tag === 'NotRead') {
      // A folder not read is never taken as emptied: its messages stay as recorded, and it stays
      // mapped (so its id is kept) but not up to date (so the next scan reads it).
      status.set(f.path, 'not read')
      unread.push({ path: f.path, serverPath: f.path, reason: read.reason, refused: read.refused })
      cpFolders[f.path] = notUpToDate(folderId, cp?.uidValidity ?? f.uidValidity, f.mailboxId)
      continue
    }
    const d = diffFolder(f, folderId, knownHere, read, round)
    created.push(...d.fresh)
    vanished.push(...d.vanished)
    flagChanges.push(...d.flagChanges)
    status.set(f.path, 'read')
    cpFolders[f.path] = {
      folderId,
      uidValidity: f.uidValidity,
      uidNext: f.uidNext,
      messages: f.messages,
      ...(f.highestModseq !== undefined && { highestModseq: f.highestModseq }),
      ...(f.mailboxId !== undefined && { mailboxId: f.mailboxId }),
    }
  }
  return { created, vanished, flagChanges, status, unread }
}

/** Events of one scan, in the order they are recorded, with the provenance they share. */
const eventLog = (account: AccountId, now: Instant, window: OccurredWindow | undefined) => {
  const events: MailEvent[] = []
  const prov = (source: SourcePosition, w: OccurredWindow | undefined = window, by?: string): Provenance => ({
    accountId: account,
    observedVia: source.kind === 'restore' ? 'restore' : 'imap-scan',
    source,
    recordedAt: now,
    ...(w !== undefined && { occurredWindow: w }),
    ...(by !== undefined && { by }),
  })
  const emit = <K extends EventType>(type: K, at: number, source: SourcePosition, payload: Payload<K>, w?: OccurredWindow, by?: string): void => {
    events.push(makeEvent(type, prov(source, w, by), instant(at), payload))
  }
  /**
   * A change a feed dated, when its instant falls within this scan's window: at the interval's end,
   * with the interval as its window when it is not one instant. A first scan has no window: it
   * dates by INTERNALDATE.
   */
  const fed = (i: FeedInterval | undefined): Fed | undefined => {
    if (i === undefined || window === undefined || i.from < window.from || i.from > now) return undefined
    const to = Math.min(i.to, now)
    return { at: to, w: i.from === to ? undefined : { from: instant(i.from), to: instant(to) } }
  }
  /** `emit` at the feed's instant when it gave one, else at `at` within the scan's window. */
  const emitFed = <K extends EventType>(type: K, f: Fed | undefined, at: number, source: SourcePosition, payload: Payload<K>): void => {
    if (f === undefined) emit(type, at, source, payload)
    else events.push(makeEvent(type, { ...withoutWindow(prov(source)), ...(f.w !== undefined && { occurredWindow: f.w }) }, instant(f.at), payload))
  }
  return { events, emit, fed, emitFed }
}

/** An instant a feed gave a change, as the scan records it. */
interface Fed {
  readonly at: number
  readonly w: OccurredWindow | undefined
}

const withoutWindow = ({ occurredWindow: _, ...p }: Provenance): Provenance => p

/**
 * The scan's decision (see the module's comment). Its parts run in the order of the events they
 * record: each folder's messages against the backup, what waits for a complete scan, the folders'
 * changes, moves and new messages, flag changes, deletions; then the checkpoint. It is one function
 * of about 140 lines because these parts share the scan's running state (the checkpoint's folders,
 * the next item id, the event log, the per-folder counts) in that order; each part is commented.
 */
export const diffAccount = (known: KnownAccount, observed: ObservedAccount, checkpoint: ScanCheckpoint | undefined): AccountDiff => {
  const server = observed.folders
  const now = observed.at
  const { first, round, plan, knownFolders, messagesByFolder } = basisOf(known, server, checkpoint)
  const lastScanAt = checkpoint?.lastScanAt ?? now
  const window: OccurredWindow | undefined = first ? undefined : { from: instant(lastScanAt), to: now }
  const { events, emit, fed, emitFed } = eventLog(known.account, now, window)
  const fi = observed.instants
  let nextItemId = plan.nextItemId
  const cpFolders: Record<string, FolderCheckpoint> = { ...plan.folders }
  const idOf = (path: string): number => plan.byPath.get(path) as number

  // Messages, folder by folder.
  const { created, vanished, flagChanges, status, unread } = diffFolders(server, observed.reads, plan, messagesByFolder, cpFolders, round)
  const complete = unread.length === 0
  // The connection failed before every folder was read: what was read waits for the rescan where it
  // depends on what was not. Folders the server refused do not hold the rest back.
  const cut = unread.some((u) => !u.refused)
  // Messages of folders that are gone.
  for (const [p, c] of plan.gone) for (const s of messagesByFolder.get(c.folderId) ?? []) vanished.push({ state: s, path: p })

  // What waits for a complete scan; the folders it was seen in are not up to date.
  const unreadIds = new Set(unread.map((u) => idOf(u.path)))
  const split: { now: NewMessage[]; later: NewMessage[] } = cut ? deferUntilComplete(created, unreadIds, messagesByFolder) : { now: created, later: [] }
  const paired = matchMoves(vanished, split.now)
  const deferred = cut ? [...split.later.map((m) => m.path), ...paired.left.map((v) => v.path)] : []
  for (const p of deferred) {
    const c = cpFolders[p]
    if (c !== undefined && plan.byPath.has(p)) cpFolders[p] = notUpToDate(c.folderId, c.uidValidity, c.mailboxId)
  }
  const deferredChanges = cut ? split.later.length + paired.left.length + plan.gone.length : 0

  // Folders: creations (dated by `folderEventsAt`), renames, moves in the tree, flags.
  const dating = folderDating(first, window, now, lastScanAt, server, created, known.live, (m) => fed(fi?.added(m.path, m.uidValidity, m.uid))?.at)
  if (first && !cut) emit('AccountCreated', dating.earliest - 2000, { kind: 'imap-account', seq: 0 }, { name: known.account })
  const folderCounts = emitFolderChanges(plan.changes, {
    first,
    cut,
    round,
    now,
    at: dating.folderEventsAt,
    emit,
    emitFed,
    // A folder exists before the first message dated in it: a feed's instant after that is not taken.
    createdAt: (path) => {
      const f = first ? undefined : fed(fi?.folderCreated(path))
      return f !== undefined && f.at <= (dating.firstDatedIn.get(path) ?? now) ? f : undefined
    },
    renamedAt: (path) => fed(fi?.folderRenamed(path)),
  })

  // Moves: a vanished message and a new one with the same content are the same item.
  const counts = new Map<string, Counts>()
  const countsOf = (path: string): Counts => {
    const hit = counts.get(path)
    if (hit !== undefined) return hit
    const c = { created: 0, restored: 0, moved: 0, deleted: 0, flagChanges: 0 }
    counts.set(path, c)
    return c
  }
  for (const { message: m, from } of paired.moves) {
    const s = from.state
    const src = { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
    countsOf(m.path).moved++
    // A MOVE adds the message to its new folder (the feed's MessageAppend there).
    const movedAt = fed(fi?.added(m.path, m.uidValidity, m.uid))
    emitFed('ItemMoved', movedAt, now, src, { itemId: s.itemId, folderId: m.folderId as ItemId, fromFolderId: s.folderId, itemType: s.itemType, imap: imapLocation(m) })
    if (!same(s.flags, m.flags)) emitFed('ItemFlagsChanged', movedAt, now, src, { itemId: s.itemId, flags: [...m.flags] as Flag[] })
    if (!same(s.tags, m.tags)) emitFed('ItemTagsChanged', movedAt, now, src, { itemId: s.itemId, tags: [...m.tags] as Tag[] })
  }
  // New messages: new mail, or copies a restore wrote.
  for (const m of paired.fresh) {
    const restoredBy = known.restored?.find({ folder: m.path, uidValidity: m.uidValidity, uid: m.uid, digest: m.digest })
    if (restoredBy !== undefined) countsOf(m.path).restored++
    else countsOf(m.path).created++
    // Arrival at INTERNALDATE (never after the scan); a restored copy keeps its original
    // INTERNALDATE, but it exists only since the restore wrote it.
    const internalDate = Math.min(m.internalDate, now)
    // A message the feed dated arrived then (not at INTERNALDATE, to the second).
    const arrivedAt = restoredBy === undefined && !first ? fed(fi?.added(m.path, m.uidValidity, m.uid)) : undefined
    const arrival =
      restoredBy !== undefined
        ? Math.min(restoredBy.at, now)
        : first || window === undefined
          ? internalDate
          : internalDate >= window.from && internalDate <= window.to
            ? internalDate
            : now
    const w = restoredBy === undefined && !first && arrival === now ? window : undefined
    const payload: Payload<'ItemCreated'> = {
      itemId: nextItemId++ as ItemId,
      itemType: 'message',
      folderId: m.folderId as ItemId,
      flags: [...m.flags] as Flag[],
      tags: [...m.tags] as Tag[],
      content: { digest: m.digest, size: m.size },
      headers: m.headers,
      internalDate: instant(internalDate),
      imap: imapLocation(m),
    }
    if (arrivedAt !== undefined) emitFed('ItemCreated', arrivedAt, arrival, { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }, payload)
    else
      emit(
        'ItemCreated',
        arrival,
        restoredBy === undefined
          ? { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
          : { kind: 'restore', operationId: restoredBy.operationId, seq: restoredBy.itemId, mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid },
        payload,
        w,
        restoredBy?.initiator,
      )
  }
  for (const c of flagChanges) {
    countsOf(c.path).flagChanges++
    const changedAt = fed(fi?.flagsChanged(c.path, c.uidValidity, c.uid))
    if (c.flags !== undefined) emitFed('ItemFlagsChanged', changedAt, now, c.source, { itemId: c.itemId, flags: c.flags })
    if (c.tags !== undefined) emitFed('ItemTagsChanged', changedAt, now, c.source, { itemId: c.itemId, tags: c.tags })
  }
  // Deletions, only when nothing waits for a complete scan: messages first, then their folders.
  let foldersDeleted = 0
  if (!cut) {
    for (const v of paired.left) {
      countsOf(v.path).deleted++
      const imap = v.state.imap
      emitFed(
        'ItemDeleted',
        imap === undefined ? undefined : fed(fi?.expunged(imap.mailbox, imap.uidValidity, imap.uid)),
        now,
        { kind: 'imap-expunge', mailbox: v.state.imap?.mailbox ?? v.path, uidValidity: v.state.imap?.uidValidity ?? 0, uid: v.state.imap?.uid ?? 0, seq: round },
        {
          itemId: v.state.itemId,
          itemType: v.state.itemType,
          folderId: v.state.folderId,
        },
      )
    }
    for (const [p, c] of plan.gone) {
      delete cpFolders[p]
      // Already deleted (a mail_log import pinned it): nothing left to record.
      if (!knownFolders.has(c.folderId)) continue
      foldersDeleted++
      status.set(p, 'deleted')
      emitFed(
        'ItemDeleted',
        fed(fi?.folderDeleted(p)),
        now,
        { kind: 'imap-folder-delete', mailbox: p, uidValidity: c.uidValidity, seq: round },
        { itemId: c.folderId as ItemId, itemType: 'folder' },
      )
    }
  }

  // The checkpoint as of the end of the scan. A scan cut short keeps the window's start (and, for
  // a first scan, says it is still pending), so that the scan that completes it dates and names its
  // changes as a clean scan would. Between batches, the checkpoint keeps the folder mapping (so ids
  // stay stable) but marks no folder as up to date, and hands out ids after the last one recorded.
  // (Keys in the order earlier versions wrote them: the stored JSON stays the same.)
  const paths = pathsOf(server, plan)
  return {
    firstScan: first,
    events,
    checkpoint: cut
      ? { version: 1, nextItemId, lastScanAt, folders: cpFolders, round, ...(first && { pendingFirstScan: true }) }
      : { version: 1, nextItemId, lastScanAt: observed.startedAt ?? now, folders: cpFolders },
    between: {
      version: 1,
      nextItemId: Math.max(checkpoint?.nextItemId ?? FIRST_USER_ITEM_ID, ...Object.values(cpFolders).map((c) => c.folderId + 1)),
      folders: Object.fromEntries(Object.entries(cpFolders).map(([p, c]) => [p, notUpToDate(c.folderId, c.uidValidity, c.mailboxId)])),
      lastScanAt,
      round,
      ...(first && { pendingFirstScan: true }),
    },
    folders: folderReports(server, plan, paths, status, counts, knownFolders),
    foldersCreated: folderCounts.created,
    foldersRenamed: folderCounts.renamed,
    foldersDeleted,
    complete,
    unreadFolders: unread.map((u) => ({ ...u, path: paths.get(u.serverPath) ?? u.serverPath })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    deferredChanges,
  }
}

/**
 * When folder events happen. A first scan dates the account and its folders before its earliest
 * message, counting those a first attempt that did not finish recorded. A folder a later scan finds
 * existed before the first message dated in it or its subfolders (a new message keeps its
 * INTERNALDATE when it falls in the scan's window): dated a second before that, never before the
 * window, so that no message is in a folder that does not exist yet.
 */
const folderDating = (
  first: boolean,
  window: OccurredWindow | undefined,
  now: number,
  lastScanAt: number,
  server: readonly ServerFolder[],
  created: readonly NewMessage[],
  live: readonly ItemState[],
  fedArrival: (m: NewMessage) => number | undefined,
): { earliest: number; folderEventsAt: (path: string) => number; firstDatedIn: ReadonlyMap<string, number> } => {
  let earliest: number = now
  for (const m of created) earliest = Math.min(earliest, m.internalDate)
  if (first) for (const s of live) if (s.internalDate !== undefined) earliest = Math.min(earliest, s.internalDate)
  const firstDatedIn = new Map<string, number>()
  if (!first && window !== undefined) {
    const parentPath = new Map(server.map((f) => [f.path, f.parentPath]))
    // A message a feed dated is dated so, whatever its INTERNALDATE.
    for (const m of created) {
      const at = fedArrival(m) ?? (m.internalDate >= window.from && m.internalDate <= window.to ? m.internalDate : undefined)
      if (at !== undefined)
        for (let p: string | undefined = m.path; p !== undefined && p !== ''; p = parentPath.get(p)) firstDatedIn.set(p, Math.min(firstDatedIn.get(p) ?? at, at))
    }
  }
  return { earliest, firstDatedIn, folderEventsAt: (path) => (first ? earliest - 1000 : Math.min(now, Math.max(lastScanAt, (firstDatedIn.get(path) ?? now + 1000) - 1000))) }
}

/** The events of the folders' changes (`planFolders`); how many were user folders created, and renamed. */
const emitFolderChanges = (
  changes: readonly FolderChange[],
  s: {
    readonly first: boolean
    readonly cut: boolean
    readonly round: number
    readonly now: number
    readonly at: (path: string) => number
    readonly emit: ReturnType<typeof eventLog>['emit']
    readonly emitFed: ReturnType<typeof eventLog>['emitFed']
    /** The feed's instants of a folder's creation and rename, when taken (see `diffAccount`). */
    readonly createdAt: (path: string) => Fed | undefined
    readonly renamedAt: (path: string) => Fed | undefined
  },
): { created: number; renamed: number } => {
  let created = 0
  let renamed = 0
  for (const c of changes) {
    const f = c.folder
    const src = { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity, seq: s.round }
    const itemId = c.itemId as ItemId
    switch (c.kind) {
      case 'create':
        // On a first scan, dated before the earliest message: only a complete scan knows it.
        if (s.first && s.cut) break
        if (c.system !== true) created++
        s.emitFed(
          'ItemCreated',
          s.createdAt(f.path),
          s.at(f.path),
          { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity },
          {
            itemId,
            itemType: 'folder',
            folderId: c.parentId as ItemId,
            name: f.name,
            flags: folderFlags(f),
            tags: [],
          },
        )
        break
      case 'rename':
        renamed++
        s.emitFed('ItemRenamed', s.renamedAt(f.path), s.now, src, { itemId, name: f.name, itemType: 'folder' })
        break
      case 'move':
        s.emitFed('ItemMoved', s.renamedAt(f.path), s.now, src, { itemId, folderId: c.parentId as ItemId, fromFolderId: c.fromParentId as ItemId, itemType: 'folder' })
        break
      case 'flags':
        s.emit('ItemFlagsChanged', s.now, src, { itemId, flags: folderFlags(f), itemType: 'folder' })
        break
    }
  }
  return { created, renamed }
}

// ---------------------------------------------------------------------------------------------
// The report's folders

/** Each listed folder's path as the folder tree names it (`/Inbox`, `/Archive/2019`), whatever was recorded. */
const pathsOf = (server: readonly ServerFolder[], plan: FolderPlan): Map<string, string> => {
  const states: ItemState[] = []
  for (const f of server) {
    const id = plan.byPath.get(f.path)
    // System folders are named by the tree itself (INBOX is /Inbox).
    if (id === undefined || isSystemFolder(id)) continue
    states.push({
      itemId: id as ItemId,
      itemType: 'folder',
      folderId: (plan.parentOf.get(f.path) ?? FolderIds.USER_ROOT) as ItemId,
      name: f.name,
      flags: [],
      tags: [],
      status: 'live',
      known: true,
    })
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
  counts: ReadonlyMap<string, Counts>,
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

/**
 * The report's folders for a scan that found the account as its checkpoint holds it (unchanged.ts):
 * every mailbox unchanged, every other level not a mailbox, as a full diff would report them. Pure.
 */
export const unchangedFolderReports = (server: readonly ServerFolder[], checkpoint: ScanCheckpoint): FolderReport[] => {
  const plan = planFolders(server, checkpoint.folders, new Map(), checkpoint.nextItemId)
  const status = new Map(server.map((f): [string, FolderStatus] => [f.path, f.selectable ? 'unchanged' : 'not a mailbox']))
  return folderReports(server, plan, pathsOf(server, plan), status, new Map(), new Map())
}
