/**
 * Decoding a stored event's parsed JSON without walking the io-ts codec, for the paths that read
 * events by the million (paged reads, the replay, the export's timeline): the catalogue codec took
 * about 30 µs an event, most of it in nested intersections building their results.
 *
 * The rule that keeps this safe: this decoder may only accept what `MailEvent.decode` accepts, with
 * the same value. Whatever it does not accept goes to the codec, which then decides (and names the
 * error). A property test checks both directions on random valid and damaged events.
 */
import * as E from 'fp-ts/Either'
import { describeErrors } from './decode'
import { DavFields, DavLocation, EVENT_TYPES, MailEvent, ObservedVia, SCHEMA_VERSION } from './events'
import { Flag, Tag } from './flags'
import { AccountId, EventId, ItemId } from './ids'
import { instantOfIso } from './instant'
import { ItemType } from './itemTypes'

type Fields = Record<string, unknown>
type Check = (v: unknown) => boolean

const isRecord = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v)
const str: Check = (v) => typeof v === 'string'
const num: Check = (v) => typeof v === 'number'
const instantOf = (v: unknown) => (typeof v === 'string' ? instantOfIso(v) : undefined)
const iso: Check = (v) => instantOf(v) !== undefined
const arrayOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c)
const shape = (required: Record<string, Check>, optional: Record<string, Check> = {}): Check => {
  // Keys and checks as arrays: walking the records with `for … in` was a third of the decoding.
  const reqKeys = Object.keys(required)
  const reqChecks = Object.values(required)
  const optKeys = Object.keys(optional)
  const optChecks = Object.values(optional)
  return (v) => {
    if (!isRecord(v)) return false
    for (let i = 0; i < reqKeys.length; i++) if (!(reqChecks[i] as Check)(v[reqKeys[i] as string])) return false
    for (let i = 0; i < optKeys.length; i++) {
      const x = v[optKeys[i] as string]
      if (x !== undefined && !(optChecks[i] as Check)(x)) return false
    }
    return true
  }
}

const content = shape({ digest: str, size: num })
const headers = shape({}, { subject: str, from: str, to: str, cc: str, messageId: str, date: str })
const imap = shape({ mailbox: str, uidValidity: num, uid: num })
const dav: Check = DavLocation.is
const davFields: Check = DavFields.is
const source = shape(
  { kind: str },
  {
    file: str,
    line: num,
    offset: num,
    mailbox: str,
    uidValidity: num,
    uid: num,
    modseq: str,
    seq: num,
    operationId: str,
    scanId: str,
    name: str,
    mid: str,
    request: str,
    href: str,
    etag: str,
  },
)
const envelope = shape(
  {
    schemaVersion: (v) => v === SCHEMA_VERSION,
    eventId: EventId.is,
    accountId: AccountId.is,
    observedVia: ObservedVia.is,
    source,
  },
  { occurredWindow: shape({ from: iso, to: iso }), by: str },
)
const itemId = ItemId.is
const itemType = ItemType.is
const flags = arrayOf(Flag.is)
const tags = arrayOf(Tag.is)

/** Each event type's own fields, as `events.ts` declares them. */
const BODIES: Record<MailEvent['type'], Check> = {
  // internalDate is read by decodeFast, once.
  ItemCreated: shape({ itemId, itemType, folderId: itemId, flags, tags }, { name: str, content, headers, imap, uid: str, dav, davFields }),
  ItemMoved: shape({ itemId, folderId: itemId }, { fromFolderId: itemId, itemType, imap, dav }),
  ItemRenamed: shape({ itemId, name: str }, { itemType }),
  ItemFlagsChanged: shape({ itemId, flags }, { itemType }),
  ItemTagsChanged: shape({ itemId, tags }, { itemType }),
  ItemContentChanged: shape({ itemId, content }, { headers, itemType, dav, davFields, name: str, uid: str }),
  ItemDeleted: shape({ itemId }, { itemType, folderId: itemId }),
  ItemPurged: shape({ itemId, reason: str }, { itemType }),
  AccountCreated: shape({ name: str }),
  AccountRenamed: shape({ name: str }),
  AccountDeleted: shape({}),
  LegalHoldSet: shape({}, { reason: str }),
  LegalHoldReleased: shape({}, { reason: str }),
}
const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES)

/** The fast path: the event, or undefined when the codec must decide (exported for its property test). */
export const decodeFast = (u: unknown): MailEvent | undefined => {
  if (!isRecord(u) || typeof u.type !== 'string' || !TYPES.has(u.type)) return undefined
  if (!envelope(u) || !(BODIES[u.type as MailEvent['type']] as Check)(u)) return undefined
  // The instants, each read once: checked here, not by the shapes above.
  const occurredAt = instantOf(u.occurredAt)
  const recordedAt = instantOf(u.recordedAt)
  if (occurredAt === undefined || recordedAt === undefined) return undefined
  const internalDate = u.type === 'ItemCreated' && u.internalDate !== undefined ? instantOf(u.internalDate) : null
  if (internalDate === undefined) return undefined
  // As the codec does: the same object's fields, with instants as numbers.
  const out: Fields = { ...u, occurredAt, recordedAt }
  if (isRecord(u.occurredWindow)) out.occurredWindow = { ...u.occurredWindow, from: instantOfIso(u.occurredWindow.from as string), to: instantOfIso(u.occurredWindow.to as string) }
  if (internalDate !== null) out.internalDate = internalDate
  return out as unknown as MailEvent
}

/** Decodes an event's parsed JSON, or says why it is not one (the codec's own message). */
export const decodeMailEvent = (u: unknown): E.Either<string, MailEvent> => {
  const e = decodeFast(u)
  if (e !== undefined) return E.right(e)
  const r = MailEvent.decode(u)
  return E.isRight(r) ? r : E.left(describeErrors(r.left))
}
