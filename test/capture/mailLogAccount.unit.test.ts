/**
 * What the mail_log importer knows of an account (src/capture/mailLog/accountLog.ts): lines find
 * messages at any place they ever had, with their state at the line's instant, and what the import
 * emitted for earlier lines.
 */
import type { ItemEvent } from '../../domain/events'
import type { Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import type { ItemChange } from '../../projections/timeTravel'
import { accountLog } from '../../src/capture/mailLog/accountLog'
import { ev } from '../support/build'

const state = (over: Partial<ItemState>): ItemState => ({ itemId: 300 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [], status: 'live', known: true, ...over })
const version = (validFrom: number, validTo: number | null, s: ItemState, cause: ItemChange['cause'] = 'ItemCreated'): ItemChange =>
  ({ itemId: s.itemId, validFrom, validTo, cause, eventId: `e${validFrom}`, state: s }) as ItemChange
const at = (n: number) => n as Instant

// A message created in INBOX (uid 7), which a scan at 9000 found moved to Projects (uid 3).
const inInbox = state({ imap: { mailbox: 'INBOX', uidValidity: 1, uid: 7 } })
const inProjects = state({ folderId: 257 as never, imap: { mailbox: 'Projects', uidValidity: 5, uid: 3 } })
const versions = [version(1000, 9000, inInbox), version(9000, null, inProjects, 'ItemMoved')]
const mapped = new Map([['INBOX', { folderId: 2, uidValidity: 1 }]])

describe('the mail_log view of an account', () => {
  it('finds a message at the place it had before a move the scan already recorded', () => {
    const log = accountLog(versions, mapped)
    expect(log.find('INBOX', 7, at(5000))?.folderId).toBe(2)
    expect(log.find('Projects', 3, at(9500))?.folderId).toBe(257)
    expect(log.find('INBOX', 8, at(5000))).toBeUndefined()
  })

  it('gives the state at the line instant, before the change the scan dated at its own instant', () => {
    const flagged = state({ flags: ['\\Seen'], imap: { mailbox: 'INBOX', uidValidity: 1, uid: 7 } })
    const log = accountLog([version(1000, 9000, inInbox), version(9000, null, flagged, 'ItemFlagsChanged')], mapped)
    expect(log.find('INBOX', 7, at(5000))?.flags).toEqual([])
    expect(log.find('INBOX', 7, at(9000))?.flags).toEqual(['\\Seen'])
  })

  it('sees what the import emitted for earlier lines, at the new place too', () => {
    const log = accountLog(versions, mapped)
    log.record(
      ev('ItemMoved', 'a@example.com', 5000, { itemId: 300 as never, folderId: 258 as never, imap: { mailbox: 'Work', uidValidity: 6, uid: 1 } }) as ItemEvent,
    )
    expect(log.find('Work', 1, at(6000))?.folderId).toBe(258)
    expect(log.find('INBOX', 7, at(6000))?.folderId).toBe(258)
  })

  it('knows folders by the scanner mapping, then by where messages were seen, and by their new names', () => {
    const log = accountLog(versions, mapped)
    expect(log.folder('INBOX')).toEqual({ folderId: 2, uidValidity: 1 })
    // Projects is no longer in the scanner mapping (deleted since), but a message was seen in it.
    expect(log.folder('Projects')).toEqual({ folderId: 257, uidValidity: 5 })
    expect(log.folder('Archive')).toBeUndefined()
    log.nameFolder('Archive', { folderId: 257, uidValidity: 5 })
    expect(log.folder('Archive')?.folderId).toBe(257)
  })

  it('tells apart two messages that had the same place in two lives of a folder', () => {
    const first = state({ itemId: 300 as never, imap: { mailbox: 'Old', uidValidity: 1, uid: 1 } })
    const second = state({ itemId: 301 as never, imap: { mailbox: 'Old', uidValidity: 2, uid: 1 } })
    const log = accountLog(
      [version(1000, 2000, first), version(2000, null, { ...first, status: 'deleted' }, 'ItemDeleted'), version(3000, null, second)],
      new Map(),
    )
    expect(log.find('Old', 1, at(1500))?.itemId).toBe(300)
    expect(log.find('Old', 1, at(3500))?.itemId).toBe(301)
  })
})
