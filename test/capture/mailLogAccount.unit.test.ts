/**
 * What the mail_log importer knows of an account (src/capture/mailLog/accountLog.ts): lines find
 * messages at any place they ever had, with their state at the line's instant, and what the import
 * emitted for earlier lines.
 */
import type { ItemEvent } from '../../domain/events'
import type { Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import type { ItemChange } from '../../projections/timeTravel'
import { type Found, accountLog } from '../../src/capture/mailLog/accountLog'
import { ev } from '../support/build'

const state = (over: Partial<ItemState>): ItemState => ({
  itemId: 300 as never,
  itemType: 'message',
  folderId: 2 as never,
  flags: [],
  tags: [],
  status: 'live',
  known: true,
  ...over,
})
const version = (validFrom: number, validTo: number | null, s: ItemState, cause: ItemChange['cause'] = 'ItemCreated'): ItemChange =>
  ({ itemId: s.itemId, validFrom, validTo, cause, eventId: `e${validFrom}`, state: s }) as ItemChange
const at = (n: number) => n as Instant
const got = <T>(f: Found<T>): T | undefined => ('found' in f ? f.found : undefined)
const folder = (itemId: number, name: string, parent = 1): ItemState => state({ itemId: itemId as never, itemType: 'folder', folderId: parent as never, name })

// A message created in INBOX (uid 7), which a scan at 9000 found moved to Projects (uid 3).
const inInbox = state({ imap: { mailbox: 'INBOX', uidValidity: 1, uid: 7 } })
const inProjects = state({ folderId: 257 as never, imap: { mailbox: 'Projects', uidValidity: 5, uid: 3 } })
const projects = folder(257, 'Projects')
const versions = [version(500, null, projects), version(1000, 9000, inInbox), version(9000, null, inProjects, 'ItemMoved')]
const mapped = new Map([['INBOX', { folderId: 2, uidValidity: 1 }]])

describe('the mail_log view of an account', () => {
  it('finds a message at the place it had before a move the scan already recorded', () => {
    const log = accountLog(versions, mapped)
    expect(got(log.find('INBOX', 7, at(5000)))?.folderId).toBe(2)
    expect(got(log.find('Projects', 3, at(9500)))?.folderId).toBe(257)
    expect(log.find('INBOX', 8, at(5000))).toEqual({ missing: 'not yet captured' })
  })

  it('gives the state just before the line instant, before the change the scan dated at its own instant', () => {
    const flagged = state({ flags: ['\\Seen'], imap: { mailbox: 'INBOX', uidValidity: 1, uid: 7 } })
    const log = accountLog([version(1000, 9000, inInbox), version(9000, null, flagged, 'ItemFlagsChanged')], mapped)
    expect(got(log.find('INBOX', 7, at(5000)))?.flags).toEqual([])
    expect(got(log.find('INBOX', 7, at(9000)))?.flags).toEqual([])
    expect(got(log.find('INBOX', 7, at(9001)))?.flags).toEqual(['\\Seen'])
  })

  it('sees what the import emitted for earlier lines, at the new place too', () => {
    const log = accountLog(versions, mapped)
    log.record(ev('ItemMoved', 'a@example.com', 5000, { itemId: 300 as never, folderId: 258 as never, imap: { mailbox: 'Work', uidValidity: 6, uid: 1 } }) as ItemEvent)
    expect(got(log.find('Work', 1, at(6000)))?.folderId).toBe(258)
    // UIDs are never reused in a mailbox: INBOX 7 names nothing once the message left it.
    expect(log.find('INBOX', 7, at(6000))).toEqual({ missing: 'not yet captured' })
  })

  it('knows folders by the scanner mapping, by their recorded names, and by their new names', () => {
    const log = accountLog(versions, mapped)
    expect(log.folder('INBOX', at(6000))).toEqual({ found: { folderId: 2, uidValidity: 1 } })
    // Projects is not in the scanner mapping (deleted since); it had that name then.
    expect(log.folder('Projects', at(6000))).toEqual({ found: { folderId: 257, uidValidity: 5 } })
    expect(log.folder('Archive', at(6000))).toEqual({ missing: 'not yet captured' })
    log.nameFolder('Archive', { folderId: 257, uidValidity: 5 }, at(7000))
    expect(got(log.folder('Archive', at(7000)))?.folderId).toBe(257)
  })

  it('names the folder that had the name at the line instant, not one created under that name later', () => {
    const gone = folder(260, 'python-dev', 259)
    const log = accountLog(
      [
        version(500, null, folder(259, 'Lists')),
        version(500, 9000, gone),
        version(9000, null, { ...gone, status: 'deleted' }, 'ItemDeleted'),
        version(9500, null, folder(270, 'python-dev', 259)),
      ],
      new Map([['Lists.python-dev', { folderId: 270, uidValidity: 9 }]]),
    )
    expect(got(log.folder('Lists.python-dev', at(5000)))?.folderId).toBe(260)
    expect(got(log.folder('Lists.python-dev', at(9600)))?.folderId).toBe(270)
    // A folder the backup records only from 9500 on, named before it existed.
    expect(log.folder('Lists.python-dev', at(9200))).toEqual({ missing: 'recorded as created later' })
  })

  it('creates again a folder the scanner kept across a delete and create of its name, which this import deleted', () => {
    const x = folder(256, 'X')
    const log = accountLog([version(500, null, x)], new Map([['X', { folderId: 256, uidValidity: 9 }]]))
    expect(log.recreated('X', at(3000))).toBeUndefined()
    log.record(ev('ItemDeleted', 'a@example.com', 2000, { itemId: 256 as never, itemType: 'folder' }) as ItemEvent)
    expect(log.recreated('X', at(3000))?.itemId).toBe(256)
    // A folder the backup itself records as deleted is not created again.
    const y = accountLog([version(500, 2000, x), version(2000, null, { ...x, status: 'deleted' }, 'ItemDeleted')], new Map([['X', { folderId: 256, uidValidity: 9 }]]))
    expect(y.recreated('X', at(3000))).toBeUndefined()
  })

  it('tells apart two messages that had the same place in two lives of a folder', () => {
    const first = state({ itemId: 300 as never, imap: { mailbox: 'Old', uidValidity: 1, uid: 1 } })
    const second = state({ itemId: 301 as never, imap: { mailbox: 'Old', uidValidity: 2, uid: 1 } })
    const log = accountLog([version(1000, 2000, first), version(2000, null, { ...first, status: 'deleted' }, 'ItemDeleted'), version(3000, null, second)], new Map())
    expect(got(log.find('Old', 1, at(1500)))?.itemId).toBe(300)
    expect(got(log.find('Old', 1, at(3500)))?.itemId).toBe(301)
    // Deleted at 2000 and the other created at 3000: at 3000 the line is about the new one only
    // from the next instant on; just before it, only the deleted one was there.
    expect(got(log.find('Old', 1, at(3000)))?.itemId).toBe(300)
  })

  it('never gives a message the backup records as created after the line instant', () => {
    const restored = state({ itemId: 310 as never, imap: { mailbox: 'Old', uidValidity: 3, uid: 1 } })
    const log = accountLog([version(5000, null, restored)], new Map())
    expect(log.find('Old', 1, at(4000))).toEqual({ missing: 'recorded as created later' })
    expect(got(log.find('Old', 1, at(6000)))?.itemId).toBe(310)
  })
})
