/**
 * OBJECTID (RFC 8474) in the scanner's pure decisions: moves matched by EMAILID, folders by
 * MAILBOXID, and the fallback (content digest, UIDVALIDITY) where the server gives none. The two
 * agree wherever messages are unique; where digests are ambiguous (identical messages), distinct
 * EMAILIDs say which one moved.
 */
import * as fc from 'fast-check'
import { matchMoves, planFolders } from '../../src/capture/imap/diffAccount'
import type { FolderCheckpoint } from '../../src/capture/scanCheckpoint'
import type { ServerFolder } from '../../src/imap/list'
import { folderItem, messageItem, serverFolder } from '../support/scanFixtures'
import { FolderIds } from '../../domain/folders'
import type { ItemState } from '../../domain/state'

const message = (itemId: number, digest: string, emailId?: string, flags: string[] = []): ItemState =>
  messageItem(itemId, FolderIds.INBOX, digest, {
    flags,
    headers: { messageId: `<${digest}@x>` },
    imap: { mailbox: 'INBOX', uidValidity: 1, uid: itemId, ...(emailId !== undefined && { emailId }) },
  })
const arrived = (digest: string, emailId?: string) => ({ digest, headers: { messageId: `<${digest}@x>` }, path: 'Work', ...(emailId !== undefined && { emailId }) })
const withoutIds = <A extends { emailId?: string }>(a: A): A => {
  const { emailId: _, ...rest } = a
  return rest as A
}

describe('matchMoves with EMAILIDs', () => {
  it('two identical messages, one moved and the other deleted: the digest cannot tell which moved, distinct EMAILIDs can', () => {
    // 300 (unread) and 301 (\Seen) have the same bytes; 301 was moved to Work, 300 was deleted.
    const gone = [
      { state: message(300, 'same', 'E300'), path: 'INBOX' },
      { state: message(301, 'same', 'E301', ['\\Seen']), path: 'INBOX' },
    ]
    const moved = arrived('same', 'E301')
    const byId = matchMoves(gone, [moved])
    expect(byId.moves.map((m) => m.from.state.itemId)).toEqual([301])
    expect(byId.left.map((v) => v.state.itemId)).toEqual([300])
    // By digest alone, the order decides: the wrong item is taken for the moved one.
    const byDigest = matchMoves(
      gone.map((v) => ({ ...v, state: { ...v.state, imap: withoutIds(v.state.imap as { mailbox: string; uidValidity: number; uid: number; emailId?: string }) } })),
      [withoutIds(moved)],
    )
    expect(byDigest.moves.map((m) => m.from.state.itemId)).toEqual([300])
  })

  it('different EMAILIDs are never the same message, whatever their content; one side without an EMAILID falls back to the digest', () => {
    const gone = [{ state: message(300, 'd', 'E1'), path: 'INBOX' }]
    expect(matchMoves(gone, [arrived('d', 'E2')]).moves).toEqual([])
    expect(matchMoves(gone, [arrived('d')]).moves.map((m) => m.from.state.itemId)).toEqual([300])
    expect(matchMoves([{ state: message(300, 'd'), path: 'INBOX' }], [arrived('d', 'E2')]).moves.map((m) => m.from.state.itemId)).toEqual([300])
  })

  it("a server that gives identical messages one EMAILID (Cyrus) leaves the digest's order to decide among them, as without OBJECTID", () => {
    const gone = [
      { state: message(300, 'same', 'Msame'), path: 'INBOX' },
      { state: message(301, 'same', 'Msame'), path: 'INBOX' },
    ]
    expect(matchMoves(gone, [arrived('same', 'Msame')]).moves.map((m) => m.from.state.itemId)).toEqual([300])
  })

  it('where messages are unique, matching by EMAILID and by digest give the same moves', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 15 }), fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 15 }), (goneIds, newIds) => {
        // One message per number: its digest and its EMAILID both follow from it.
        const gone = goneIds.map((n) => ({ state: message(300 + n, `d${n}`, `E${n}`), path: 'INBOX' }))
        const fresh = newIds.map((n) => arrived(`d${n}`, `E${n}`))
        const summary = (r: ReturnType<typeof matchMoves>) => ({
          moves: r.moves.map((m) => [m.from.state.itemId, m.message.digest]),
          fresh: r.fresh.map((m) => m.digest),
          left: r.left.map((v) => v.state.itemId),
        })
        const byId = summary(matchMoves(gone, fresh))
        const byDigest = summary(
          matchMoves(
            gone.map((v) => ({ ...v, state: { ...v.state, imap: { mailbox: 'INBOX', uidValidity: 1, uid: v.state.itemId } } })),
            fresh.map(withoutIds),
          ),
        )
        expect(byId).toEqual(byDigest)
      }),
    )
  })
})

const box = (path: string, uidValidity: number, mailboxId?: string): ServerFolder => serverFolder(path, { uidValidity, ...(mailboxId !== undefined && { mailboxId }) }, '/')
const cp = (folderId: number, uidValidity: number, mailboxId?: string): FolderCheckpoint => ({
  folderId,
  uidValidity,
  uidNext: 1,
  messages: 0,
  highestModseq: '1',
  ...(mailboxId !== undefined && { mailboxId }),
})
const folder = (itemId: number, name: string): ItemState => folderItem(itemId, FolderIds.USER_ROOT, name)
const ids = (plan: ReturnType<typeof planFolders>) => Object.fromEntries(plan.byPath)

describe('planFolders with MAILBOXIDs', () => {
  const known = new Map([
    [300, folder(300, 'A')],
    [301, folder(301, 'B')],
  ])

  it('two folders that swapped names keep their items (by MAILBOXID): each is renamed', () => {
    const plan = planFolders([box('A', 20, 'mb-B'), box('B', 10, 'mb-A')], { A: cp(300, 10, 'mb-A'), B: cp(301, 20, 'mb-B') }, known, 302)
    expect(ids(plan)).toEqual({ A: 301, B: 300 })
    expect(plan.changes.map((c) => [c.kind, c.folder.path, c.itemId])).toEqual([
      ['rename', 'A', 301],
      ['rename', 'B', 300],
    ])
    expect(plan.gone).toEqual([])
  })

  it("a folder renamed while a new one took its old name: a rename and a creation, not the new folder taking the old one's item", () => {
    const plan = planFolders([box('A', 30, 'mb-new'), box('C', 10, 'mb-A')], { A: cp(300, 10, 'mb-A') }, new Map([[300, folder(300, 'A')]]), 302)
    expect(ids(plan)).toEqual({ A: 302, C: 300 })
    expect(plan.changes.map((c) => [c.kind, c.folder.path, c.itemId])).toEqual([
      ['create', 'A', 302],
      ['rename', 'C', 300],
    ])
  })

  it('without MAILBOXIDs, the path and then UIDVALIDITY decide, as before; MAILBOXIDs that differ are never a rename by UIDVALIDITY', () => {
    const swapped = planFolders([box('A', 20), box('B', 10)], { A: cp(300, 10), B: cp(301, 20) }, known, 302)
    expect(ids(swapped)).toEqual({ A: 300, B: 301 })
    const renamed = planFolders([box('C', 10)], { A: cp(300, 10) }, new Map([[300, folder(300, 'A')]]), 302)
    expect(ids(renamed)).toEqual({ C: 300 })
    const notRenamed = planFolders([box('C', 10, 'mb-C')], { A: cp(300, 10, 'mb-A') }, new Map([[300, folder(300, 'A')]]), 302)
    expect(ids(notRenamed)).toEqual({ C: 302 })
    expect(notRenamed.gone.map(([p]) => p)).toEqual(['A'])
  })
})
