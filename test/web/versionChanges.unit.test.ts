/** The item panel's phrases: what each version changed, compared with the one before. */
import { changesOf, describeVersions } from '../../src/web/versionChanges'

const s = (over: Partial<Parameters<typeof changesOf>[1]> = {}) => ({
  folderPath: '/Inbox',
  flags: [] as string[],
  tags: [] as string[],
  status: 'live',
  subject: 'Hello',
  name: null,
  ...over,
})

describe('what a version changed', () => {
  it('names the folder, flags, tags, status, rename and content changes', () => {
    expect(changesOf(undefined, s())).toEqual(['created in /Inbox'])
    expect(changesOf(s(), s({ folderPath: '/Trash' }))).toEqual(['folder /Inbox → /Trash'])
    expect(changesOf(s({ flags: ['\\Seen', '\\Flagged'] }), s({ flags: ['\\Seen', '\\Answered'] }))).toEqual(['flags +\\Answered −\\Flagged'])
    expect(changesOf(s({ tags: ['a'] }), s({ tags: ['b'] }))).toEqual(['tags +b −a'])
    expect(changesOf(s(), s({ status: 'deleted' }))).toEqual(['live → deleted'])
    expect(changesOf(s({ name: 'Old' }), s({ name: 'New' }))).toEqual(['renamed Old → New'])
    expect(changesOf(s(), s({ subject: 'Edited' }))).toEqual(['content changed'])
    expect(changesOf(s(), s())).toEqual([])
  })

  it('describes a whole history in order', () => {
    const v = (validFrom: string, cause: string, state: ReturnType<typeof s>) => ({ cause, validFrom, validTo: null, state })
    const out = describeVersions([
      v('t1', 'ItemCreated', s()),
      v('t2', 'ItemMoved', s({ folderPath: '/Trash' })),
      v('t3', 'ItemDeleted', s({ folderPath: '/Trash', status: 'deleted' })),
    ])
    expect(out.map((o) => o.changes)).toEqual([['created in /Inbox'], ['folder /Inbox → /Trash'], ['live → deleted']])
  })
})
