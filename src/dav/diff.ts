/**
 * The DAV capture's decision, pure: from what the backup knows of an account's address books,
 * calendars and their objects, and what a round read from the server, the events to record and the
 * next checkpoint. No I/O, no clock: the instant is given.
 *
 * Guarantees:
 * 1. What to record is computed against the backup's own projection (`known`), never against the
 *    checkpoint alone: a round that is read again (a crash before its last batch, a token refused)
 *    records exactly what is missing, and nothing twice.
 * 2. An object keeps its item id while its collection and path hold it. An object gone from one
 *    place and new in another in the same round, with the same UID (or, without UID, the same
 *    bytes), is a move (`ItemMoved`, then `ItemContentChanged` if its bytes changed).
 * 3. Every new version of an object's bytes is an `ItemContentChanged` (the blob store keeps each);
 *    an ETag that changed with the same bytes records nothing.
 * 4. A collection that could not be read keeps its objects as recorded and its old token: nothing
 *    in it is taken as deleted. A collection missing from a successful listing of the home is
 *    deleted, after its objects (those not moved elsewhere in the round).
 * 5. Instants: on the first round, an object is dated by what it says of itself (REV, CREATED,
 *    LAST-MODIFIED, DTSTAMP in UTC) when that is not in the future, otherwise by the round; its
 *    collection a second before its earliest object. Later rounds can only bound a change: it is
 *    dated at the round's instant with the window since the last round (`occurredWindow`).
 */
import * as t from 'io-ts'
import type { DavLocation, EventType, MailEvent, OccurredWindow, SourcePosition } from '../../domain/events'
import { FolderIds } from '../../domain/folders'
import type { AccountId, ItemId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import { type Payload, type Provenance, makeEvent } from '../../domain/makeEvent'
import type { ItemState } from '../../domain/state'
import type { CollectionInfo, CollectionKind } from './client'
import type { ParsedObject } from './parse'

// --- the checkpoint ----------------------------------------------------------------------------

const CollectionCheckpoint = t.intersection([t.type({ mode: t.keyof({ sync: null, etag: null }) }), t.partial({ token: t.string })])
export const DavCheckpoint = t.type({
  version: t.literal(1),
  /** When the last round read the server (the start of the next round's window). */
  lastSyncAt: t.number,
  /** The next item id this capture would hand out (the IMAP scanner's checkpoint has its own). */
  nextItemId: t.number,
  /** Per collection href: how it was read, and the sync token to read it from next time. */
  collections: t.record(t.string, CollectionCheckpoint),
})
export type DavCheckpoint = t.TypeOf<typeof DavCheckpoint>

export const davCheckpointName = (account: AccountId): string => `dav-sync:${account}`

// --- inputs ------------------------------------------------------------------------------------

/** An object read from the server this round, its bytes already in the blob store. */
export interface FetchedObject {
  readonly href: string
  readonly etag?: string
  readonly digest: string
  readonly size: number
  readonly parsed: ParsedObject
}

export type CollectionRead =
  /** Its token has not moved since the last round: nothing to read. */
  | { readonly _tag: 'Unchanged' }
  /** Could not be read this round: kept as recorded. */
  | { readonly _tag: 'Failed'; readonly reason: string }
  | {
      readonly _tag: 'Read'
      readonly mode: 'sync' | 'etag'
      /** True when `members` lists everything in the collection (a first sync, a refused token, an ETag listing). */
      readonly full: boolean
      readonly token?: string
      /** With `full`: every member's href. */
      readonly members: readonly string[]
      /** Objects new or changed (bytes read). */
      readonly fetched: readonly FetchedObject[]
      /** Members the server says are gone since the token (when not `full`). */
      readonly removed: readonly string[]
    }

export interface ObservedCollection {
  readonly info: CollectionInfo
  readonly read: CollectionRead
}

/** A restore wrote this object (recognised in the operations streams): recorded as restored, not as new. */
export interface RestoredObject {
  readonly operationId: string
  readonly itemId: number
  readonly at: number
  readonly initiator?: string
}

export interface DiffInput {
  readonly account: AccountId
  readonly now: Instant
  /** The stream revision the round started from (+1): part of every event's source, so an object that goes back to an earlier version gets a new event. */
  readonly seq: number
  readonly checkpoint: DavCheckpoint | undefined
  /** Whether the account already has an `AccountCreated` (from an IMAP scan, say). */
  readonly accountKnown: boolean
  /** The first item id free in the account (over every source). */
  readonly nextItemId: number
  /** Every live item of the account: the DAV ones are picked out by their `dav` location. */
  readonly live: readonly ItemState[]
  /** Every collection of every home this round listed. */
  readonly observed: readonly ObservedCollection[]
  /** Homes whose listing failed: their known collections are kept as recorded. */
  readonly unlistedHomes: readonly string[]
  readonly restored?: (href: string, digest: string) => RestoredObject | undefined
}

// --- outputs -----------------------------------------------------------------------------------

export interface CollectionReport {
  readonly href: string
  readonly name: string
  readonly kind: CollectionKind
  readonly folderId: number
  readonly read: 'sync' | 'etag' | 'unchanged' | 'failed' | 'full sync'
  readonly created: number
  readonly restored: number
  readonly changed: number
  readonly movedIn: number
  readonly deleted: number
}

export interface DiffResult {
  readonly events: MailEvent[]
  readonly checkpoint: DavCheckpoint
  readonly collections: CollectionReport[]
  readonly collectionsCreated: number
  readonly collectionsRenamed: number
  readonly collectionsDeleted: number
  /** Objects whose content could not be read in full (recorded all the same). */
  readonly problems: { href: string; problem: string }[]
  /** Collections that could not be read (kept as recorded). */
  readonly failed: { href: string; reason: string }[]
}

// --- the decision ------------------------------------------------------------------------------

const rootOf = (info: CollectionInfo): number =>
  info.kind === 'addressbook'
    ? FolderIds.CONTACTS
    : info.components !== undefined && info.components.length > 0 && info.components.every((c) => c === 'VTODO')
      ? FolderIds.TASKS
      : FolderIds.CALENDAR

/** A collection's folder name: its display name, or the last segment of its path. */
export const collectionName = (info: CollectionInfo): string => {
  if (info.displayName !== undefined && info.displayName.trim() !== '') return info.displayName
  const segs = info.href.split('/').filter((s) => s !== '')
  return segs[segs.length - 1] ?? info.href
}

const folderLocation = (info: CollectionInfo): DavLocation => ({
  href: info.href,
  collection: info.kind,
  ...(info.components !== undefined && { components: [...info.components] }),
})

const objectLocation = (o: FetchedObject): DavLocation => ({ href: o.href, ...(o.etag !== undefined && { etag: o.etag }) })

const parentOf = (href: string): string => href.slice(0, href.replace(/\/$/, '').lastIndexOf('/') + 1)

export const diffDav = (input: DiffInput): DiffResult => {
  const { account, now, seq } = input
  const first = input.checkpoint === undefined
  const window: OccurredWindow | undefined = first ? undefined : { from: instant(Math.min(input.checkpoint?.lastSyncAt ?? now, now)), to: now }
  let nextItemId = Math.max(input.nextItemId, input.checkpoint?.nextItemId ?? 0)
  const events: MailEvent[] = []
  const prov = (source: SourcePosition, w: OccurredWindow | undefined, by?: string): Provenance => ({
    accountId: account,
    observedVia: source.kind === 'restore' ? 'restore' : 'dav-sync',
    source,
    recordedAt: now,
    ...(w !== undefined && { occurredWindow: w }),
    ...(by !== undefined && { by }),
  })
  const emit = <K extends EventType>(type: K, at: number, source: SourcePosition, payload: Payload<K>, w: OccurredWindow | undefined = window, by?: string) =>
    events.push(makeEvent(type, prov(source, w, by), instant(at), payload))

  // What the backup knows: collections (folders with a DAV collection location) and their objects.
  const knownFolders = new Map<string, ItemState>()
  for (const s of input.live) if (s.itemType === 'folder' && s.dav?.collection !== undefined) knownFolders.set(s.dav.href, s)
  const folderIds = new Set([...knownFolders.values()].map((f) => f.itemId as number))
  const knownByHref = new Map<string, ItemState>()
  for (const s of input.live) if (s.itemType !== 'folder' && s.dav !== undefined && folderIds.has(s.folderId)) knownByHref.set(s.dav.href, s)

  const observedByHref = new Map(input.observed.map((o) => [o.info.href, o]))
  const cpCollections: Record<string, DavCheckpoint['collections'][string]> = { ...(input.checkpoint?.collections ?? {}) }
  const unlisted = (href: string) => input.unlistedHomes.some((h) => href.startsWith(h))

  // Collections: existing ones keep their folder; new ones get one; renames follow the display name.
  const folderOf = new Map<string, number>()
  const reports = new Map<string, { -readonly [K in keyof CollectionReport]: CollectionReport[K] }>()
  let collectionsCreated = 0
  let collectionsRenamed = 0
  let collectionsDeleted = 0
  const createFolders: { info: CollectionInfo; id: number }[] = []
  for (const o of input.observed) {
    const known = knownFolders.get(o.info.href)
    const name = collectionName(o.info)
    const id = known?.itemId ?? nextItemId++
    folderOf.set(o.info.href, id)
    const readKind: CollectionReport['read'] =
      o.read._tag === 'Unchanged' ? 'unchanged' : o.read._tag === 'Failed' ? 'failed' : o.read.mode === 'etag' ? 'etag' : o.read.full ? 'full sync' : 'sync'
    reports.set(o.info.href, { href: o.info.href, name, kind: o.info.kind, folderId: id, read: readKind, created: 0, restored: 0, changed: 0, movedIn: 0, deleted: 0 })
    if (known === undefined) {
      collectionsCreated++
      createFolders.push({ info: o.info, id })
    } else if (known.name !== name) {
      collectionsRenamed++
      emit('ItemRenamed', now, { kind: 'dav-collection', href: o.info.href, seq }, { itemId: known.itemId, name, itemType: 'folder' })
    }
  }

  // Objects: what is gone, what is new, what changed.
  interface Vanished {
    readonly state: ItemState
    readonly collection: string
  }
  const vanished: Vanished[] = []
  const fresh: { o: FetchedObject; collection: string }[] = []
  const changedEvents: (() => void)[] = []
  const problems: { href: string; problem: string }[] = []
  const failed: { href: string; reason: string }[] = []
  for (const o of input.observed) {
    const rep = reports.get(o.info.href)
    const folderId = folderOf.get(o.info.href) as number
    if (o.read._tag === 'Failed') {
      failed.push({ href: o.info.href, reason: o.read.reason })
      continue
    }
    if (o.read._tag === 'Unchanged') continue
    const read = o.read
    cpCollections[o.info.href] = { mode: read.mode, ...(read.token !== undefined && { token: read.token }) }
    const inThis = [...knownByHref.values()].filter((s) => s.folderId === folderId)
    if (read.full) {
      const members = new Set(read.members)
      for (const s of inThis) if (!members.has(s.dav?.href ?? '')) vanished.push({ state: s, collection: o.info.href })
    } else
      for (const h of read.removed) {
        const s = knownByHref.get(h)
        if (s !== undefined && s.folderId === folderId) vanished.push({ state: s, collection: o.info.href })
      }
    for (const f of read.fetched) {
      if (f.parsed.fields.problem !== undefined) problems.push({ href: f.href, problem: f.parsed.fields.problem })
      const s = knownByHref.get(f.href)
      if (s === undefined || s.folderId !== folderId) {
        fresh.push({ o: f, collection: o.info.href })
        continue
      }
      if (s.content?.digest === f.digest) continue
      if (rep !== undefined) rep.changed++
      changedEvents.push(() => emit('ItemContentChanged', now, { kind: 'dav', href: f.href, ...(f.etag !== undefined && { etag: f.etag }), seq }, contentPayload(s.itemId, f)))
    }
  }
  // Collections gone from a home that was listed: their objects vanish with them.
  const goneFolders: ItemState[] = []
  for (const [href, f] of knownFolders) {
    if (observedByHref.has(href) || unlisted(href)) continue
    goneFolders.push(f)
    for (const s of knownByHref.values()) if (s.folderId === f.itemId) vanished.push({ state: s, collection: href })
  }

  // First-round instants: by what each object says of itself, bounded by now.
  const arrival = (f: FetchedObject): number => (first ? Math.min(f.parsed.stamp ?? now, now) : now)
  const earliestIn = new Map<string, number>()
  for (const { o, collection } of fresh) earliestIn.set(collection, Math.min(earliestIn.get(collection) ?? now, arrival(o)))
  const earliest = Math.min(now, ...earliestIn.values())
  if (first && !input.accountKnown) emit('AccountCreated', earliest - 2000, { kind: 'dav-account', seq: 0 }, { name: account }, undefined)
  for (const { info, id } of createFolders) {
    const at = first ? (earliestIn.get(info.href) ?? now) - 1000 : now
    emit(
      'ItemCreated',
      at,
      { kind: 'dav-collection', href: info.href },
      {
        itemId: id as ItemId,
        itemType: 'folder',
        folderId: rootOf(info) as ItemId,
        flags: [],
        tags: [],
        name: collectionName(info),
        dav: folderLocation(info),
      },
      first ? undefined : window,
    )
  }

  // Moves: a vanished object and a new one with the same UID (or the same bytes) are one item.
  const byUid = new Map<string, Vanished[]>()
  const byDigest = new Map<string, Vanished[]>()
  const push = (m: Map<string, Vanished[]>, k: string, v: Vanished) => {
    const l = m.get(k)
    if (l === undefined) m.set(k, [v])
    else l.push(v)
  }
  for (const v of vanished) {
    if (v.state.uid !== undefined) push(byUid, `${v.state.itemType}\u0000${v.state.uid}`, v)
    if (v.state.content !== undefined) push(byDigest, v.state.content.digest, v)
  }
  const taken = new Set<number>()
  const take = (l: Vanished[] | undefined): Vanished | undefined => {
    const v = l?.find((x) => !taken.has(x.state.itemId))
    if (v !== undefined) taken.add(v.state.itemId)
    return v
  }
  for (const { o, collection } of fresh) {
    const folderId = folderOf.get(collection) as number
    const rep = reports.get(collection)
    const uid = o.parsed.uid
    const match = uid !== undefined ? take(byUid.get(`${o.parsed.itemType}\u0000${uid}`)) : take(byDigest.get(o.digest)?.filter((v) => v.state.uid === undefined))
    if (match !== undefined) {
      const s = match.state
      if (rep !== undefined) rep.movedIn++
      emit(
        'ItemMoved',
        now,
        { kind: 'dav-move', href: o.href, seq },
        { itemId: s.itemId, folderId: folderId as ItemId, fromFolderId: s.folderId, itemType: s.itemType, dav: objectLocation(o) },
      )
      if (s.content?.digest !== o.digest)
        emit('ItemContentChanged', now, { kind: 'dav', href: o.href, ...(o.etag !== undefined && { etag: o.etag }), seq }, contentPayload(s.itemId, o))
      continue
    }
    const by = input.restored?.(o.href, o.digest)
    if (rep !== undefined) {
      if (by !== undefined) rep.restored++
      else rep.created++
    }
    const p = o.parsed
    emit(
      'ItemCreated',
      by !== undefined ? Math.min(by.at, now) : arrival(o),
      by !== undefined
        ? { kind: 'restore', operationId: by.operationId, seq: by.itemId, href: o.href }
        : { kind: 'dav', href: o.href, ...(o.etag !== undefined && { etag: o.etag }) },
      {
        itemId: nextItemId++ as ItemId,
        itemType: p.itemType,
        folderId: folderId as ItemId,
        flags: [],
        tags: [],
        ...(p.name !== undefined && { name: p.name }),
        ...(p.uid !== undefined && { uid: p.uid }),
        content: { digest: o.digest, size: o.size },
        dav: objectLocation(o),
        davFields: p.fields,
      },
      by !== undefined || first ? undefined : window,
      by?.initiator,
    )
  }
  for (const c of changedEvents) c()
  for (const v of vanished) {
    if (taken.has(v.state.itemId)) continue
    const rep = reports.get(v.collection)
    if (rep !== undefined) rep.deleted++
    emit(
      'ItemDeleted',
      now,
      { kind: 'dav-delete', href: v.state.dav?.href ?? v.collection, seq },
      { itemId: v.state.itemId, itemType: v.state.itemType, folderId: v.state.folderId as ItemId },
    )
  }
  for (const f of goneFolders) {
    collectionsDeleted++
    const href = f.dav?.href ?? ''
    delete cpCollections[href]
    emit('ItemDeleted', now, { kind: 'dav-collection-delete', href, seq }, { itemId: f.itemId, itemType: 'folder', folderId: f.folderId as ItemId })
  }
  // Tokens of collections no longer listed under a listed home are dropped with them.
  for (const href of Object.keys(cpCollections)) if (!observedByHref.has(href) && !unlisted(href) && !knownFolders.has(href)) delete cpCollections[href]

  return {
    events,
    checkpoint: { version: 1, lastSyncAt: now, nextItemId, collections: cpCollections },
    collections: [...reports.values()].sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0)),
    collectionsCreated,
    collectionsRenamed,
    collectionsDeleted,
    problems,
    failed,
  }
}

const contentPayload = (itemId: ItemId, o: FetchedObject): Payload<'ItemContentChanged'> => ({
  itemId,
  itemType: o.parsed.itemType,
  content: { digest: o.digest, size: o.size },
  ...(o.parsed.name !== undefined && { name: o.parsed.name }),
  ...(o.parsed.uid !== undefined && { uid: o.parsed.uid }),
  dav: objectLocation(o),
  davFields: o.parsed.fields,
})

/** The collection an object's href is in (its parent path, with the trailing slash). */
export const collectionOfHref = parentOf
