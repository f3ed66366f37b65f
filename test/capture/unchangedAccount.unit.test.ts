/**
 * When a scan may skip the diff of an account (src/capture/imap/unchanged.ts): only when the
 * checkpoint was written by a complete scan that recorded nothing, the stream is at the revision it
 * noted, and the listing is the one it diffed, every mailbox with a HIGHESTMODSEQ.
 */
import { accountUnchanged, listingDigest, markedUnchanged } from '../../src/capture/imap/unchanged'
import type { ScanCheckpoint } from '../../src/capture/scanCheckpoint'
import type { ServerFolder } from '../../src/imap/list'

const box = (path: string, o: Partial<ServerFolder> = {}): ServerFolder => ({
  path,
  name: path.split('.').pop() ?? path,
  parentPath: path.split('.').slice(0, -1).join('.'),
  delimiter: '.',
  specialUse: undefined,
  selectable: true,
  uidValidity: 7,
  uidNext: 5,
  messages: 4,
  highestModseq: '12',
  ...o,
})
const listing = [
  box('INBOX'),
  box('Archive', { messages: 2, uidNext: 3, highestModseq: '4' }),
  box('Archive.2019', { selectable: false, uidValidity: 0, uidNext: 0, messages: 0, highestModseq: undefined }),
]
const cpOf = (server: readonly ServerFolder[]): ScanCheckpoint => ({
  version: 1,
  nextItemId: 300,
  lastScanAt: 1,
  folders: Object.fromEntries(
    server.map((f, i) => [
      f.path,
      { folderId: 260 + i, uidValidity: f.uidValidity, uidNext: f.uidNext, messages: f.messages, ...(f.highestModseq !== undefined && { highestModseq: f.highestModseq }) },
    ]),
  ),
})
const marked = markedUnchanged(cpOf(listing), 41, listing)

describe('whether an account is unchanged since its checkpoint', () => {
  it('is unchanged with the same listing and the same revision', () => {
    expect(accountUnchanged(marked, 41, listing)).toBe(true)
  })

  it('is changed when another writer appended to the stream', () => {
    expect(accountUnchanged(marked, 42, listing)).toBe(false)
  })

  it('is changed when any folder moved, in any field the diff reads', () => {
    const changes: Partial<ServerFolder>[] = [
      { highestModseq: '5' },
      { messages: 3 },
      { uidNext: 4 },
      { uidValidity: 8 },
      { specialUse: '\\Archive' },
      { mailboxId: 'x' },
      { name: 'archive' },
    ]
    for (const c of changes)
      expect(
        accountUnchanged(
          marked,
          41,
          listing.map((f) => (f.path === 'Archive' ? { ...f, ...c } : f)),
        ),
      ).toBe(false)
    expect(accountUnchanged(marked, 41, [...listing, box('New')])).toBe(false)
    expect(accountUnchanged(marked, 41, listing.slice(0, 2))).toBe(false)
  })

  it('is never taken as unchanged without a HIGHESTMODSEQ (no CONDSTORE: flags change under the same STATUS)', () => {
    const noModseq = listing.map((f) => ({ ...f, highestModseq: undefined }))
    const cp = markedUnchanged(cpOf(noModseq), 41, noModseq)
    expect(cp.listing).toBe(listingDigest(noModseq))
    expect(accountUnchanged(cp, 41, noModseq)).toBe(false)
  })

  it('is never taken as unchanged from a checkpoint not marked, or left by a scan to finish', () => {
    expect(accountUnchanged(cpOf(listing), 41, listing)).toBe(false)
    expect(accountUnchanged({ ...marked, round: 40 }, 41, listing)).toBe(false)
    expect(accountUnchanged({ ...marked, pendingFirstScan: true }, 41, listing)).toBe(false)
    expect(accountUnchanged(undefined, 41, listing)).toBe(false)
  })

  it('is never taken as unchanged when the checkpoint does not hold the status the listing shows', () => {
    const stale = { ...marked, folders: { ...marked.folders, INBOX: { ...(marked.folders.INBOX as NonNullable<(typeof marked.folders)['INBOX']>), messages: -1 } } }
    expect(accountUnchanged(stale, 41, listing)).toBe(false)
  })
})
