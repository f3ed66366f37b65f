/**
 * The event catalogue: every fact Mailtime records about an account, as io-ts codecs.
 * Events are flat records: the envelope (id, instants, provenance) and the payload side by side.
 * Every byte read back from a store is decoded through `MailEvent`; a failure names the stream
 * and revision (see `decodeStoredEvent`).
 */
import * as t from 'io-ts'
import { AccountId, EventId, ItemId } from './ids'
import { InstantFromISO } from './instant'
import { ItemType } from './itemTypes'
import { Flag, Tag } from './flags'

export const SCHEMA_VERSION = 1 as const

/** How Mailtime learned of a fact. */
export const ObservedVia = t.keyof({
  'imap-scan': null,
  'mailbox-log': null,
  'mail-log': null,
  restore: null,
  import: null,
  demo: null,
  admin: null,
  purge: null,
  /** A CardDAV/CalDAV capture (sync-collection or ETag listing). */
  'dav-sync': null,
})
export type ObservedVia = t.TypeOf<typeof ObservedVia>

/** Where in its source a fact was read: a file and line, an IMAP folder and modseq, an operation. */
export const SourcePosition = t.intersection([
  t.type({ kind: t.string }),
  t.partial({
    file: t.string,
    line: t.number,
    offset: t.number,
    mailbox: t.string,
    uidValidity: t.number,
    uid: t.number,
    modseq: t.string,
    seq: t.number,
    operationId: t.string,
    scanId: t.string,
    /** Display name of a log file; the id uses `file` (the file's identity) instead. */
    name: t.string,
    /** Zimbra provenance of a log line: the mailbox id and the SOAP request. */
    mid: t.string,
    request: t.string,
    /** A CardDAV/CalDAV object's or collection's path on its server, and the object's ETag. */
    href: t.string,
    etag: t.string,
  }),
])
export type SourcePosition = t.TypeOf<typeof SourcePosition>

/**
 * The window in which a change must have happened when the source cannot pin it (a scan sees a
 * message gone, but not when it went). `occurredAt` is then the window's end, so an as-of query
 * inside the window still shows the item: a backup errs on the side of keeping things.
 */
export const OccurredWindow = t.type({ from: InstantFromISO, to: InstantFromISO })
export type OccurredWindow = t.TypeOf<typeof OccurredWindow>

const Envelope = t.intersection([
  t.type({
    schemaVersion: t.literal(SCHEMA_VERSION),
    eventId: EventId,
    accountId: AccountId,
    occurredAt: InstantFromISO,
    recordedAt: InstantFromISO,
    observedVia: ObservedVia,
    source: SourcePosition,
  }),
  t.partial({ occurredWindow: OccurredWindow, by: t.string }),
])

export const Content = t.type({ digest: t.string, size: t.number })
export type Content = t.TypeOf<typeof Content>

/** Header fields people search by; bodies never go into events (they live in the blob store). */
export const Headers = t.partial({
  subject: t.string,
  from: t.string,
  to: t.string,
  cc: t.string,
  messageId: t.string,
  date: t.string,
})
export type Headers = t.TypeOf<typeof Headers>

/** Where an IMAP-captured message lives on its server, so the scanner can follow it. */
/** Where a message was on an IMAP server; `emailId` is its EMAILID where the server offers OBJECTID (RFC 8474). */
export const ImapLocation = t.intersection([t.type({ mailbox: t.string, uidValidity: t.number, uid: t.number }), t.partial({ emailId: t.string })])
export type ImapLocation = t.TypeOf<typeof ImapLocation>

/**
 * Where a CardDAV/CalDAV object or collection lives on its server, so that capture can follow it
 * and a restore can put it back: its path (`href`, percent-decoded), the object's ETag when the
 * server gave one, and for a collection what it holds (`collection`) and, for a calendar, the
 * component types it accepts (`components`: `VEVENT`, `VTODO`…).
 */
export const DavLocation = t.intersection([
  t.type({ href: t.string }),
  t.partial({
    etag: t.string,
    collection: t.keyof({ addressbook: null, calendar: null }),
    components: t.array(t.string),
  }),
])
export type DavLocation = t.TypeOf<typeof DavLocation>

/**
 * The fields of a vCard or iCalendar object that people search by (the object itself is in the
 * blob store, byte for byte). Contacts: `emails` (EMAIL), `n` (N as written); events and tasks:
 * `component` (VEVENT, VTODO…), `start` (DTSTART's value as written, such as `20260105T090000`),
 * `tzid` (DTSTART's TZID), `recurring` (an RRULE or RDATE), `organizer`, `attendees`. `problem`
 * says why an object could not be read in full (its fields are then those a tolerant reading found).
 */
export const DavFields = t.partial({
  emails: t.array(t.string),
  n: t.string,
  component: t.string,
  start: t.string,
  tzid: t.string,
  recurring: t.boolean,
  organizer: t.string,
  attendees: t.array(t.string),
  problem: t.string,
})
export type DavFields = t.TypeOf<typeof DavFields>

const ItemFields = t.partial({
  name: t.string,
  content: Content,
  headers: Headers,
  internalDate: InstantFromISO,
  imap: ImapLocation,
  /** Calendar UID, contact e-mail and similar identifiers from non-mail items. */
  uid: t.string,
  dav: DavLocation,
  davFields: DavFields,
})

const event = <T extends string, P extends t.Props, O extends t.Props>(type: T, required: P, optional: O) =>
  t.intersection([Envelope, t.type({ type: t.literal(type), ...required }), t.partial(optional)], type)

export const ItemCreated = t.intersection(
  [
    Envelope,
    t.type({
      type: t.literal('ItemCreated'),
      itemId: ItemId,
      itemType: ItemType,
      folderId: ItemId,
      flags: t.array(Flag),
      tags: t.array(Tag),
    }),
    ItemFields,
  ],
  'ItemCreated',
)
export const ItemMoved = event('ItemMoved', { itemId: ItemId, folderId: ItemId }, { fromFolderId: ItemId, itemType: ItemType, imap: ImapLocation, dav: DavLocation })
export const ItemRenamed = event('ItemRenamed', { itemId: ItemId, name: t.string }, { itemType: ItemType })
export const ItemFlagsChanged = event('ItemFlagsChanged', { itemId: ItemId, flags: t.array(Flag) }, { itemType: ItemType })
export const ItemTagsChanged = event('ItemTagsChanged', { itemId: ItemId, tags: t.array(Tag) }, { itemType: ItemType })
export const ItemContentChanged = event(
  'ItemContentChanged',
  { itemId: ItemId, content: Content },
  // A DAV object's new version also carries its new ETag, name (FN, SUMMARY), UID and fields.
  { headers: Headers, itemType: ItemType, dav: DavLocation, davFields: DavFields, name: t.string, uid: t.string },
)
export const ItemDeleted = event('ItemDeleted', { itemId: ItemId }, { itemType: ItemType, folderId: ItemId })
export const ItemPurged = event('ItemPurged', { itemId: ItemId, reason: t.string }, { itemType: ItemType })
export const AccountCreated = event('AccountCreated', { name: t.string }, {})
export const AccountRenamed = event('AccountRenamed', { name: t.string }, {})
export const AccountDeleted = event('AccountDeleted', {}, {})
export const LegalHoldSet = event('LegalHoldSet', {}, { reason: t.string })
export const LegalHoldReleased = event('LegalHoldReleased', {}, { reason: t.string })

export const MailEvent = t.union([
  ItemCreated,
  ItemMoved,
  ItemRenamed,
  ItemFlagsChanged,
  ItemTagsChanged,
  ItemContentChanged,
  ItemDeleted,
  ItemPurged,
  AccountCreated,
  AccountRenamed,
  AccountDeleted,
  LegalHoldSet,
  LegalHoldReleased,
])
export type MailEvent = t.TypeOf<typeof MailEvent>
export type EventType = MailEvent['type']
export type ItemEvent = Extract<MailEvent, { itemId: ItemId }>
export type AccountEvent = Exclude<MailEvent, ItemEvent>

export const EVENT_TYPES: readonly EventType[] = [
  'ItemCreated',
  'ItemMoved',
  'ItemRenamed',
  'ItemFlagsChanged',
  'ItemTagsChanged',
  'ItemContentChanged',
  'ItemDeleted',
  'ItemPurged',
  'AccountCreated',
  'AccountRenamed',
  'AccountDeleted',
  'LegalHoldSet',
  'LegalHoldReleased',
]

export const isItemEvent = (e: MailEvent): e is ItemEvent => 'itemId' in e
