import type { MailEvent } from '../../domain/events'
import type { AccountId, ItemId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import { makeEvent } from '../../domain/makeEvent'
import { deletionsPossiblyIn, pastTheWindow, possiblyInWindowNote } from '../../domain/restore/undeleteWindow'

const H = 3_600_000
const account = 'alice' as AccountId
/** A deletion a scan at `scan` found, bounded by the previous scan at `since` (or pinned by a log line, without `since`). */
const deleted = (item: number, scan: number, since?: number): MailEvent =>
  makeEvent(
    'ItemDeleted',
    {
      accountId: account,
      observedVia: since === undefined ? 'mail-log' : 'imap-scan',
      source: { kind: 'test', seq: item },
      recordedAt: instant(scan),
      ...(since !== undefined && { occurredWindow: { from: instant(since), to: instant(scan) } }),
    },
    instant(scan),
    { itemId: item as ItemId },
  )
const window = { from: instant(10.5 * H), to: instant(11.5 * H) }
const show = (i: Instant) => `${i / H}h`

describe('deletions an undelete window may be missing', () => {
  it('a deletion a scan bounded by an interval overlapping the window, dated after it, may lie in the window', () => {
    const events = [deleted(300, 12 * H, 10 * H), deleted(301, 12 * H, 10 * H)]
    expect(deletionsPossiblyIn(events, window, new Set())).toEqual([{ from: 10 * H, to: 12 * H, deletions: 2 }])
    expect(possiblyInWindowNote(0, deletionsPossiblyIn(events, window, new Set()), show)).toBe(
      "0 items deleted in this window; 2 deletions were recorded between 10h and 12h, whose exact instants are unknown — widen the window or import the server's log",
    )
  })

  it('deletions pinned by a log line, bounded before the window, or already found in it are not counted; an item is counted once', () => {
    const events = [deleted(300, 12 * H), deleted(301, 10 * H, 9 * H), deleted(302, 12 * H, 10 * H), deleted(302, 12 * H, 10 * H), deleted(303, 12 * H, 10 * H)]
    expect(deletionsPossiblyIn(events, window, new Set([303]))).toEqual([{ from: 10 * H, to: 12 * H, deletions: 1 }])
    expect(possiblyInWindowNote(1, deletionsPossiblyIn(events, window, new Set([303])), show)).toBe(
      "1 item deleted in this window; 1 more deletion was recorded between 10h and 12h, whose exact instants are unknown — widen the window or import the server's log",
    )
  })

  it('a window no bounded deletion overlaps has nothing to say', () => {
    expect(possiblyInWindowNote(0, deletionsPossiblyIn([deleted(300, 14 * H, 12 * H)], window, new Set()), show)).toBeUndefined()
  })

  it('a scan whose interval begins after the window ends the search', () => {
    expect(pastTheWindow(deleted(300, 14 * H, 12 * H), window.to)).toBe(true)
    expect(pastTheWindow(deleted(300, 12 * H, 10 * H), window.to)).toBe(false)
    expect(pastTheWindow(deleted(300, 14 * H), window.to)).toBe(false)
  })

  it('several bounding intervals are each named with their count', () => {
    const events = [deleted(300, 12 * H, 10 * H), deleted(301, 13 * H, 11 * H), deleted(302, 13 * H, 11 * H)]
    expect(possiblyInWindowNote(0, deletionsPossiblyIn(events, window, new Set()), show)).toBe(
      "0 items deleted in this window; 3 deletions were recorded between 10h and 12h (1) and between 11h and 13h (2), whose exact instants are unknown — widen the window or import the server's log",
    )
  })
})
