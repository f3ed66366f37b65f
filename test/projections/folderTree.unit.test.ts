import { folderTree } from '../../projections/folderTree'
import type { ItemState } from '../../domain/state'

const folder = (id: number, parent: number, name?: string): ItemState =>
  ({ itemId: id, itemType: 'folder', folderId: parent, flags: [], tags: [], status: 'live', known: true, ...(name !== undefined && { name }) }) as unknown as ItemState

describe('folder tree', () => {
  it('builds nested paths under system and user folders', () => {
    const t = folderTree([folder(256, 1, 'Projects'), folder(257, 256, 'Alpha'), folder(258, 2, 'Sub')])
    expect([t.pathOf(257), t.pathOf(258), t.pathOf(2), t.pathOf(3), t.pathOf(1)]).toEqual(['/Projects/Alpha', '/Inbox/Sub', '/Inbox', '/Trash', '/'])
  })

  it('names folders it never learned unknown_<id>, as Carbonio does', () => {
    const t = folderTree([folder(257, 999, 'Child')])
    expect([t.pathOf(999), t.pathOf(257), t.pathOf(300)]).toEqual(['/unknown_999', '/unknown_999/Child', '/unknown_300'])
  })

  it('cuts a parent cycle instead of looping', () => {
    const t = folderTree([folder(256, 257, 'A'), folder(257, 256, 'B')])
    expect(t.pathOf(256)).toMatch(/A$/)
    expect(t.pathOf(257)).toMatch(/B$/)
  })
})
