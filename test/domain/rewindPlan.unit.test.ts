import { type RewindFolder, type RewindMessage, type RewindOptions, type RewindPlan, type Snapshot, compareWithExpected, groupActions, planRewind } from '../../domain/rewind/plan'

const INBOX: RewindFolder = { folderId: 2, parentId: 1, name: 'Inbox', system: true }
const TRASH: RewindFolder = { folderId: 3, parentId: 1, name: 'Trash', system: true }
const folder = (folderId: number, name: string, parentId = 1): RewindFolder => ({ folderId, parentId, name, system: false })
const msg = (itemId: number, folderId: number, extra: Partial<RewindMessage> = {}): RewindMessage => ({
  itemId,
  folderId,
  flags: [],
  tags: [],
  digest: `d${itemId}`,
  size: 10,
  subject: `s${itemId}`,
  ...extra,
})
/** The same message as a capture finds it now: with its place on the server. */
const live = (m: RewindMessage, mailbox: string): RewindMessage => ({ ...m, location: { mailbox, uidValidity: 7, uid: m.itemId } })

/** Given the account at the instant and now, when the rewind is planned with these options. */
const given = (then: Snapshot, now: Snapshot, options: RewindOptions = {}): RewindPlan => planRewind(then, now, options)
const kinds = (p: RewindPlan) => p.actions.map((a) => a.kind)

describe('rewind plan', () => {
  it('a message moved since goes back to the folder it was in at the instant', () => {
    const p = given({ folders: [INBOX, TRASH], messages: [msg(300, 2)] }, { folders: [INBOX, TRASH], messages: [live(msg(300, 3), 'Trash')] })
    expect(p.actions).toEqual([
      { kind: 'moveBack', itemId: 300, ofItem: 300, from: ['Trash'], location: { mailbox: 'Trash', uidValidity: 7, uid: 300 }, to: ['Inbox'], digest: 'd300', subject: 's300' },
    ])
    expect(p.unachievable).toEqual([])
  })

  it('flags and tags changed since are set back to the exact lists of the instant', () => {
    const p = given(
      { folders: [INBOX], messages: [msg(300, 2, { flags: ['\\Seen'], tags: ['work'] })] },
      { folders: [INBOX], messages: [live(msg(300, 2, { flags: ['\\Flagged'], tags: [] }), 'INBOX')] },
    )
    expect(p.actions).toEqual([
      {
        kind: 'reflag',
        itemId: 300,
        ofItem: 300,
        folder: ['Inbox'],
        fromFlags: ['\\Flagged'],
        fromTags: [],
        location: { mailbox: 'INBOX', uidValidity: 7, uid: 300 },
        flags: ['\\Seen'],
        tags: ['work'],
        subject: 's300',
      },
    ])
  })

  it('a message moved and re-flagged is moved, then re-flagged where it lands', () => {
    const p = given({ folders: [INBOX, TRASH], messages: [msg(300, 2, { flags: ['\\Seen'] })] }, { folders: [INBOX, TRASH], messages: [live(msg(300, 3), 'Trash')] })
    expect(kinds(p)).toEqual(['moveBack', 'reflag'])
    expect(p.actions[1]).toMatchObject({ kind: 'reflag', folder: ['Inbox'], flags: ['\\Seen'] })
  })

  it('a message deleted since comes back with its bytes, flags and tags of the instant', () => {
    const p = given({ folders: [INBOX], messages: [msg(300, 2, { flags: ['\\Seen'], tags: ['work'], internalDate: 1000 })] }, { folders: [INBOX], messages: [] })
    expect(p.actions).toEqual([
      { kind: 'comeBack', itemId: 300, folder: ['Inbox'], flags: ['\\Seen'], tags: ['work'], digest: 'd300', size: 10, internalDate: 1000, subject: 's300' },
    ])
  })

  it('a message gone since whose copy is already back (an interrupted rewind wrote it) is not written twice', () => {
    const p = given({ folders: [INBOX], messages: [msg(300, 2)] }, { folders: [INBOX], messages: [live(msg(900, 2, { digest: 'd300' }), 'INBOX')] })
    expect(p.actions).toEqual([])
    expect(p.expected.messages).toEqual([{ itemId: 300, folder: ['Inbox'], digest: 'd300', flags: [], tags: [], later: false }])
  })

  it('a message deleted since whose bytes were never captured is reported, not invented', () => {
    const p = given({ folders: [INBOX], messages: [msg(300, 2, { digest: undefined } as unknown as Partial<RewindMessage>)] }, { folders: [INBOX], messages: [] })
    expect(p.actions).toEqual([])
    expect(p.unachievable).toEqual([{ itemId: 300, what: 'message', reason: expect.stringContaining('never captured') }])
  })

  it('mail that arrived after the instant stays where it is when no keep-aside folder is given', () => {
    const p = given({ folders: [INBOX], messages: [] }, { folders: [INBOX], messages: [live(msg(400, 2), 'INBOX')] })
    expect(p.actions).toEqual([])
    expect(p.keptInPlace).toBe(1)
    expect(p.expected.messages).toEqual([{ itemId: 400, folder: ['Inbox'], digest: 'd400', flags: [], tags: [], later: true }])
  })

  it('mail that arrived after the instant moves to the keep-aside folder, which is created first', () => {
    const p = given({ folders: [INBOX], messages: [] }, { folders: [INBOX], messages: [live(msg(400, 2, { flags: ['\\Seen'] }), 'INBOX')] }, { keepAfter: ['rewind_07_12_26'] })
    expect(p.actions).toEqual([
      { kind: 'createKeepFolder', path: ['rewind_07_12_26'] },
      {
        kind: 'keepAside',
        itemId: 400,
        ofItem: 400,
        from: ['Inbox'],
        location: { mailbox: 'INBOX', uidValidity: 7, uid: 400 },
        to: ['rewind_07_12_26'],
        digest: 'd400',
        subject: 's400',
      },
    ])
    // Its flags are its own: nothing of the instant says what they should be.
    expect(p.expected.messages).toEqual([{ itemId: 400, folder: ['rewind_07_12_26'], digest: 'd400', flags: ['\\Seen'], tags: [], later: true }])
  })

  it('a folder renamed since is renamed back, parents before children', () => {
    const then = { folders: [INBOX, folder(500, 'Projects'), folder(501, 'Alpha', 500)], messages: [] }
    const now = { folders: [INBOX, folder(500, 'Old', 2), folder(501, 'Beta', 500)], messages: [] }
    const p = given(then, now)
    expect(p.actions).toEqual([
      { kind: 'renameBack', folderId: 500, from: ['Inbox', 'Old'], to: ['Projects'] },
      { kind: 'renameBack', folderId: 501, from: ['Projects', 'Beta'], to: ['Projects', 'Alpha'] },
    ])
  })

  it('a message in a folder renamed since is not moved: the rename brings it back', () => {
    const p = given({ folders: [INBOX, folder(500, 'Projects')], messages: [msg(300, 500)] }, { folders: [INBOX, folder(500, 'Old')], messages: [live(msg(300, 500), 'Old')] })
    expect(kinds(p)).toEqual(['renameBack'])
  })

  it('a folder deleted since is recreated and its messages come back into it', () => {
    const p = given({ folders: [INBOX, folder(500, 'Projects'), folder(501, 'Alpha', 500)], messages: [msg(300, 501)] }, { folders: [INBOX], messages: [] })
    expect(kinds(p)).toEqual(['recreateFolder', 'recreateFolder', 'comeBack'])
    expect(p.actions[1]).toEqual({ kind: 'recreateFolder', folderId: 501, path: ['Projects', 'Alpha'] })
    expect(p.actions[2]).toMatchObject({ folder: ['Projects', 'Alpha'] })
  })

  it('a folder created since is left in place unless removal is asked for', () => {
    const then = { folders: [INBOX], messages: [msg(300, 2)] }
    const now = { folders: [INBOX, folder(600, 'Loot')], messages: [live(msg(300, 600), 'Loot')] }
    expect(kinds(given(then, now))).toEqual(['moveBack'])
    expect(given(then, now).foldersLeft).toEqual([['Loot']])
    const p = given(then, now, { removeNewFolders: true })
    expect(kinds(p)).toEqual(['moveBack', 'removeFolder'])
    expect(p.foldersLeft).toEqual([])
  })

  it('a folder created since that holds mail from after the instant is never removed', () => {
    const then = { folders: [INBOX], messages: [] }
    const now = { folders: [INBOX, folder(600, 'Loot'), folder(601, 'Inner', 600)], messages: [live(msg(400, 601), 'Loot/Inner')] }
    const p = given(then, now, { removeNewFolders: true })
    expect(p.actions).toEqual([])
    expect(p.foldersLeft).toEqual([['Loot'], ['Loot', 'Inner']])
  })

  it('a folder created since is removed once its later mail is kept aside', () => {
    const then = { folders: [INBOX], messages: [] }
    const now = { folders: [INBOX, folder(600, 'Loot')], messages: [live(msg(400, 600), 'Loot')] }
    expect(kinds(given(then, now, { removeNewFolders: true, keepAfter: ['kept'] }))).toEqual(['createKeepFolder', 'keepAside', 'removeFolder'])
  })

  it('a rename back onto a name another folder holds now is reported, not forced', () => {
    const then = { folders: [INBOX, folder(500, 'Projects')], messages: [] }
    const now = { folders: [INBOX, folder(500, 'Old'), folder(600, 'Projects')], messages: [] }
    const p = given(then, now)
    expect(p.actions).toEqual([])
    expect(p.unachievable).toEqual([{ itemId: 500, what: 'folder', reason: '/Old cannot be renamed back to /Projects: another folder has that name now' }])
  })

  it('the preview groups actions in the order an admin reads them', () => {
    const then = { folders: [INBOX, TRASH, folder(500, 'P')], messages: [msg(1, 2), msg(2, 2, { flags: ['\\Seen'] }), msg(3, 2)] }
    const now = { folders: [INBOX, TRASH, folder(500, 'Q')], messages: [live(msg(1, 3), 'Trash'), live(msg(2, 2), 'INBOX'), live(msg(4, 2), 'INBOX')] }
    const groups = groupActions(given(then, now, { keepAfter: ['k'] })).map((g) => [g.group, g.actions.length])
    expect(groups).toEqual([
      ['rename back', 1],
      ['move back', 1],
      ['come back', 1],
      ['re-flag', 1],
      ['keep aside', 2],
    ])
  })
})

describe('comparing the account after a rewind with the expected state', () => {
  it('an account as expected has no difference', () => {
    const p = given({ folders: [INBOX], messages: [msg(300, 2, { flags: ['\\Seen'] })] }, { folders: [INBOX], messages: [] })
    expect(compareWithExpected(p.expected, { folders: [INBOX], messages: [msg(901, 2, { digest: 'd300', flags: ['\\Seen'] })] })).toEqual([])
  })

  it('every difference is named, item by item', () => {
    const p = given({ folders: [INBOX, folder(500, 'P')], messages: [msg(1, 2, { flags: ['\\Seen'] }), msg(2, 2)] }, { folders: [INBOX, folder(500, 'P')], messages: [] })
    const d = compareWithExpected(p.expected, { folders: [INBOX, folder(600, 'X')], messages: [msg(1, 2), msg(7, 2)] })
    expect(d.map((x) => x.text).sort()).toEqual(
      [
        'folder /P is missing',
        'folder /X (item 600) should not be there',
        'item 1 in /Inbox has flags [], expected [\\Seen]',
        'item 2 (at the instant) is not in /Inbox',
        'item 7 in /Inbox should not be there',
      ].sort(),
    )
  })
})
