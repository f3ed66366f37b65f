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
import { EVENT_TYPES, MailEvent, ObservedVia, SCHEMA_VERSION } from './events'
import { Flag, Tag } from './flags'
import { AccountId, EventId, ItemId } from './ids'
import { instantOfIso } from './instant'
import { ItemType } from './itemTypes'

type Fields = Record<string, unknown>
type Check = (v: unknown) => boolean

const isRecord = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v)
const str: Check = (v) => typeof v === 'string'
const num: Check = (v) => typeof v === 'number'
const iso: Check = (v) => typeof v === 'string' && instantOfIso(v) !== undefined
const arrayOf =
  (c: Check): Check =>
  (v) =>
    Array.isArray(v) && v.every(c)
const shape =
  (required: Record<string, Check>, optional: Record<string, Check> = {}): Check =>
  (v) => {
    if (!isRecord(v)) return false
    for (const k in required) if (!(required[k] as Check)(v[k])) return false
    for (const k in optional) if (v[k] !== undefined && !(optional[k] as Check)(v[k])) return false
    return true
  }

const content = shape({ digest: str, size: num })
const headers = shape({}, { subject: str, from: str, to: str, cc: str, messageId: str, date: str })
const imap = shape({ mailbox: str, uidValidity: num, uid: num })
const source = shape(
  { kind: str },
  { file: str, line: num, offset: num, mailbox: str, uidValidity: num, uid: num, modseq: str, seq: num, operationId: str, scanId: str, name: str, mid: str, request: str },
)
const envelope = shape(
  {
    schemaVersion: (v) => v === SCHEMA_VERSION,
    eventId: EventId.is,
    accountId: AccountId.is,
    occurredAt: iso,
    recordedAt: iso,
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
  ItemCreated: shape({ itemId, itemType, folderId: itemId, flags, tags }, { name: str, content, headers, internalDate: iso, imap, uid: str }),
  ItemMoved: shape({ itemId, folderId: itemId }, { fromFolderId: itemId, itemType, imap }),
  ItemRenamed: shape({ itemId, name: str }, { itemType }),
  ItemFlagsChanged: shape({ itemId, flags }, { itemType }),
  ItemTagsChanged: shape({ itemId, tags }, { itemType }),
  ItemContentChanged: shape({ itemId, content }, { headers, itemType }),
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
  // As the codec does: the same object's fields, with instants as numbers.
  const out: Fields = { ...u, occurredAt: instantOfIso(u.occurredAt as string), recordedAt: instantOfIso(u.recordedAt as string) }
  if (isRecord(u.occurredWindow)) out.occurredWindow = { ...u.occurredWindow, from: instantOfIso(u.occurredWindow.from as string), to: instantOfIso(u.occurredWindow.to as string) }
  if (u.type === 'ItemCreated' && typeof u.internalDate === 'string') out.internalDate = instantOfIso(u.internalDate)
  return out as unknown as MailEvent
}

/** Decodes an event's parsed JSON, or says why it is not one (the codec's own message). */
export const decodeMailEvent = (u: unknown): E.Either<string, MailEvent> => {
  const e = decodeFast(u)
  if (e !== undefined) return E.right(e)
  const r = MailEvent.decode(u)
  return E.isRight(r) ? r : E.left(describeErrors(r.left))
}
