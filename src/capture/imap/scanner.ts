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
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import type { ImapFlow, ListResponse } from 'imapflow'
import type { AccountId, ItemId } from '../../../domain/ids'
import { FIRST_USER_ITEM_ID, streamOfAccount } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import type { MailEvent, OccurredWindow, SourcePosition, EventType } from '../../../domain/events'
import { type Flag, type Tag, SYSTEM_FLAGS } from '../../../domain/flags'
import { FolderIds } from '../../../domain/folders'
import { type Payload, type Provenance, makeEvent } from '../../../domain/makeEvent'
import type { ItemState } from '../../../domain/state'
import { describeErrors } from '../../../domain/decode'
import type { StoreError } from '../../../projections/errors'
import type { BlobStore } from '../../blobs/blobStore'
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
  // Set while a first scan is only partly recorded, so that its resumption still dates arrivals at INTERNALDATE.
  t.partial({ pendingFirstScan: t.boolean }),
])
export type ScanCheckpoint = t.TypeOf<typeof ScanCheckpoint>
type FolderCheckpoint = t.TypeOf<typeof FolderCheckpoint>

export const checkpointName = (account: AccountId): string => `imap-scan:${account}`

export type ScanError =
  | { readonly _tag: 'Store'; readonly error: StoreError }
  | { readonly _tag: 'Blob'; readonly message: string }
  | { readonly _tag: 'Imap'; readonly account: string; readonly reason: string }
  | { readonly _tag: 'BadCheckpoint'; readonly account: string; readonly reason: string }

export interface FolderReport {
  readonly path: string
  readonly folderId: number
  readonly messages: number
  readonly created: number
  /** New messages that a restore wrote (recorded with the operation as their source). */
  readonly restored: number
  readonly moved: number
  readonly deleted: number
  readonly flagChanges: number
  readonly skipped: boolean
}

export interface ScanReport {
  readonly account: AccountId
  readonly firstScan: boolean
  readonly eventsAppended: number
  readonly bytesStored: number
  readonly folders: FolderReport[]
  readonly foldersCreated: number
  readonly foldersRenamed: number
  readonly foldersDeleted: number
  /** Folders that could not be opened (their messages are kept as recorded). */
  readonly skippedFolders: readonly { path: string; reason: string }[]
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
  /**
   * Test-only planted bug (MAILTIME_TEST_BUG=checkpoint-ahead), which the torture harness must
   * catch: every batch writes the end-of-scan checkpoint, so a resumed scan skips folders whose
   * messages were not all recorded.
   */
  readonly plantedBug?: 'checkpoint-ahead'
}

interface ServerFolder {
  readonly path: string
  readonly name: string
  readonly parentPath: string
  readonly delimiter: string
  readonly specialUse: string | undefined
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

const listFolders = async (client: ImapFlow): Promise<ServerFolder[]> => {
  const list: ListResponse[] = await client.list({ statusQuery: { uidValidity: true, uidNext: true, messages: true, highestModseq: true } })
  return list
    .filter((l) => ![...l.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f)))
    .map((l) => ({
      path: l.path,
      name: l.name,
      parentPath: l.parentPath,
      delimiter: l.delimiter,
      specialUse: specialUseOf(l),
      uidValidity: Number(l.status?.uidValidity ?? 0),
      uidNext: l.status?.uidNext ?? 0,
      messages: l.status?.messages ?? 0,
      highestModseq: l.status?.highestModseq === undefined ? undefined : String(l.status.highestModseq),
    }))
    .sort((a, b) => a.path.split(a.delimiter).length - b.path.split(b.delimiter).length || (a.path < b.path ? -1 : 1))
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
  const scanSeq = expectedStart + 1

  // What the backup knows now: live items, and every item id ever used.
  const last = { validAt: MAX_INSTANT as Instant }
  const liveE = await deps.index.liveItemsAsOf(account, last)()
  if (E.isLeft(liveE)) return E.left({ _tag: 'Store', error: liveE.left })
  const live = liveE.right
  const deletedE = await deps.index.deletedBetween(account, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
  if (E.isLeft(deletedE)) return E.left({ _tag: 'Store', error: deletedE.left })
  let nextItemId = Math.max(
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
    server = await listFolders(client)
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
  const cpFolders: Record<string, FolderCheckpoint> = { ...(cp0.right?.folders ?? {}) }
  const byPath = new Map<string, number>()
  const usedIds = new Set<number>()
  let foldersCreated = 0
  let foldersRenamed = 0
  let foldersDeleted = 0
  const seenPaths = new Set(server.map((f) => f.path))
  const vanishedFolders = Object.entries(cpFolders).filter(([p]) => !seenPaths.has(p))
  let earliest = now as number
  const parentOf = (f: ServerFolder): number =>
    f.parentPath === '' ? FolderIds.USER_ROOT : (byPath.get(f.parentPath) ?? (f.parentPath.toUpperCase() === 'INBOX' ? FolderIds.INBOX : FolderIds.USER_ROOT))
  // A folder a later scan finds existed before the first message dated in it or its subfolders
  // (a new message keeps its INTERNALDATE when it falls in the scan's window): dated a second before
  // that, never before the window, so that no message is in a folder that does not exist yet.
  const firstDatedIn = new Map<string, number>()
  const folderEventsAt = (path: string) =>
    first ? earliest - 1000 : Math.min(now, Math.max(lastScanAt, (firstDatedIn.get(path) ?? now + 1000) - 1000))
  const pending: (() => void)[] = []
  for (const f of server) {
    const special = f.path.toUpperCase() === 'INBOX' ? FolderIds.INBOX : f.specialUse !== undefined ? SPECIAL[f.specialUse] : undefined
    const cp = cpFolders[f.path]
    if (special !== undefined && !usedIds.has(special)) {
      byPath.set(f.path, special)
      usedIds.add(special)
      // Recorded as a folder the first time: an IMAP account has only the system folders its server
      // shows (Carbonio's are implicit), and an account view lists those that existed at its instant.
      if (!knownFolders.has(special))
        pending.push(() =>
          emit('ItemCreated', folderEventsAt(f.path), { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity }, {
            itemId: special as ItemId,
            itemType: 'folder',
            folderId: FolderIds.USER_ROOT as ItemId,
            name: f.name,
            flags: [],
            tags: [],
          }),
        )
      continue
    }
    if (cp !== undefined) {
      byPath.set(f.path, cp.folderId)
      usedIds.add(cp.folderId)
      // An interrupted scan may have mapped the folder without recording its creation.
      if (!knownFolders.has(cp.folderId)) {
        foldersCreated++
        pending.push(() =>
          emit('ItemCreated', folderEventsAt(f.path), { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity }, {
            itemId: cp.folderId as ItemId,
            itemType: 'folder',
            folderId: parentOf(f) as ItemId,
            name: f.name,
            flags: [],
            tags: [],
          }),
        )
      }
      continue
    }
    // A folder that disappeared with the same UIDVALIDITY was renamed (or moved in the tree).
    const renamed = vanishedFolders.find(([, c]) => c.uidValidity === f.uidValidity && !usedIds.has(c.folderId))
    const id = renamed !== undefined ? renamed[1].folderId : nextItemId++
    byPath.set(f.path, id)
    usedIds.add(id)
    if (renamed !== undefined) {
      const [oldPath, c] = renamed
      delete cpFolders[oldPath]
      cpFolders[f.path] = c
      foldersRenamed++
      pending.push(() => {
        const before = knownFolders.get(id)
        const src = { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity, seq: scanSeq }
        if (before?.name !== f.name) emit('ItemRenamed', now, src, { itemId: id as ItemId, name: f.name, itemType: 'folder' })
        if (before !== undefined && before.folderId !== parentOf(f)) emit('ItemMoved', now, src, { itemId: id as ItemId, folderId: parentOf(f) as ItemId, itemType: 'folder' })
      })
    } else if (!knownFolders.has(id)) {
      foldersCreated++
      pending.push(() =>
        emit('ItemCreated', folderEventsAt(f.path), { kind: 'imap-folder', mailbox: f.path, uidValidity: f.uidValidity }, {
          itemId: id as ItemId,
          itemType: 'folder',
          folderId: parentOf(f) as ItemId,
          name: f.name,
          flags: [],
          tags: [],
        }),
      )
    }
  }

  // Messages, folder by folder.
  const created: NewMessage[] = []
  const vanished: { state: ItemState; path: string }[] = []
  const reports = new Map<string, { folderId: number; messages: number; created: number; restored: number; moved: number; deleted: number; flagChanges: number; skipped: boolean }>()
  const flagEvents: (() => void)[] = []
  let bytes = 0
  let foldersDone = 0
  const skippedFolders: { path: string; reason: string }[] = []
  for (const f of server) {
    const folderId = byPath.get(f.path) as number
    const cp = cpFolders[f.path]
    const rep = { folderId, messages: f.messages, created: 0, restored: 0, moved: 0, deleted: 0, flagChanges: 0, skipped: false }
    reports.set(f.path, rep)
    deps.onProgress?.({ folder: f.path, foldersDone: foldersDone++, folders: server.length, messages: f.messages })
    const unchanged =
      cp !== undefined &&
      cp.uidValidity === f.uidValidity &&
      cp.uidNext === f.uidNext &&
      cp.messages === f.messages &&
      f.highestModseq !== undefined &&
      cp.highestModseq === f.highestModseq
    if (unchanged) {
      rep.skipped = true
      continue
    }
    const known = (messagesByFolder.get(folderId) ?? []).filter((s) => s.imap !== undefined)
    const sameValidity = known.filter((s) => s.imap?.uidValidity === f.uidValidity)
    const byUid = new Map(sameValidity.map((s) => [s.imap?.uid as number, s]))
    const current: { uid: number; flags: string[]; tags: string[]; modseq?: string }[] = []
    let lock: { release(): void } | undefined
    try {
      lock = await client.getMailboxLock(f.path, { readOnly: true })
    } catch (e) {
      // A folder that cannot be opened is skipped, never taken as emptied: its messages stay as recorded.
      rep.skipped = true
      skippedFolders.push({ path: f.path, reason: (e as Error).message })
      if (cp === undefined) delete cpFolders[f.path]
      continue
    }
    // Items recorded under an older UIDVALIDITY are re-read and matched by content.
    for (const s of known) if (s.imap?.uidValidity !== f.uidValidity) vanished.push({ state: s, path: f.path })
    try {
      const condstore = client.enabled.has('CONDSTORE') || client.capabilities.has('CONDSTORE')
      if (f.messages > 0 && condstore && cp?.highestModseq !== undefined && cp.uidValidity === f.uidValidity) {
        // CONDSTORE: the UID list tells what is new or gone; flags come only for messages changed
        // since the modseq of the last scan (RFC 7162 CHANGEDSINCE). Others keep their recorded flags.
        const uids = (await client.search({ all: true }, { uid: true })) || []
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
      const fresh = current.filter((m) => !byUid.has(m.uid)).map((m) => m.uid)
      for (const m of current) {
        const s = byUid.get(m.uid)
        if (s === undefined) continue
        const src = { kind: 'imap', mailbox: f.path, uidValidity: f.uidValidity, uid: m.uid, ...(m.modseq !== undefined ? { modseq: m.modseq } : { seq: scanSeq }) }
        if (!same(s.flags, m.flags)) {
          rep.flagChanges++
          flagEvents.push(() => emit('ItemFlagsChanged', now, src, { itemId: s.itemId, flags: m.flags as Flag[] }))
        }
        if (!same(s.tags, m.tags)) {
          rep.flagChanges++
          flagEvents.push(() => emit('ItemTagsChanged', now, src, { itemId: s.itemId, tags: m.tags as Tag[] }))
        }
      }
      // Fetch the new messages' bytes, in chunks, into the blob store.
      for (let i = 0; i < fresh.length; i += 200) {
        const range = fresh.slice(i, i + 200).join(',')
        for await (const m of client.fetch(range, { uid: true, flags: true, internalDate: true, envelope: true, source: true }, { uid: true })) {
          if (m.source === undefined) continue
          const put = deps.blobs.put(m.source)
          if (E.isLeft(put)) return E.left({ _tag: 'Blob', message: `${put.left._tag} ${put.left.digest}` })
          if (put.right.written) bytes += m.source.length
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
          created.push({ folderId, path: f.path, uidValidity: f.uidValidity, uid: m.uid, flags, tags, internalDate: Math.min(Math.max(idate, 0), now), digest: put.right.digest, size: m.source.length, headers })
          earliest = Math.min(earliest, Math.max(idate, 0))
        }
      }
    } catch (e) {
      return E.left({ _tag: 'Imap', account, reason: `${f.path}: ${(e as Error).message}` })
    } finally {
      lock?.release()
    }
    cpFolders[f.path] = {
      folderId,
      uidValidity: f.uidValidity,
      uidNext: f.uidNext,
      messages: f.messages,
      ...(f.highestModseq !== undefined && { highestModseq: f.highestModseq }),
    }
  }
  // Messages of folders that are gone.
  for (const [p, c] of vanishedFolders) {
    if (!Object.values(cpFolders).some((x) => x.folderId === c.folderId) || cpFolders[p] !== undefined) {
      for (const s of messagesByFolder.get(c.folderId) ?? []) vanished.push({ state: s, path: p })
    }
  }

  if (first) {
    emit('AccountCreated', earliest - 2000, { kind: 'imap-account', seq: 0 }, { name: account })
  } else if (window !== undefined) {
    const parentPath = new Map(server.map((f) => [f.path, f.parentPath]))
    for (const m of created)
      if (m.internalDate >= window.from && m.internalDate <= window.to)
        for (let p: string | undefined = m.path; p !== undefined && p !== ''; p = parentPath.get(p)) firstDatedIn.set(p, Math.min(firstDatedIn.get(p) ?? m.internalDate, m.internalDate))
  }
  for (const p of pending) p()

  // Which new messages restores wrote, read only now that every folder was listed: a restore writes
  // its intent before each APPEND, so whatever a running restore appended that the listing saw is
  // found. (Read before the listing, a restore starting meanwhile went unseen and its messages were
  // recorded as new mail: the concurrency test caught it.)
  let restored: RestoredMessages | undefined
  if (created.length > 0 && deps.restored !== undefined) {
    const r = await deps.restored()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    restored = r.right
  }

  // Moves: a vanished message and a new one with the same content are the same item.
  const pool = new Map<string, { state: ItemState; path: string }[]>()
  for (const v of vanished) {
    const k = v.state.content?.digest ?? `no-content:${v.state.itemId}`
    const list = pool.get(k)
    if (list === undefined) pool.set(k, [v])
    else list.push(v)
  }
  for (const m of created) {
    const candidates = pool.get(m.digest) ?? []
    const i = candidates.findIndex((c) => c.state.headers?.messageId === undefined || m.headers.messageId === undefined || c.state.headers.messageId === m.headers.messageId)
    const src = { kind: 'imap', mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
    const loc = { mailbox: m.path, uidValidity: m.uidValidity, uid: m.uid }
    const rep = reports.get(m.path)
    if (i >= 0) {
      const [match] = candidates.splice(i, 1)
      if (match === undefined) continue
      const s = match.state
      if (rep !== undefined) rep.moved++
      emit('ItemMoved', now, src, { itemId: s.itemId, folderId: m.folderId as ItemId, fromFolderId: s.folderId, itemType: s.itemType, imap: loc })
      if (!same(s.flags, m.flags)) emit('ItemFlagsChanged', now, src, { itemId: s.itemId, flags: m.flags as Flag[] })
      if (!same(s.tags, m.tags)) emit('ItemTagsChanged', now, src, { itemId: s.itemId, tags: m.tags as Tag[] })
      continue
    }
    const restoredBy = restored?.find({ folder: m.path, uidValidity: m.uidValidity, uid: m.uid, digest: m.digest })
    if (rep !== undefined) {
      if (restoredBy !== undefined) rep.restored++
      else rep.created++
    }
    // A restored copy keeps its original INTERNALDATE, but it exists only since the restore wrote it.
    const arrival =
      restoredBy !== undefined ? Math.min(restoredBy.at, now) : first || window === undefined ? m.internalDate : m.internalDate >= window.from && m.internalDate <= window.to ? m.internalDate : now
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
        internalDate: instant(m.internalDate),
        imap: loc,
      },
      w,
      restoredBy?.initiator,
    )
  }
  for (const f of flagEvents) f()
  for (const rest of pool.values())
    for (const v of rest) {
      const rep = reports.get(v.path)
      if (rep !== undefined) rep.deleted++
      emit('ItemDeleted', now, { kind: 'imap-expunge', mailbox: v.state.imap?.mailbox ?? v.path, uidValidity: v.state.imap?.uidValidity ?? 0, uid: v.state.imap?.uid ?? 0, seq: scanSeq }, {
        itemId: v.state.itemId,
        itemType: v.state.itemType,
        folderId: v.state.folderId,
      })
    }
  for (const [p, c] of vanishedFolders) {
    if (cpFolders[p] === undefined) continue
    delete cpFolders[p]
    foldersDeleted++
    emit('ItemDeleted', now, { kind: 'imap-folder-delete', mailbox: p, uidValidity: c.uidValidity, seq: scanSeq }, { itemId: c.folderId as ItemId, itemType: 'folder' })
  }

  // Append in batches, each with the checkpoint as of the end of the scan: the diff is against the
  // projection, so a crash between batches is repaired by the next scan.
  const checkpoint: ScanCheckpoint = { version: 1, nextItemId, lastScanAt: now, folders: cpFolders }
  const size = deps.batchSize ?? 1000
  let appended = 0
  let expected = expectedStart
  let interrupted = false
  const batches = events.length === 0 ? [[]] : Array.from({ length: Math.ceil(events.length / size) }, (_, i) => events.slice(i * size, (i + 1) * size))
  // Until the last batch, the checkpoint keeps the folder mapping (so ids stay stable) but marks no
  // folder as up to date, and hands out ids after the last one recorded, as a clean scan would.
  const mapping = Object.fromEntries(Object.entries(cpFolders).map(([p, c]) => [p, { folderId: c.folderId, uidValidity: c.uidValidity, uidNext: 0, messages: -1 }]))
  let appendedMax = Math.max(cp0.right?.nextItemId ?? FIRST_USER_ITEM_ID, ...Object.values(cpFolders).map((c) => c.folderId + 1)) - 1
  for (const [i, batch] of batches.entries()) {
    const lastBatch = i === batches.length - 1
    for (const e of batch) if (e.type === 'ItemCreated') appendedMax = Math.max(appendedMax, e.itemId)
    const cp: ScanCheckpoint = lastBatch || deps.plantedBug === 'checkpoint-ahead'
      ? checkpoint
      : { version: 1, nextItemId: appendedMax + 1, folders: mapping, lastScanAt, ...(first && { pendingFirstScan: true }) }
    const r = await deps.store.appendToStream(stream, batch, { expectedRevision: expected, checkpoint: { name: checkpointName(account), value: JSON.stringify(cp) } })()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    appended += r.right.appended
    expected = r.right.lastRevision
    await deps.afterBatch?.(i + 1)
    if (!lastBatch && deps.shouldStop?.() === true) {
      interrupted = true
      break
    }
  }
  return E.right({
    account,
    firstScan: first,
    eventsAppended: appended,
    bytesStored: bytes,
    folders: [...reports.entries()].map(([path, r]) => ({ path, ...r })).sort((a, b) => (a.path < b.path ? -1 : 1)),
    foldersCreated,
    foldersRenamed,
    foldersDeleted,
    skippedFolders,
    interrupted,
  })
}
