/**
 * The scanner's pure decisions: how the server's folder listing maps to folder items and their
 * changes (`planFolders`), which gone and new messages are moves (`matchMoves`), and what an
 * incomplete scan leaves for a complete one (`deferUntilComplete`).
 */
import { deferUntilComplete, matchMoves, planFolders } from '../../src/capture/imap/diffAccount'
import type { FolderCheckpoint } from '../../src/capture/scanCheckpoint'
import type { ServerFolder } from '../../src/imap/list'
import { folderItem, messageItem, notAMailbox, serverFolder } from '../support/scanFixtures'
import { FolderIds, NOT_A_MAILBOX } from '../../domain/folders'
import type { ItemState } from '../../domain/state'

const box = (path: string, o: Partial<ServerFolder> = {}): ServerFolder => serverFolder(path, { uidValidity: 100 + path.length, ...o })
const level = notAMailbox
const folder = folderItem
const cp = (folderId: number, uidValidity: number): FolderCheckpoint => ({ folderId, uidValidity, uidNext: 1, messages: 0, highestModseq: '1' })
const message = (itemId: number, folderId: number, digest: string, messageId?: string): ItemState =>
  messageItem(itemId, folderId, digest, messageId !== undefined ? { headers: { messageId } } : {})

describe('planFolders', () => {
  it('records a parent that is not a mailbox as a folder, before its child, marked not a mailbox', () => {
    const plan = planFolders([box('INBOX'), level('Lists'), box('Lists.python-dev')], {}, new Map(), 256)
    // INBOX, unknown to this store, is recorded too, under its system id.
    expect(plan.changes.map((c) => [c.kind, c.folder.path, c.itemId, c.kind === 'create' ? c.parentId : undefined])).toEqual([
      ['create', 'INBOX', FolderIds.INBOX, FolderIds.USER_ROOT],
      ['create', 'Lists', 256, FolderIds.USER_ROOT],
      ['create', 'Lists.python-dev', 257, 256],
    ])
    expect(plan.byPath.get('INBOX')).toBe(FolderIds.INBOX)
    // Every listed folder is mapped at once, up to date or not, so that its id survives a scan that does not read it.
    expect(plan.folders['Lists.python-dev']).toEqual({ folderId: 257, uidValidity: box('Lists.python-dev').uidValidity, uidNext: 0, messages: -1 })
  })

  it('repairs a store that recorded the child at the top level: the parent is created and the child moved under it', () => {
    const known = new Map([[300, folder(300, FolderIds.USER_ROOT, 'python-dev')]])
    const plan = planFolders([box('INBOX'), level('Lists'), box('Lists.python-dev')], { 'Lists.python-dev': cp(300, box('Lists.python-dev').uidValidity) }, known, 301)
    expect(
      plan.changes.map((c) => ({ kind: c.kind, path: c.folder.path, itemId: c.itemId, ...(c.kind === 'move' && { parentId: c.parentId, fromParentId: c.fromParentId }) })),
    ).toEqual([
      { kind: 'create', path: 'INBOX', itemId: FolderIds.INBOX },
      { kind: 'create', path: 'Lists', itemId: 301 },
      { kind: 'move', path: 'Lists.python-dev', itemId: 300, parentId: 301, fromParentId: FolderIds.USER_ROOT },
    ])
  })

  it('records a level becoming a mailbox, and a mailbox becoming a level, as a change of the folder flags', () => {
    const known = new Map([
      [300, folder(300, FolderIds.USER_ROOT, 'Archive', [NOT_A_MAILBOX])],
      [301, folder(301, 300, '2019')],
      [302, folder(302, FolderIds.USER_ROOT, 'Lists')],
    ])
    const checkpoint = { Archive: cp(300, 0), 'Archive.2019': cp(301, 7), Lists: cp(302, 9) }
    const plan = planFolders([box('Archive'), box('Archive.2019', { uidValidity: 7 }), level('Lists')], checkpoint, known, 303)
    expect(plan.changes.map((c) => [c.kind, c.folder.path])).toEqual([
      ['flags', 'Archive'],
      ['flags', 'Lists'],
    ])
  })

  it('never takes a level that is not a mailbox for a rename (it has no UIDVALIDITY)', () => {
    const known = new Map([[300, folder(300, FolderIds.USER_ROOT, 'Lists', [NOT_A_MAILBOX])]])
    const plan = planFolders([level('Groups')], { Lists: cp(300, 0) }, known, 301)
    expect(plan.changes.map((c) => [c.kind, c.folder.path, c.itemId])).toEqual([['create', 'Groups', 301]])
    expect(plan.gone.map(([p]) => p)).toEqual(['Lists'])
  })

  it('takes a mailbox gone and one new with the same UIDVALIDITY for a rename, keeping its id and checkpoint', () => {
    const known = new Map([[300, folder(300, FolderIds.USER_ROOT, 'Work')]])
    const plan = planFolders([box('Jobs', { uidValidity: 42 })], { Work: cp(300, 42) }, known, 301)
    expect(plan.changes.map((c) => [c.kind, c.folder.path, c.itemId])).toEqual([['rename', 'Jobs', 300]])
    expect(plan.folders).toEqual({ Jobs: cp(300, 42) })
    expect(plan.gone).toEqual([])
    expect(plan.nextItemId).toBe(301)
  })
})

describe('matchMoves', () => {
  it('pairs a gone message with a new one of the same content and Message-ID, in order', () => {
    const gone = [
      { state: message(300, 2, 'd1', '<a@x>'), path: 'INBOX' },
      { state: message(301, 2, 'd2'), path: 'INBOX' },
    ]
    const fresh = [
      { digest: 'd1', headers: { messageId: '<other@x>' }, path: 'Work' },
      { digest: 'd1', headers: { messageId: '<a@x>' }, path: 'Work' },
      { digest: 'd3', headers: {}, path: 'Work' },
    ]
    const r = matchMoves(gone, fresh)
    expect(r.moves.map((m) => [m.from.state.itemId, m.message])).toEqual([[300, fresh[1]]])
    expect(r.fresh).toEqual([fresh[0], fresh[2]])
    expect(r.left.map((v) => v.state.itemId)).toEqual([301])
  })
})

describe('deferUntilComplete', () => {
  it('leaves for a complete scan the new messages whose content the backup holds in a folder not read', () => {
    const byFolder = new Map([
      [260, [message(300, 260, 'in-work')]],
      [261, [message(301, 261, 'in-read-folder')]],
    ])
    const created = [{ digest: 'in-work' }, { digest: 'in-read-folder' }, { digest: 'new' }]
    expect(deferUntilComplete(created, new Set([260]), byFolder)).toEqual({ now: [{ digest: 'in-read-folder' }, { digest: 'new' }], later: [{ digest: 'in-work' }] })
    expect(deferUntilComplete(created, new Set(), byFolder)).toEqual({ now: created, later: [] })
  })
})
