/**
 * Hand-written examples of the fold, one or more for every branch of the event catalogue
 * (docs/events.md) and of its order: given these events (appended in this order), when this is
 * asked, then this is the answer, written out in full by hand, not computed.
 *
 * They pin the independent oracle (test/support/oracle.ts) to the docs, and every implementation
 * of time travel (the naive replay, each store's temporal index) is run against them too
 * (test/projections/foldExamples.unit.test.ts, test/store/pgTemporalIndex.int.test.ts).
 * An example whose `divergence` is set is what the docs say and the product does not do yet.
 */
import type { EventType, MailEvent } from '../../domain/events'
import type { AccountId, ItemId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { AccountState, ItemState } from '../../domain/state'
import { accountAsOf } from '../../projections/accountView'
import type { TimeTravel } from '../../projections/timeTravel'
import { T, ev } from './build'
import type { Divergences, Oracle } from './oracle'
import { ok } from './run'

export const EXAMPLE_ACCOUNT = 'example@example.com'

/** A version as written in an example: `event` is the index in `given` of the event that began it. */
export interface ExpectedVersion {
  readonly validFrom: number
  readonly validTo: number | null
  readonly cause: EventType
  readonly event: number
  readonly state: ItemState
}

export type FoldQuestion =
  | { readonly kind: 'item'; readonly item: number; readonly validAt: number; readonly knownAt?: number }
  | { readonly kind: 'history'; readonly item: number; readonly knownAt?: number }
  | { readonly kind: 'live'; readonly validAt: number; readonly knownAt?: number }
  | { readonly kind: 'account'; readonly validAt: number; readonly knownAt?: number }

export type FoldAnswer = ItemState | undefined | ExpectedVersion[] | number[] | AccountState

export interface FoldExample {
  /** A sentence: what the example shows. */
  readonly name: string
  readonly given: readonly MailEvent[]
  readonly when: FoldQuestion
  /** For `item`: the state (undefined: no such item yet); `history`: every version; `live`: the live item ids; `account`: its state. */
  readonly then: FoldAnswer
  /** Set when the product differs from the docs here today (the example is then expected to fail against it). */
  readonly divergence?: keyof Divergences
}

const A = EXAMPLE_ACCOUNT
// Valid time: a day apart. System time: when the backup learned of it, hours later.
const t1 = T('2026-03-01T10:00:00Z')
const t2 = T('2026-03-02T10:00:00Z')
const t3 = T('2026-03-03T10:00:00Z')
const t4 = T('2026-03-04T10:00:00Z')
const r1 = T('2026-03-10T08:00:00Z')
const r2 = T('2026-03-11T08:00:00Z')
const r3 = T('2026-03-12T08:00:00Z')
const MSG = 300
const FOLDER = 256
const content1 = { digest: 'a'.repeat(64), size: 120 }
const content2 = { digest: 'b'.repeat(64), size: 340 }

let seq = 50_000
const at = (occurredAt: number, recordedAt: number = occurredAt) => ({ recordedAt, seq: seq++ })

const created = (when: number, recorded?: number) =>
  ev(
    'ItemCreated',
    A,
    when,
    {
      itemId: MSG as never,
      itemType: 'message',
      folderId: 2 as never,
      flags: ['\\Seen', '\\Flagged', '\\Seen'] as never,
      tags: ['work', 'home', 'work'] as never,
      content: content1,
      headers: { subject: 'Quarterly figures', from: 'ann@example.com', messageId: '<q1@example.com>' },
      internalDate: t1,
      imap: { mailbox: 'INBOX', uidValidity: 7, uid: 41 },
    },
    at(when, recorded),
  )

/** The state `created(t1)` gives, written out. */
const createdState: ItemState = {
  itemId: MSG as never,
  itemType: 'message',
  folderId: 2 as never,
  flags: ['\\Flagged', '\\Seen'],
  tags: ['home', 'work'],
  status: 'live',
  known: true,
  content: content1,
  headers: { subject: 'Quarterly figures', from: 'ann@example.com', messageId: '<q1@example.com>' },
  internalDate: t1,
  imap: { mailbox: 'INBOX', uidValidity: 7, uid: 41 },
  createdAt: t1,
}

const folderCreated = ev('ItemCreated', A, t1, { itemId: FOLDER as never, itemType: 'folder', folderId: 1 as never, name: 'Projects', flags: [], tags: [] }, at(t1))

const flags = (when: number, fs: string[], recorded?: number) => ev('ItemFlagsChanged', A, when, { itemId: MSG as never, flags: fs as never }, at(when, recorded))
const tags = (when: number, ts: string[], recorded?: number) => ev('ItemTagsChanged', A, when, { itemId: MSG as never, tags: ts as never }, at(when, recorded))
const moved = (when: number, folder: number, recorded?: number) => ev('ItemMoved', A, when, { itemId: MSG as never, folderId: folder as never }, at(when, recorded))
const deleted = (when: number, recorded?: number) => ev('ItemDeleted', A, when, { itemId: MSG as never }, at(when, recorded))
const purged = (when: number, reason: string, recorded?: number) => ev('ItemPurged', A, when, { itemId: MSG as never, reason }, at(when, recorded))

/**
 * Two changes of one item at one instant, the first recorded earlier, whose event ids sort the other
 * way round: found by trying source positions, so that the example does not depend on luck.
 */
const sameInstantOutOfIdOrder = (): [MailEvent, MailEvent] => {
  for (let s = 90_000; ; s += 2) {
    const first = ev('ItemFlagsChanged', A, t2, { itemId: MSG as never, flags: ['\\Seen'] as never }, { recordedAt: r1, seq: s })
    const second = ev('ItemMoved', A, t2, { itemId: MSG as never, folderId: 3 as never }, { recordedAt: r2, seq: s + 1 })
    if (second.eventId < first.eventId) return [first, second]
  }
}
const [flagsAtT2, moveAtT2] = sameInstantOutOfIdOrder()

export const FOLD_EXAMPLES: readonly FoldExample[] = [
  // ItemCreated
  {
    name: 'a created message is live in its folder with every field, and its flags and tags as sorted sets without duplicates',
    given: [created(t1)],
    when: { kind: 'item', item: MSG, validAt: t1 },
    then: createdState,
  },
  {
    name: 'before the instant of its creation an item does not exist',
    given: [created(t1)],
    when: { kind: 'item', item: MSG, validAt: t1 - 1 },
    then: undefined,
  },
  {
    name: 'a created folder is live under its parent with its name',
    given: [folderCreated],
    when: { kind: 'item', item: FOLDER, validAt: t2 },
    then: { itemId: FOLDER as never, itemType: 'folder', folderId: 1 as never, name: 'Projects', flags: [], tags: [], status: 'live', known: true, createdAt: t1 },
  },
  // ItemFlagsChanged, ItemTagsChanged
  {
    name: 'a flags change replaces the whole set of flags, it is not a delta',
    given: [created(t1), flags(t2, ['\\Answered', '\\Answered'])],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, flags: ['\\Answered'] },
  },
  {
    name: 'a flags change to the empty set clears every flag and leaves the tags',
    given: [created(t1), flags(t2, [])],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, flags: [] },
  },
  {
    name: 'a tags change replaces the whole set of tags, sorted and without duplicates, and leaves the flags',
    given: [created(t1), tags(t2, ['urgent', 'case-42', 'urgent'])],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, tags: ['case-42', 'urgent'] },
  },
  // ItemRenamed
  {
    name: 'a renamed folder keeps its id and parent and takes the new name',
    given: [folderCreated, ev('ItemRenamed', A, t2, { itemId: FOLDER as never, name: 'Archive 2026' }, at(t2))],
    when: { kind: 'item', item: FOLDER, validAt: t3 },
    then: { itemId: FOLDER as never, itemType: 'folder', folderId: 1 as never, name: 'Archive 2026', flags: [], tags: [], status: 'live', known: true, createdAt: t1 },
  },
  {
    name: 'before the rename the folder has its old name',
    given: [folderCreated, ev('ItemRenamed', A, t2, { itemId: FOLDER as never, name: 'Archive 2026' }, at(t2))],
    when: { kind: 'item', item: FOLDER, validAt: t2 - 1 },
    then: { itemId: FOLDER as never, itemType: 'folder', folderId: 1 as never, name: 'Projects', flags: [], tags: [], status: 'live', known: true, createdAt: t1 },
  },
  // ItemMoved
  {
    name: 'moving a message to Trash is a move, not a deletion: it stays live, in Trash',
    given: [created(t1), moved(t2, 3)],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, folderId: 3 as never },
  },
  {
    name: 'a move that carries the new IMAP location replaces the old one',
    given: [
      created(t1),
      ev('ItemMoved', A, t2, { itemId: MSG as never, folderId: FOLDER as never, fromFolderId: 2 as never, imap: { mailbox: 'Projects', uidValidity: 9, uid: 3 } }, at(t2)),
    ],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, folderId: FOLDER as never, imap: { mailbox: 'Projects', uidValidity: 9, uid: 3 } },
  },
  {
    name: 'a move without an IMAP location keeps the one the item had',
    given: [created(t1), moved(t2, FOLDER)],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, folderId: FOLDER as never },
  },
  {
    name: 'a message moved to Trash is still among the live items',
    given: [folderCreated, created(t1), moved(t2, 3)],
    when: { kind: 'live', validAt: t3 },
    then: [FOLDER, MSG],
  },
  // ItemContentChanged
  {
    name: 'a content change with headers replaces the content and the headers',
    given: [created(t1), ev('ItemContentChanged', A, t2, { itemId: MSG as never, content: content2, headers: { subject: 'Quarterly figures (v2)' } }, at(t2))],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, content: content2, headers: { subject: 'Quarterly figures (v2)' } },
  },
  {
    name: 'a content change without headers keeps the headers the item had',
    given: [created(t1), ev('ItemContentChanged', A, t2, { itemId: MSG as never, content: content2 }, at(t2))],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, content: content2 },
  },
  // ItemDeleted
  {
    name: 'a deleted message keeps its last state and says when it was deleted',
    given: [created(t1), moved(t2, 3), deleted(t3)],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, folderId: 3 as never, status: 'deleted', deletedAt: t3 },
  },
  {
    name: 'a deleted message is no longer among the live items, from the instant of its deletion',
    given: [folderCreated, created(t1), deleted(t3)],
    when: { kind: 'live', validAt: t3 },
    then: [FOLDER],
  },
  {
    name: 'a deletion recorded twice keeps the earlier instant, whichever was recorded first',
    given: [created(t1), deleted(t3, r1), deleted(t2, r2)],
    when: { kind: 'item', item: MSG, validAt: t4 },
    then: { ...createdState, status: 'deleted', deletedAt: t2 },
  },
  {
    name: 'a change after a deletion applies to the deleted item, which stays deleted',
    given: [created(t1), deleted(t2), flags(t3, ['\\Deleted'])],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, flags: ['\\Deleted'], status: 'deleted', deletedAt: t2 },
  },
  {
    name: 'an item created again after its deletion starts a new life: live, with no trace of the deletion',
    given: [created(t1), deleted(t2), created(t3)],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, createdAt: t3 },
  },
  // ItemPurged
  {
    name: 'a purge after a deletion marks the item purged with the reason and keeps when it was deleted',
    given: [created(t1), deleted(t2), purged(t3, 'data retention (30 days)')],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, status: 'purged', deletedAt: t2, purgedAt: t3, purgeReason: 'data retention (30 days)' },
  },
  {
    name: 'a purged item is not among the live items',
    given: [created(t1), purged(t2, 'account retention (30 days)')],
    when: { kind: 'live', validAt: t3 },
    then: [],
  },
  {
    name: 'a deletion that takes effect after the purge leaves the item purged: it can no longer be restored',
    given: [created(t1), purged(t2, 'account retention (30 days)'), deleted(t3)],
    when: { kind: 'item', item: MSG, validAt: t4 },
    then: { ...createdState, status: 'purged', purgedAt: t2, purgeReason: 'account retention (30 days)' },
    divergence: 'deletionAfterPurgeRevives',
  },
  // Stubs: the first fact seen is not the creation
  {
    name: 'a move seen before any creation makes a stub of the type it names, in the folder it moved to, with no content',
    given: [ev('ItemMoved', A, t2, { itemId: MSG as never, folderId: 3 as never, itemType: 'message' }, at(t2))],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { itemId: MSG as never, itemType: 'message', folderId: 3 as never, flags: [], tags: [], status: 'live', known: false },
  },
  {
    name: 'a flags change seen before any creation makes a stub of unknown type that has those flags',
    given: [flags(t2, ['\\Seen'])],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { itemId: MSG as never, itemType: 'unknown', folderId: 1 as never, flags: ['\\Seen'], tags: [], status: 'live', known: false },
  },
  {
    name: 'a deletion seen before any creation makes a deleted stub in the folder it names',
    given: [ev('ItemDeleted', A, t2, { itemId: MSG as never, itemType: 'message', folderId: 3 as never }, at(t2))],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { itemId: MSG as never, itemType: 'message', folderId: 3 as never, flags: [], tags: [], status: 'deleted', known: false, deletedAt: t2 },
  },
  // Late facts: recorded after facts that come later in valid time
  {
    name: 'a creation recorded after a later move slots into the past: the item is known and in the folder it moved to',
    given: [moved(t2, FOLDER, r1), created(t1, r2)],
    when: { kind: 'item', item: MSG, validAt: t3 },
    then: { ...createdState, folderId: FOLDER as never },
  },
  {
    name: 'a late flags change slots between the creation and a move recorded before it',
    given: [created(t1, r1), moved(t3, 3, r1), flags(t2, ['\\Answered'], r2)],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, flags: ['\\Answered'] },
  },
  {
    name: 'the late flags change also reaches the versions after it: the moved message has the new flags',
    given: [created(t1, r1), moved(t3, 3, r1), flags(t2, ['\\Answered'], r2)],
    when: { kind: 'item', item: MSG, validAt: t4 },
    then: { ...createdState, flags: ['\\Answered'], folderId: 3 as never },
  },
  {
    name: 'as the backup knew it before the late fact was recorded, the message had its old flags',
    given: [created(t1, r1), moved(t3, 3, r1), flags(t2, ['\\Answered'], r2)],
    when: { kind: 'item', item: MSG, validAt: t4, knownAt: r2 - 1 },
    then: { ...createdState, folderId: 3 as never },
  },
  {
    name: 'as the backup knew it before the creation was recorded, the item did not exist',
    given: [created(t1, r2)],
    when: { kind: 'item', item: MSG, validAt: t3, knownAt: r1 },
    then: undefined,
  },
  {
    name: 'the history with a late fact lists each version in valid time, each ending where the next begins',
    given: [created(t1, r1), moved(t3, 3, r1), flags(t2, ['\\Answered'], r2)],
    when: { kind: 'history', item: MSG },
    then: [
      { validFrom: t1, validTo: t2, cause: 'ItemCreated', event: 0, state: createdState },
      { validFrom: t2, validTo: t3, cause: 'ItemFlagsChanged', event: 2, state: { ...createdState, flags: ['\\Answered'] } },
      { validFrom: t3, validTo: null, cause: 'ItemMoved', event: 1, state: { ...createdState, flags: ['\\Answered'], folderId: 3 as never } },
    ],
  },
  {
    name: 'the history as known before the late fact has no trace of it',
    given: [created(t1, r1), moved(t3, 3, r1), flags(t2, ['\\Answered'], r2)],
    when: { kind: 'history', item: MSG, knownAt: r1 },
    then: [
      { validFrom: t1, validTo: t3, cause: 'ItemCreated', event: 0, state: createdState },
      { validFrom: t3, validTo: null, cause: 'ItemMoved', event: 1, state: { ...createdState, folderId: 3 as never } },
    ],
  },
  // Ties in the order: (occurredAt, recordedAt, revision)
  {
    name: 'valid time decides before system time: a change recorded earlier but occurring later takes effect last',
    given: [created(t1, r1), flags(t3, ['\\Flagged'], r1), flags(t2, ['\\Seen'], r2)],
    when: { kind: 'item', item: MSG, validAt: t4 },
    then: { ...createdState, flags: ['\\Flagged'] },
  },
  {
    name: 'of two changes at one instant, the one recorded later takes effect last, even when it was appended first',
    given: [created(t1, r1), flags(t2, ['\\Draft'], r3), flags(t2, ['\\Seen'], r2)],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, flags: ['\\Draft'] },
  },
  {
    name: 'of two changes at one instant recorded at one instant, the one appended later takes effect last',
    given: [created(t1, r1), flags(t2, ['\\Draft'], r2), flags(t2, ['\\Seen'], r2)],
    when: { kind: 'item', item: MSG, validAt: t2 },
    then: { ...createdState, flags: ['\\Seen'] },
  },
  {
    name: 'a change superseded at its own instant is a zero-length version: kept in the history, never the answer of an as-of',
    given: [created(t1, r1), flags(t2, ['\\Draft'], r2), moved(t2, 3, r3)],
    when: { kind: 'history', item: MSG },
    then: [
      { validFrom: t1, validTo: t2, cause: 'ItemCreated', event: 0, state: createdState },
      { validFrom: t2, validTo: t2, cause: 'ItemFlagsChanged', event: 1, state: { ...createdState, flags: ['\\Draft'] } },
      { validFrom: t2, validTo: null, cause: 'ItemMoved', event: 2, state: { ...createdState, flags: ['\\Draft'], folderId: 3 as never } },
    ],
  },
  {
    name: 'changes at one instant are listed in the order they took effect, whatever their event ids',
    given: [created(t1, r1), flagsAtT2, moveAtT2, tags(t2, ['home'], r3)],
    when: { kind: 'history', item: MSG },
    then: [
      { validFrom: t1, validTo: t2, cause: 'ItemCreated', event: 0, state: createdState },
      { validFrom: t2, validTo: t2, cause: 'ItemFlagsChanged', event: 1, state: { ...createdState, flags: ['\\Seen'] } },
      { validFrom: t2, validTo: t2, cause: 'ItemMoved', event: 2, state: { ...createdState, flags: ['\\Seen'], folderId: 3 as never } },
      { validFrom: t2, validTo: null, cause: 'ItemTagsChanged', event: 3, state: { ...createdState, flags: ['\\Seen'], folderId: 3 as never, tags: ['home'] } },
    ],
    divergence: 'sameInstantVersionsByEventId',
  },
  // Account events
  {
    name: 'before any account event the account is named by its id',
    given: [created(t1)],
    when: { kind: 'account', validAt: t2 },
    then: { accountId: A as never, name: A },
  },
  {
    name: 'an account created, renamed and deleted has the last name, its creation and its deletion',
    given: [
      ev('AccountCreated', A, t1, { name: 'ann@example.com' }, at(t1)),
      ev('AccountRenamed', A, t2, { name: 'ann.smith@example.com' }, at(t2)),
      ev('AccountDeleted', A, t3, {}, at(t3)),
    ],
    when: { kind: 'account', validAt: t3 },
    then: { accountId: A as never, name: 'ann.smith@example.com', createdAt: t1, deletedAt: t3 },
  },
  {
    name: 'as of before the rename, the account has its first name and is not deleted',
    given: [
      ev('AccountCreated', A, t1, { name: 'ann@example.com' }, at(t1)),
      ev('AccountRenamed', A, t2, { name: 'ann.smith@example.com' }, at(t2)),
      ev('AccountDeleted', A, t3, {}, at(t3)),
    ],
    when: { kind: 'account', validAt: t2 - 1 },
    then: { accountId: A as never, name: 'ann@example.com', createdAt: t1 },
  },
  {
    name: 'an account created again after its deletion exists again, under the new name',
    given: [
      ev('AccountCreated', A, t1, { name: 'ann@example.com' }, at(t1)),
      ev('AccountDeleted', A, t2, {}, at(t2)),
      ev('AccountCreated', A, t3, { name: 'ann.new@example.com' }, at(t3)),
    ],
    when: { kind: 'account', validAt: t4 },
    then: { accountId: A as never, name: 'ann.new@example.com', createdAt: t3 },
  },
  {
    name: 'a legal hold says who set it, since when and why',
    given: [makeHold(t2, 'case 2026-117', 'compliance@example.com')],
    when: { kind: 'account', validAt: t3 },
    then: { accountId: A as never, name: A, legalHold: { by: 'compliance@example.com', since: t2, reason: 'case 2026-117' } },
  },
  {
    name: 'a released legal hold is gone',
    given: [makeHold(t2, 'case 2026-117', 'compliance@example.com'), ev('LegalHoldReleased', A, t3, { reason: 'case closed' }, at(t3))],
    when: { kind: 'account', validAt: t3 },
    then: { accountId: A as never, name: A },
  },
  {
    name: 'an account renamed twice at one instant has the name recorded last',
    given: [ev('AccountRenamed', A, t2, { name: 'second@example.com' }, at(t2, r2)), ev('AccountRenamed', A, t2, { name: 'first@example.com' }, at(t2, r1))],
    when: { kind: 'account', validAt: t2 },
    then: { accountId: A as never, name: 'second@example.com' },
  },
  {
    name: 'as the backup knew it before the rename was recorded, the account had its old name',
    given: [ev('AccountCreated', A, t1, { name: 'ann@example.com' }, at(t1, r1)), ev('AccountRenamed', A, t2, { name: 'ann.smith@example.com' }, at(t2, r2))],
    when: { kind: 'account', validAt: t3, knownAt: r1 },
    then: { accountId: A as never, name: 'ann@example.com', createdAt: t1 },
  },
]

function makeHold(when: number, reason: string, by: string): MailEvent {
  const e = ev('LegalHoldSet', A, when, { reason }, at(when))
  return { ...e, by }
}

/** Something that answers the examples' questions: an implementation of time travel, or the oracle. */
export type Answers = (q: FoldQuestion) => Promise<unknown>

const asOf = (q: { validAt: number; knownAt?: number }) => ({ validAt: q.validAt as Instant, ...(q.knownAt !== undefined && { knownAt: q.knownAt as Instant }) })

/** The answers of a time-travel implementation, through the queries the CLI and the API use. */
export const timeTravelAnswers =
  (tt: TimeTravel): Answers =>
  async (q) => {
    const account = EXAMPLE_ACCOUNT as AccountId
    switch (q.kind) {
      case 'item':
        return (await ok(tt.itemAsOf(account, q.item as ItemId, asOf(q))))?.state
      case 'history':
        return ok(tt.itemHistory(account, q.item as ItemId, q.knownAt as Instant | undefined))
      case 'live':
        return (await ok(tt.liveItemsAsOf(account, asOf(q)))).map((s) => s.itemId)
      case 'account':
        return (await ok(accountAsOf(tt, account, asOf(q)))).account
    }
  }

/** The oracle's answers. */
export const oracleAnswers =
  (o: Oracle): Answers =>
  async (q) => {
    switch (q.kind) {
      case 'item':
        return o.itemAt(q.item, q)
      case 'history':
        return o.versionsOf(q.item, q.knownAt).map(({ itemId: _i, ...v }) => v)
      case 'live':
        return o.liveAt(q).map((s) => s.itemId)
      case 'account':
        return o.accountAt(q)
    }
  }

/** The example's answer in the shape the queries give it (a version's event as its id). */
export const expectedAnswer = (ex: FoldExample): unknown =>
  ex.when.kind === 'history' ? (ex.then as ExpectedVersion[]).map(({ event, ...v }) => ({ ...v, eventId: ex.given[event]?.eventId })) : ex.then
