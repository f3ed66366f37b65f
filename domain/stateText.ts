/**
 * The compact stored form of an item state: a positional JSON array with instants in epoch
 * milliseconds. The temporal index stores states this way because an account as-of reads tens of
 * thousands of them; `StoredItemState` is its io-ts codec, with a hand-written validator so that
 * decoding stays a small fraction of reading the row.
 *
 * Form: [1, itemId, itemType, folderId, flags, tags, status, known, name, content, headers,
 *        internalDate, imap, uid, createdAt, deletedAt, purgedAt, purgeReason]
 * where content = [digest, size], headers = [subject, from, to, cc, messageId, date] and
 * imap = [mailbox, uidValidity, uid]; absent values are null. A state captured over CardDAV/CalDAV
 * has a 19th field, [dav, davFields] (each an object as in `events.ts`, or null); other states keep
 * the 18 fields, so their text (and every row stored before DAV capture) is unchanged.
 */
import * as t from 'io-ts'
import { Instant } from './instant'
import { ItemType } from './itemTypes'
import { DavFields, DavLocation, type Headers } from './events'
import type { ItemState, ItemStatus } from './state'

const FORM = 1
const memo = new WeakMap<ItemState, string>()

const n = <A>(v: A | undefined): A | null => (v === undefined ? null : v)

/** The canonical stored text of a state (equal states give equal text); memoised, as states are immutable. */
export const stateText = (s: ItemState): string => {
  const hit = memo.get(s)
  if (hit !== undefined) return hit
  const h = s.headers
  const text = JSON.stringify([
    FORM,
    s.itemId,
    s.itemType,
    s.folderId,
    s.flags,
    s.tags,
    s.status,
    s.known ? 1 : 0,
    n(s.name),
    s.content === undefined ? null : [s.content.digest, s.content.size],
    h === undefined ? null : [n(h.subject), n(h.from), n(h.to), n(h.cc), n(h.messageId), n(h.date)],
    n(s.internalDate),
    s.imap === undefined ? null : [s.imap.mailbox, s.imap.uidValidity, s.imap.uid],
    n(s.uid),
    n(s.createdAt),
    n(s.deletedAt),
    n(s.purgedAt),
    n(s.purgeReason),
    ...(s.dav !== undefined || s.davFields !== undefined ? [[n(s.dav), n(s.davFields)]] : []),
  ])
  memo.set(s, text)
  return text
}

const STATUSES: ReadonlySet<string> = new Set(['live', 'deleted', 'purged'])
const isStr = (v: unknown): v is string => typeof v === 'string'
const isStrOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string'
const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr)
const isInstantOrNull = (v: unknown): v is number | null => v === null || Instant.is(v)

const fail = (why: string): never => {
  throw new Error(why)
}

const parseForm = (u: unknown): ItemState => {
  if (!Array.isArray(u) || (u.length !== 18 && u.length !== 19) || u[0] !== FORM) return fail('not a stored item state (form 1, 18 or 19 fields)')
  const [, itemId, itemType, folderId, flags, tags, status, known, name, content, headers, internalDate, imap, uid, createdAt, deletedAt, purgedAt, purgeReason, dav] = u
  if (!isId(itemId)) return fail(`itemId: ${JSON.stringify(itemId)}`)
  if (!ItemType.is(itemType)) return fail(`itemType: ${JSON.stringify(itemType)}`)
  if (!isId(folderId)) return fail(`folderId: ${JSON.stringify(folderId)}`)
  if (!isStrArray(flags) || !isStrArray(tags)) return fail('flags or tags are not string arrays')
  if (!isStr(status) || !STATUSES.has(status)) return fail(`status: ${JSON.stringify(status)}`)
  if (known !== 0 && known !== 1) return fail(`known: ${JSON.stringify(known)}`)
  if (!isStrOrNull(name) || !isStrOrNull(uid) || !isStrOrNull(purgeReason)) return fail('name, uid or purgeReason is not a string')
  if (![internalDate, createdAt, deletedAt, purgedAt].every(isInstantOrNull)) return fail('an instant is out of range')
  const s: Record<string, unknown> = { itemId, itemType, folderId, flags, tags, status: status as ItemStatus, known: known === 1 }
  if (name !== null) s.name = name
  if (content !== null) {
    if (!Array.isArray(content) || content.length !== 2 || !isStr(content[0]) || typeof content[1] !== 'number') return fail('content')
    s.content = { digest: content[0], size: content[1] }
  }
  if (headers !== null) {
    if (!Array.isArray(headers) || headers.length !== 6 || !headers.every(isStrOrNull)) return fail('headers')
    const keys = ['subject', 'from', 'to', 'cc', 'messageId', 'date'] as const
    const hs: Record<string, string> = {}
    keys.forEach((k, i) => {
      const v = headers[i] as string | null
      if (v !== null) hs[k] = v
    })
    s.headers = hs as Headers
  }
  if (internalDate !== null) s.internalDate = internalDate
  if (imap !== null) {
    if (!Array.isArray(imap) || imap.length !== 3 || !isStr(imap[0]) || typeof imap[1] !== 'number' || typeof imap[2] !== 'number') return fail('imap')
    s.imap = { mailbox: imap[0], uidValidity: imap[1], uid: imap[2] }
  }
  if (uid !== null) s.uid = uid
  if (createdAt !== null) s.createdAt = createdAt
  if (deletedAt !== null) s.deletedAt = deletedAt
  if (purgedAt !== null) s.purgedAt = purgedAt
  if (purgeReason !== null) s.purgeReason = purgeReason
  if (u.length === 19) {
    if (!Array.isArray(dav) || dav.length !== 2) return fail('dav')
    const [location, fields] = dav as unknown[]
    if (location !== null) {
      if (!DavLocation.is(location)) return fail(`dav location: ${JSON.stringify(location)}`)
      s.dav = location
    }
    if (fields !== null) {
      if (!DavFields.is(fields)) return fail(`dav fields: ${JSON.stringify(fields)}`)
      s.davFields = fields
    }
  }
  return s as unknown as ItemState
}

const ITEM_TYPES = Object.keys(ItemType.keys) as ItemType[]

/** What `readStateHead` fills in. */
export interface StateHead {
  itemId: number
  itemType: ItemType
  folderId: number
}

/**
 * Reads the item id, type and folder of the stored state that starts at `from` in `text` into
 * `into`, without decoding the rest (an account view lists these for every live item); false if the
 * text there does not start as a stored state does (ids are 1 to 15 digits, no leading zero).
 * Hand-written and allocation-free: it runs once per live item of an account as-of.
 */
export const readStateHead = (text: string, from: number, into: StateHead): boolean => {
  if (!text.startsWith('[1,', from)) return false
  const idEnd = text.indexOf(',', from + 3)
  const itemId = idBetween(text, from + 3, idEnd)
  if (itemId === 0 || text.charCodeAt(idEnd + 1) !== 34) return false
  const at = idEnd + 2
  let itemType: ItemType | undefined
  for (const t of ITEM_TYPES)
    if (text.charCodeAt(at + t.length) === 34 && text.startsWith(t, at)) {
      itemType = t
      break
    }
  if (itemType === undefined || text.charCodeAt(at + itemType.length + 1) !== 44) return false
  const folderAt = at + itemType.length + 2
  const folderId = idBetween(text, folderAt, text.indexOf(',', folderAt))
  if (folderId === 0) return false
  into.itemId = itemId
  into.itemType = itemType
  into.folderId = folderId
  return true
}

/** The id written in [start, end): 1 to 15 digits without a leading zero; 0 if it is not one. */
const idBetween = (text: string, start: number, end: number): number => {
  if (end - start < 1 || end - start > 15 || text.charCodeAt(start) === 48) return 0
  let v = 0
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < 48 || c > 57) return 0
    v = v * 10 + (c - 48)
  }
  return v
}

/** Parses and decodes a state's stored text, or says why it cannot. */
export const parseStateText = (text: string): { ok: true; state: ItemState } | { ok: false; reason: string } => {
  try {
    return { ok: true, state: parseForm(JSON.parse(text)) }
  } catch (e) {
    return { ok: false, reason: `stored item state: ${(e as Error).message}` }
  }
}

/** Decodes the stored text's parsed JSON into an item state. */
export const StoredItemState = new t.Type<ItemState, unknown, unknown>(
  'StoredItemState',
  (u): u is ItemState => typeof u === 'object' && u !== null && 'itemId' in u,
  (u, c) => {
    try {
      return t.success(parseForm(u))
    } catch (e) {
      return t.failure(u, c, `stored item state: ${(e as Error).message}`)
    }
  },
  (s) => JSON.parse(stateText(s)) as unknown,
)
