import { planItemRestore, planRestoreOnNewAccount, planUndelete, undeleteTag } from '../../domain/restore/plan'
import type { ItemState } from '../../domain/state'

const msg = (id: number, extra: Partial<ItemState> = {}): ItemState =>
  ({
    itemId: id,
    itemType: 'message',
    folderId: 2,
    flags: ['\\Deleted', '\\Seen'],
    tags: ['work'],
    status: 'deleted',
    known: true,
    content: { digest: `d${id}`, size: 10 },
    headers: { subject: `s${id}` },
    ...extra,
  }) as unknown as ItemState

describe('restore plans', () => {
  it('undelete tags each item with the run day, strips \\Deleted and keeps its source folder', () => {
    const tag = undeleteTag({ day: 3, month: 11, year: 2021 })
    expect(tag).toBe('undelete_03_11_21')
    const p = planUndelete('a', [{ state: msg(300), folder: ['Conference 2021'] }], tag, undefined)
    expect(p.items).toEqual([
      { itemId: 300, itemType: 'message', folder: ['Conference 2021'], flags: ['\\Seen'], tags: ['undelete_03_11_21', 'work'], digest: 'd300', size: 10, subject: 's300' },
    ])
    expect(p.folders).toEqual([['Conference 2021']])
  })

  it('undelete into a dedicated folder keeps the original path below it', () => {
    const p = planUndelete('a', [{ state: msg(300), folder: ['Projects', 'Alpha'] }], 'undelete_01_01_26', 'undelete_01_01_26')
    expect(p.items[0]?.folder).toEqual(['undelete_01_01_26', 'Projects', 'Alpha'])
    expect(p.folders).toEqual([['undelete_01_01_26'], ['undelete_01_01_26', 'Projects'], ['undelete_01_01_26', 'Projects', 'Alpha']])
  })

  it('lists what it cannot restore, with the reason', () => {
    const p = planRestoreOnNewAccount('a', 'b', [
      { state: msg(1, { status: 'purged', purgeReason: 'retention 30 days' } as Partial<ItemState>), folder: ['Inbox'] },
      { state: msg(2, { content: undefined } as unknown as Partial<ItemState>), folder: ['Inbox'] },
      { state: msg(3, { itemType: 'contact' } as Partial<ItemState>), folder: ['Contacts'] },
      { state: msg(4), folder: ['Inbox'] },
    ])
    expect(p.items.map((i) => i.itemId)).toEqual([4])
    expect(p.unrestorable.map((u) => [u.itemId, u.reason])).toEqual([
      [1, 'purged by retention (retention 30 days)'],
      [2, 'no content was captured (known only from a log line)'],
      [3, 'a contact is not a message; mailbox targets hold messages only (export it instead)'],
    ])
  })

  it('a deleted folder is a folder item to recreate at its own path, not an unrestorable item', () => {
    const folder = (id: number, name: string, parent: number): ItemState =>
      msg(id, { itemType: 'folder', name, folderId: parent, content: undefined } as unknown as Partial<ItemState>)
    const p = planUndelete(
      'a',
      [
        { state: folder(256, 'Projects', 1), folder: [] },
        { state: folder(257, 'Alpha', 256), folder: ['Projects'] },
        { state: folder(258, 'Empty', 1), folder: [] },
        { state: msg(300), folder: ['Projects', 'Alpha'] },
      ],
      'undelete_01_01_26',
      undefined,
    )
    expect(p.unrestorable).toEqual([])
    expect(p.items.map((i) => i.itemId)).toEqual([300])
    expect(p.folderItems).toEqual([
      { itemId: 256, folder: ['Projects'] },
      { itemId: 257, folder: ['Projects', 'Alpha'] },
      { itemId: 258, folder: ['Empty'] },
    ])
    // An empty deleted folder is recreated too.
    expect(p.folders).toEqual([['Empty'], ['Projects'], ['Projects', 'Alpha']])
    const dedicated = planUndelete('a', [{ state: folder(258, 'Empty', 1), folder: [] }], 'undelete_01_01_26', 'undelete_01_01_26')
    expect(dedicated.folderItems).toEqual([{ itemId: 258, folder: ['undelete_01_01_26', 'Empty'] }])
  })

  it('a restore on a new account recreates every user folder as a folder item, empty ones included, and never a system folder', () => {
    const folder = (id: number, name: string, parent: number): ItemState =>
      msg(id, { itemType: 'folder', name, folderId: parent, status: 'live', content: undefined } as unknown as Partial<ItemState>)
    const p = planRestoreOnNewAccount('a', 'b', [
      { state: msg(300, { status: 'live' } as Partial<ItemState>), folder: ['Projects'] },
      { state: folder(256, 'Projects', 1), folder: [] },
      { state: folder(257, 'Empty', 256), folder: ['Projects'] },
      { state: folder(258, 'Later', 1), folder: [] },
      { state: folder(259, 'Someday', 258), folder: ['Later'] },
      { state: folder(3, 'Trash', 1), folder: [] },
      // Given again (deleted since): the first entry wins.
      { state: folder(258, 'Later', 1), folder: ['Elsewhere'] },
    ])
    expect(p.items.map((i) => i.itemId)).toEqual([300])
    expect(p.folderItems).toEqual([
      { itemId: 256, folder: ['Projects'] },
      { itemId: 257, folder: ['Projects', 'Empty'] },
      { itemId: 258, folder: ['Later'] },
      { itemId: 259, folder: ['Later', 'Someday'] },
    ])
    expect(p.folders).toEqual([['Later'], ['Projects'], ['Later', 'Someday'], ['Projects', 'Empty']])
    expect(p.unrestorable).toEqual([])
  })

  it('an item restore goes to restore_folder when given', () => {
    expect(planItemRestore('a', { state: msg(5), folder: ['Inbox'] }, ['Restored']).items[0]?.folder).toEqual(['Restored'])
    expect(planItemRestore('a', { state: msg(5), folder: ['Inbox'] }, undefined).items[0]?.folder).toEqual(['Inbox'])
  })
})
