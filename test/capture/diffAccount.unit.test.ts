/**
 * The scanner's decision (`diffAccount`), without a server or a store: given what the backup holds
 * and the last scan's checkpoint, when the server shows a listing and folder reads, then these
 * events and this checkpoint. The same rules run against Dovecot in imapScanner, scanOutage and
 * folderHierarchy (test/capture/*.int.test.ts).
 */
import type { MailEvent } from '../../domain/events'
import { FolderIds, NOT_A_MAILBOX } from '../../domain/folders'
import type { AccountId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import { checkpointAfter } from '../../src/capture/imap/appender'
import { type AccountDiff, type FetchedMessage, type FolderObservation, type ObservedFlags, diffAccount, foldersToRead } from '../../src/capture/imap/diffAccount'
import type { FolderCheckpoint, ScanCheckpoint } from '../../src/capture/scanCheckpoint'
import type { ServerFolder } from '../../src/imap/list'
import { folderItem, messageItem, notAMailbox, serverFolder } from '../support/scanFixtures'

const ACCOUNT = 'alice' as AccountId
const LAST_SCAN = Date.UTC(2026, 10, 1, 12, 0, 0)
const NOW = Date.UTC(2026, 10, 2, 12, 0, 0)
const HOUR = 3_600_000

// --- the server ---------------------------------------------------------------------------------

/** A mailbox as the server lists it (delimiter `.`, as Dovecot's Maildir++). */
const box = serverFolder
/** A level of the hierarchy that is not a mailbox (`\Noselect`): no STATUS. */
const level = notAMailbox

const fetched = (uid: number, digest: string, o: Partial<FetchedMessage> = {}): FetchedMessage => ({
  uid,
  flags: [],
  tags: [],
  internalDate: LAST_SCAN - 10 * HOUR,
  digest,
  size: 100,
  headers: { subject: `message ${digest}`, messageId: `<${digest}@example.com>` },
  ...o,
})
/** A folder read to the end: its UIDs, the flags the server gave (by UID) and the messages fetched. */
const read = (uids: number[], o: { flags?: Record<number, ObservedFlags>; fetched?: FetchedMessage[] } = {}): FolderObservation => ({
  _tag: 'Read',
  uids,
  flags: new Map(Object.entries(o.flags ?? {}).map(([u, f]) => [Number(u), f])),
  fetched: o.fetched ?? [],
})
const refused = (reason: string): FolderObservation => ({ _tag: 'NotRead', reason, refused: true })
const connectionLost = (reason: string): FolderObservation => ({ _tag: 'NotRead', reason, refused: false })

// --- the backup ---------------------------------------------------------------------------------

const mail = (itemId: number, folderId: number, at: { mailbox: string; uidValidity: number; uid: number }, digest: string, o: Partial<ItemState> = {}): ItemState =>
  messageItem(itemId, folderId, digest, { content: { digest, size: 100 }, headers: { subject: `message ${digest}`, messageId: `<${digest}@example.com>` }, imap: at, ...o })
/** A folder as the last scan left it: up to date with the listing's STATUS unless told otherwise. */
const upToDate = (folderId: number, f: ServerFolder): FolderCheckpoint => ({
  folderId,
  uidValidity: f.uidValidity,
  uidNext: f.uidNext,
  messages: f.messages,
  ...(f.highestModseq !== undefined && { highestModseq: f.highestModseq }),
})
const checkpointOf = (folders: Record<string, FolderCheckpoint>, nextItemId: number): ScanCheckpoint => ({ version: 1, nextItemId, lastScanAt: LAST_SCAN, folders })

// --- given / when / then -------------------------------------------------------------------------

interface Given {
  readonly live?: ItemState[]
  readonly checkpoint?: ScanCheckpoint
  /** The stream's revision when the scan begins. */
  readonly revision?: number
}
interface When {
  readonly listing: ServerFolder[]
  readonly reads?: Record<string, FolderObservation>
}
const scan = (given: Given, when: When): AccountDiff =>
  diffAccount(
    { account: ACCOUNT, live: given.live ?? [], deletedIds: [], revision: given.revision ?? 10 },
    { at: instant(NOW) as Instant, folders: when.listing, reads: new Map(Object.entries(when.reads ?? {})) },
    given.checkpoint,
  )
/** The facts of each event a test reads, in order (envelope and ids left out). */
const facts = (events: readonly MailEvent[]) =>
  events.map((e) => {
    const x = e as unknown as Record<string, unknown>
    const pick = ['itemId', 'folderId', 'fromFolderId', 'name', 'flags', 'tags', 'imap'].filter((k) => x[k] !== undefined)
    return { type: e.type, occurredAt: e.occurredAt, ...Object.fromEntries(pick.map((k) => [k, x[k]])) }
  })

describe('diffAccount', () => {
  describe('a first scan', () => {
    it('records the account, its folders before the earliest message, and every message at its INTERNALDATE', () => {
      const inbox = box('INBOX', { uidNext: 3, messages: 2, highestModseq: '5' })
      const work = box('Work', { uidValidity: 2, uidNext: 2, messages: 1 })
      const d1 = LAST_SCAN - 30 * HOUR
      const d2 = LAST_SCAN - 20 * HOUR
      const d3 = LAST_SCAN - 25 * HOUR
      const diff = scan(
        {},
        {
          listing: [inbox, work],
          reads: {
            INBOX: read([1, 2], {
              flags: { 1: { flags: ['\\Seen'], tags: [] } },
              fetched: [fetched(1, 'a', { internalDate: d1, flags: ['\\Seen'] }), fetched(2, 'b', { internalDate: d2 })],
            }),
            Work: read([1], { fetched: [fetched(1, 'c', { internalDate: d3, tags: ['project'] })] }),
          },
        },
      )
      expect(diff.firstScan).toBe(true)
      expect(facts(diff.events)).toEqual([
        { type: 'AccountCreated', occurredAt: d1 - 2000, name: 'alice' },
        { type: 'ItemCreated', occurredAt: d1 - 1000, itemId: FolderIds.INBOX, folderId: FolderIds.USER_ROOT, name: 'INBOX', flags: [], tags: [] },
        { type: 'ItemCreated', occurredAt: d1 - 1000, itemId: 256, folderId: FolderIds.USER_ROOT, name: 'Work', flags: [], tags: [] },
        { type: 'ItemCreated', occurredAt: d1, itemId: 257, folderId: FolderIds.INBOX, flags: ['\\Seen'], tags: [], imap: { mailbox: 'INBOX', uidValidity: 1, uid: 1 } },
        { type: 'ItemCreated', occurredAt: d2, itemId: 258, folderId: FolderIds.INBOX, flags: [], tags: [], imap: { mailbox: 'INBOX', uidValidity: 1, uid: 2 } },
        { type: 'ItemCreated', occurredAt: d3, itemId: 259, folderId: 256, flags: [], tags: ['project'], imap: { mailbox: 'Work', uidValidity: 2, uid: 1 } },
      ])
      expect(diff.checkpoint).toEqual({ version: 1, nextItemId: 260, lastScanAt: NOW, folders: { INBOX: upToDate(FolderIds.INBOX, inbox), Work: upToDate(256, work) } })
      expect(diff.complete).toBe(true)
      expect(diff.folders.map((f) => [f.path, f.status, f.created])).toEqual([
        ['/Inbox', 'read', 2],
        ['/Work', 'read', 1],
      ])
    })

    it('records a parent that is not a mailbox as a folder flagged so, above its child, and reads only the child', () => {
      const child = box('Lists.python-dev', { uidValidity: 3 })
      const diff = scan({}, { listing: [box('INBOX'), level('Lists'), child], reads: { INBOX: read([]), 'Lists.python-dev': read([]) } })
      expect(facts(diff.events).filter((e) => e.type === 'ItemCreated')).toMatchObject([
        { itemId: FolderIds.INBOX, name: 'INBOX' },
        { itemId: 256, folderId: FolderIds.USER_ROOT, name: 'Lists', flags: [NOT_A_MAILBOX] },
        { itemId: 257, folderId: 256, name: 'python-dev', flags: [] },
      ])
      expect(diff.folders.map((f) => [f.path, f.status])).toEqual([
        ['/Inbox', 'read'],
        ['/Lists', 'not a mailbox'],
        ['/Lists/python-dev', 'read'],
      ])
      expect(diff.checkpoint.folders['Lists']).toEqual({ folderId: 256, uidValidity: 0, uidNext: 0, messages: 0 })
      expect(foldersToRead({ account: ACCOUNT, live: [], deletedIds: [], revision: 0 }, [box('INBOX'), level('Lists'), child], undefined).map((t) => t.folder.path)).toEqual([
        'INBOX',
        'Lists.python-dev',
      ])
    })
  })

  describe('a later scan', () => {
    const inbox0 = box('INBOX', { uidNext: 2, messages: 1, highestModseq: '5' })
    const known = [folderItem(FolderIds.INBOX, FolderIds.USER_ROOT, 'INBOX'), mail(256, FolderIds.INBOX, { mailbox: 'INBOX', uidValidity: 1, uid: 1 }, 'a')]
    const given: Given = { live: known, checkpoint: checkpointOf({ INBOX: upToDate(FolderIds.INBOX, inbox0) }, 257) }

    it('records nothing, and does not open a folder, when its STATUS is the last scan’s', () => {
      const diff = scan(given, { listing: [inbox0] })
      expect(diff.events).toEqual([])
      expect(diff.folders.map((f) => f.status)).toEqual(['unchanged'])
      expect(foldersToRead({ account: ACCOUNT, live: known, deletedIds: [], revision: 10 }, [inbox0], given.checkpoint)).toEqual([])
      expect(diff.checkpoint.lastScanAt).toBe(NOW)
    })

    it('asks only for flags changed since the last HIGHESTMODSEQ, and not for the content of messages it holds', () => {
      const inbox = box('INBOX', { uidNext: 3, messages: 2, highestModseq: '7' })
      expect(foldersToRead({ account: ACCOUNT, live: known, deletedIds: [], revision: 10 }, [inbox], given.checkpoint)).toEqual([
        { folder: inbox, changedSince: '5', knownUids: new Set([1]) },
      ])
    })

    it('dates new mail at its INTERNALDATE inside the window, and at the scan with the window otherwise', () => {
      const inbox = box('INBOX', { uidNext: 4, messages: 3, highestModseq: '7' })
      const inWindow = LAST_SCAN + HOUR
      const before = LAST_SCAN - 48 * HOUR
      const diff = scan(given, {
        listing: [inbox],
        reads: { INBOX: read([1, 2, 3], { fetched: [fetched(2, 'b', { internalDate: inWindow }), fetched(3, 'c', { internalDate: before })] }) },
      })
      expect(diff.firstScan).toBe(false)
      expect(facts(diff.events)).toMatchObject([
        { type: 'ItemCreated', itemId: 257, occurredAt: inWindow },
        { type: 'ItemCreated', itemId: 258, occurredAt: NOW },
      ])
      // Every change a later scan records carries the window it was seen in.
      expect(diff.events.map((e) => e.occurredWindow)).toEqual([
        { from: LAST_SCAN, to: NOW },
        { from: LAST_SCAN, to: NOW },
      ])
      expect(diff.checkpoint).toEqual({ version: 1, nextItemId: 259, lastScanAt: NOW, folders: { INBOX: upToDate(FolderIds.INBOX, inbox) } })
    })

    it('records changed flags and keywords, with the modseq as their source, and keeps the flags the server did not give', () => {
      const live = [...known, mail(257, FolderIds.INBOX, { mailbox: 'INBOX', uidValidity: 1, uid: 2 }, 'b', { flags: ['\\Flagged'] })]
      const inbox = box('INBOX', { uidNext: 3, messages: 2, highestModseq: '8' })
      const diff = scan({ ...given, live }, { listing: [inbox], reads: { INBOX: read([1, 2], { flags: { 1: { flags: ['\\Seen'], tags: ['project'], modseq: '8' } } }) } })
      expect(facts(diff.events)).toEqual([
        { type: 'ItemFlagsChanged', occurredAt: NOW, itemId: 256, flags: ['\\Seen'] },
        { type: 'ItemTagsChanged', occurredAt: NOW, itemId: 256, tags: ['project'] },
      ])
      expect(diff.events[0]?.source).toEqual({ kind: 'imap', mailbox: 'INBOX', uidValidity: 1, uid: 1, modseq: '8' })
      expect(diff.folders[0]?.flagChanges).toBe(2)
    })

    it('records a message gone from one folder and new in another with the same content as a move of the same item', () => {
      const work0 = box('Work', { uidValidity: 2, uidNext: 1, messages: 0 })
      const live = [...known, folderItem(300, FolderIds.USER_ROOT, 'Work')]
      const checkpoint = checkpointOf({ INBOX: upToDate(FolderIds.INBOX, inbox0), Work: upToDate(300, work0) }, 301)
      const inbox = box('INBOX', { uidNext: 2, messages: 0, highestModseq: '6' })
      const work = box('Work', { uidValidity: 2, uidNext: 2, messages: 1, highestModseq: '2' })
      const diff = scan({ live, checkpoint }, { listing: [inbox, work], reads: { INBOX: read([]), Work: read([1], { fetched: [fetched(1, 'a', { flags: ['\\Seen'] })] }) } })
      expect(facts(diff.events)).toEqual([
        { type: 'ItemMoved', occurredAt: NOW, itemId: 256, folderId: 300, fromFolderId: FolderIds.INBOX, imap: { mailbox: 'Work', uidValidity: 2, uid: 1 } },
        { type: 'ItemFlagsChanged', occurredAt: NOW, itemId: 256, flags: ['\\Seen'] },
      ])
      expect(diff.checkpoint.nextItemId).toBe(301)
    })

    it('records a message expunged from a folder read as deleted', () => {
      const inbox = box('INBOX', { uidNext: 2, messages: 0, highestModseq: '6' })
      const diff = scan(given, { listing: [inbox], reads: { INBOX: read([]) } })
      expect(facts(diff.events)).toEqual([{ type: 'ItemDeleted', occurredAt: NOW, itemId: 256, folderId: FolderIds.INBOX }])
      expect(diff.events[0]?.source).toEqual({ kind: 'imap-expunge', mailbox: 'INBOX', uidValidity: 1, uid: 1, seq: 11 })
    })

    it('records a folder created, one renamed (same UIDVALIDITY) and one deleted after its messages', () => {
      const old = box('Old', { uidValidity: 7, highestModseq: '3' })
      const gone = box('Gone', { uidValidity: 8, uidNext: 2, messages: 1 })
      const live = [
        ...known,
        folderItem(300, FolderIds.USER_ROOT, 'Old'),
        folderItem(301, FolderIds.USER_ROOT, 'Gone'),
        mail(302, 301, { mailbox: 'Gone', uidValidity: 8, uid: 1 }, 'g'),
      ]
      const checkpoint = checkpointOf({ INBOX: upToDate(FolderIds.INBOX, inbox0), Old: upToDate(300, old), Gone: upToDate(301, gone) }, 303)
      const renamed = box('New', { uidValidity: 7, highestModseq: '3' })
      const fresh = box('Fresh', { uidValidity: 9 })
      const diff = scan({ live, checkpoint }, { listing: [inbox0, fresh, renamed], reads: { Fresh: read([]) } })
      expect(facts(diff.events)).toEqual([
        { type: 'ItemCreated', occurredAt: NOW, itemId: 303, folderId: FolderIds.USER_ROOT, name: 'Fresh', flags: [], tags: [] },
        { type: 'ItemRenamed', occurredAt: NOW, itemId: 300, name: 'New' },
        { type: 'ItemDeleted', occurredAt: NOW, itemId: 302, folderId: 301 },
        { type: 'ItemDeleted', occurredAt: NOW, itemId: 301 },
      ])
      expect([diff.foldersCreated, diff.foldersRenamed, diff.foldersDeleted]).toEqual([1, 1, 1])
      // The renamed folder keeps its checkpoint under its new path, so it is not read again.
      expect(diff.checkpoint.folders).toEqual({ INBOX: upToDate(FolderIds.INBOX, inbox0), New: upToDate(300, old), Fresh: upToDate(303, fresh) })
      expect(diff.folders.map((f) => [f.path, f.status])).toEqual([
        ['/Fresh', 'read'],
        ['/Gone', 'deleted'],
        ['/Inbox', 'unchanged'],
        ['/New', 'unchanged'],
      ])
    })

    it('matches the messages of a folder whose UIDVALIDITY changed by content, recording nothing twice', () => {
      const inbox = box('INBOX', { uidValidity: 2, uidNext: 2, messages: 1, highestModseq: '1' })
      expect(foldersToRead({ account: ACCOUNT, live: known, deletedIds: [], revision: 10 }, [inbox], given.checkpoint)).toEqual([{ folder: inbox, knownUids: new Set() }])
      const diff = scan(given, { listing: [inbox], reads: { INBOX: read([1], { fetched: [fetched(1, 'a')] }) } })
      expect(facts(diff.events)).toEqual([
        { type: 'ItemMoved', occurredAt: NOW, itemId: 256, folderId: FolderIds.INBOX, fromFolderId: FolderIds.INBOX, imap: { mailbox: 'INBOX', uidValidity: 2, uid: 1 } },
      ])
      expect(diff.checkpoint.folders['INBOX']).toEqual(upToDate(FolderIds.INBOX, inbox))
    })
  })

  describe('a folder not read', () => {
    const inbox0 = box('INBOX', { uidNext: 2, messages: 1, highestModseq: '5' })
    const work0 = box('Work', { uidValidity: 2, uidNext: 2, messages: 1, highestModseq: '2' })
    const live = [
      folderItem(FolderIds.INBOX, FolderIds.USER_ROOT, 'INBOX'),
      mail(256, FolderIds.INBOX, { mailbox: 'INBOX', uidValidity: 1, uid: 1 }, 'a'),
      folderItem(300, FolderIds.USER_ROOT, 'Work'),
      mail(301, 300, { mailbox: 'Work', uidValidity: 2, uid: 1 }, 'w'),
    ]
    const given: Given = { live, checkpoint: checkpointOf({ INBOX: upToDate(FolderIds.INBOX, inbox0), Work: upToDate(300, work0) }, 302), revision: 20 }
    const inbox = box('INBOX', { uidNext: 2, messages: 0, highestModseq: '6' })
    const work = box('Work', { uidValidity: 2, uidNext: 3, messages: 2, highestModseq: '3' })

    it('that the server refused keeps its messages and is read in full next time, but does not hold the rest back', () => {
      const diff = scan(given, { listing: [inbox, work], reads: { INBOX: read([]), Work: refused('Internal error occurred') } })
      expect(facts(diff.events)).toEqual([{ type: 'ItemDeleted', occurredAt: NOW, itemId: 256, folderId: FolderIds.INBOX }])
      expect(diff.complete).toBe(false)
      expect(diff.unreadFolders).toEqual([{ path: '/Work', serverPath: 'Work', reason: 'Internal error occurred', refused: true }])
      expect(diff.checkpoint).toEqual({
        version: 1,
        nextItemId: 302,
        lastScanAt: NOW,
        folders: { INBOX: upToDate(FolderIds.INBOX, inbox), Work: { folderId: 300, uidValidity: 2, uidNext: 0, messages: -1 } },
      })
      expect(diff.deferredChanges).toBe(0)
    })

    it('because the connection failed leaves what depends on it for a complete scan, keeping the window and the round', () => {
      const diff = scan(given, { listing: [inbox, work], reads: { INBOX: read([]), Work: connectionLost('the connection to the server was lost: Socket closed') } })
      // The message gone from INBOX may have moved into Work: not recorded as deleted yet.
      expect(diff.events).toEqual([])
      expect(diff.deferredChanges).toBe(1)
      expect(diff.checkpoint).toEqual({
        version: 1,
        nextItemId: 302,
        lastScanAt: LAST_SCAN,
        folders: { INBOX: { folderId: FolderIds.INBOX, uidValidity: 1, uidNext: 0, messages: -1 }, Work: { folderId: 300, uidValidity: 2, uidNext: 0, messages: -1 } },
        round: 21,
      })
    })

    it('counts as not read when the scan brought no observation of it', () => {
      const diff = scan(given, { listing: [inbox, work], reads: { INBOX: read([]) } })
      expect(diff.unreadFolders.map((u) => [u.serverPath, u.refused])).toEqual([['Work', false]])
      expect(diff.events).toEqual([])
    })
  })

  describe('the checkpoint between batches', () => {
    it('marks no folder up to date and hands out ids after every item the batches so far created', () => {
      const diff = scan({}, { listing: [box('INBOX', { uidNext: 2, messages: 1 })], reads: { INBOX: read([1], { fetched: [fetched(1, 'a')] }) } })
      expect(diff.between).toEqual({
        version: 1,
        nextItemId: 256,
        folders: { INBOX: { folderId: FolderIds.INBOX, uidValidity: 1, uidNext: 0, messages: -1 } },
        lastScanAt: NOW,
        round: 11,
        pendingFirstScan: true,
      })
      expect(checkpointAfter(diff.between, diff.events).nextItemId).toBe(257)
      expect(checkpointAfter(diff.between, []).nextItemId).toBe(256)
    })
  })
})
