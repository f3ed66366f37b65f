/**
 * The one rule that names a folder as of an instant, and the folders an account view lists, over
 * the naive replay of small histories written out event by event.
 */
import * as TE from 'fp-ts/TaskEither'
import type { MailEvent } from '../../domain/events'
import type { Instant } from '../../domain/instant'
import { makeEvent } from '../../domain/makeEvent'
import { accountAsOf } from '../../projections/accountView'
import { accountSource } from '../../projections/accountSource'
import { folderNamer } from '../../projections/folderNaming'
import { replayTimeTravel } from '../../projections/replay'
import { A, I, ev } from '../support/build'
import { ok } from '../support/run'

const ACC = 'naming@example.com'
const tt = (events: readonly MailEvent[]) => replayTimeTravel(() => TE.right(events.map((event, revision) => ({ event, revision }))))
const folder = (id: number, parent: number, name: string, at: number) =>
  ev('ItemCreated', ACC, at, { itemId: I(id), itemType: 'folder', folderId: I(parent), name, flags: [], tags: [] })
const message = (id: number, folderId: number, at: number) => ev('ItemCreated', ACC, at, { itemId: I(id), itemType: 'message', folderId: I(folderId), flags: [], tags: [] })
const deleted = (id: number, at: number) => ev('ItemDeleted', ACC, at, { itemId: I(id) })
const scanned = (at: number, recordedAt: number): MailEvent =>
  makeEvent('AccountCreated', { accountId: A(ACC), observedVia: 'imap-scan', source: { kind: 'imap-account', seq: 0 }, recordedAt: recordedAt as Instant }, at as Instant, {
    name: ACC,
  })

const pathAt = async (events: readonly MailEvent[], at: number, id: number) => (await ok(folderNamer(tt(events), A(ACC)).treeAt(at, [id]))).pathOf(id)

describe('naming a folder as of an instant', () => {
  const history = [
    folder(256, 1, 'Projects', 1000),
    folder(257, 256, 'Alpha', 2000),
    message(300, 257, 3000),
    ev('ItemRenamed', ACC, 4000, { itemId: I(257), name: 'Alpha 2026' }),
    // Alpha, its message and then Projects go in one scan: all at the same instant.
    deleted(300, 5000),
    deleted(257, 5000),
    deleted(256, 5000),
    message(301, 258, 6000),
    folder(258, 1, 'Archive', 7000),
  ]

  it.each([
    ['a live folder has the path it had then', 3500, 257, '/Projects/Alpha'],
    ['a renamed folder has its new name after the rename', 4500, 257, '/Projects/Alpha 2026'],
    ['a folder deleted at that instant, with its parent, keeps the path it had when deleted', 5000, 257, '/Projects/Alpha 2026'],
    ['a folder deleted long before keeps the path it had when deleted', 99_000, 257, '/Projects/Alpha 2026'],
    ['a folder recorded only after the instant is unknown_<id> then: nothing later is used', 6500, 258, '/unknown_258'],
    ['and has its name once recorded', 7000, 258, '/Archive'],
    ['a folder the backup never learned is unknown_<id>', 6500, 999, '/unknown_999'],
    ['a system folder has its Carbonio name', 6500, 3, '/Trash'],
  ])('%s', async (_rule, at, id, path) => {
    expect(await pathAt(history, at, id)).toBe(path)
  })

  it('a system folder recorded under the name its server gives it keeps the Carbonio name', async () => {
    expect(await pathAt([folder(2, 1, 'INBOX', 1000), folder(256, 2, 'Sub', 1000)], 2000, 256)).toBe('/Inbox/Sub')
  })

  it('an account view names the items of a folder deleted before them the same way, and lists that folder', async () => {
    const v = await ok(accountAsOf(tt([...history, message(302, 257, 1500)]), A(ACC), { validAt: 6500 as Instant }))
    expect(v.items.map((i) => [i.itemId, i.folderPath])).toEqual([
      [301, '/unknown_258'],
      [302, '/Projects/Alpha 2026'],
    ])
    expect(v.folders.map((f) => f.path)).toContain('/Projects/Alpha 2026')
  })
})

describe('the folders an account view lists', () => {
  const paths = async (events: readonly MailEvent[], at: number) => (await ok(accountAsOf(tt(events), A(ACC), { validAt: at as Instant }))).folders.map((f) => f.path)

  it('a Carbonio account has Inbox, Trash, Junk, Sent and Drafts even when they hold nothing', async () => {
    expect(await paths([ev('AccountCreated', ACC, 500, { name: ACC }), folder(256, 1, 'Projects', 1000)], 2000)).toEqual([
      '/Drafts',
      '/Inbox',
      '/Junk',
      '/Projects',
      '/Sent',
      '/Trash',
    ])
  })

  it('an IMAP account has INBOX and the system folders its scans recorded, as long as they existed, and no folder before it existed', async () => {
    const events = [scanned(500, 9000), folder(2, 1, 'INBOX', 1000), folder(3, 1, 'Trash', 1000), folder(256, 1, 'Lists', 1000), deleted(3, 5000), message(300, 5, 1500)]
    expect(await paths(events, 2000)).toEqual(['/Inbox', '/Lists', '/Sent', '/Trash'])
    expect(await paths(events, 6000)).toEqual(['/Inbox', '/Lists', '/Sent'])
    // Before the account existed it has no folders, not even INBOX.
    expect(await paths(events, 100)).toEqual([])
  })

  it('knows an IMAP account and when its first scan ran', () => {
    expect(accountSource([{ event: scanned(500, 9000) as never, revision: 0 }])).toEqual({ imap: true, firstCaptureAt: 9000 })
    expect(accountSource([{ event: ev('AccountCreated', ACC, 500, { name: ACC }) as never, revision: 0 }])).toEqual({ imap: false })
  })
})
