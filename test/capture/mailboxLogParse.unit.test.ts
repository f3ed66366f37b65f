import { classify } from '../../src/capture/mailboxLog/changes'
import { parseContext, parseRecordLine, soapRequestOf } from '../../src/capture/mailboxLog/record'

describe('mailbox.log records', () => {
  it('reads the log4j layout with one or more spaces after the level, and the context pairs', () => {
    const a = parseRecordLine(
      '2026-03-03 14:02:11,495 INFO  [qtp1-123:https://mail.example.com:443/service/soap/MsgActionRequest] [name=alice@example.com;mid=7;ua=zclient/10.0.0_GA (Linux; x64);ip=10.0.0.1;] mailop - moving Message (id=339) to Folder Trash (id=3)',
    )
    expect(a).toMatchObject({ timestamp: '2026-03-03 14:02:11,495', level: 'INFO', logger: 'mailop', message: 'moving Message (id=339) to Folder Trash (id=3)' })
    expect(parseContext(a?.contextRaw ?? '')).toMatchObject({ name: 'alice@example.com', mid: '7', ua: 'zclient/10.0.0_GA (Linux; x64)' })
    expect(soapRequestOf(a?.thread ?? '')).toBe('MsgActionRequest')
    const b = parseRecordLine('2026-03-03 14:02:11,495 DEBUG [ImapServer-2] [] mailop - renaming Folder Old (id=257) to New')
    expect(b).toMatchObject({ level: 'DEBUG', contextRaw: '', message: 'renaming Folder Old (id=257) to New' })
    expect(parseRecordLine('2026-03-03 14:02:11 garbage')).toBeUndefined()
  })
})

describe('the item-change catalogue', () => {
  it.each([
    [
      'Adding Message: id=301, Message-ID=<a@b>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.',
      { kind: 'created', itemType: 'message', itemId: 301, folderId: 2, messageId: '<a@b>' },
    ],
    [
      'Adding Message: id=302, sender=x@y, Message-ID=<c@d>, parentId=300, folderId=5, folderName=Sent acct=alice@example.com.',
      { kind: 'created', itemType: 'message', itemId: 302, folderId: 5, messageId: '<c@d>' },
    ],
    ['Adding Message: id=303, Message-ID=<e@f>, parentId=-1, folderId=2, folderName=Inbox.', { kind: 'created', itemId: 303 }],
    ['moving Message (id=339) to Folder Trash (id=3)', { kind: 'moved', itemType: 'message', itemIds: [339], folderId: 3, folderName: 'Trash' }],
    ['Moving Message (id=339) to Folder Inbox (id=2).', { kind: 'moved', itemIds: [339], folderId: 2 }],
    ['moving Folder Projects 2021 (id=257) to Folder Trash (id=3)', { kind: 'moved', itemType: 'folder', itemIds: [257], folderId: 3 }],
    [
      'Moving Conversation (id=-400) to Folder Archive (id=260).  Affected message ids: 401,402,403.',
      { kind: 'moved', itemType: 'message', itemIds: [401, 402, 403], folderId: 260 },
    ],
    ['Moving Conversation (id=400) to Folder Trash (id=3). Affected message ids: 401.', { kind: 'moved', itemIds: [401], folderId: 3 }],
    ['Deleting Message (id=339).', { kind: 'deleted', itemType: 'message', itemIds: [339] }],
    ['Deleting Appointment (id=512).', { kind: 'deleted', itemType: 'appointment', itemIds: [512] }],
    ['Deleting MESSAGES: 301,302,303.', { kind: 'deleted', itemType: 'message', itemIds: [301, 302, 303] }],
    ['Deleting CONTACTS: 600.', { kind: 'deleted', itemType: 'contact', itemIds: [600] }],
    ['Emptying 9 items from /Trash, removeSubfolders=true.', { kind: 'emptied', folderPath: '/Trash', count: 9 }],
    ['Copying Message (id=301): copyId=310, folderId=257, folderName=Projects, parentId=-1.', { kind: 'copied', itemType: 'message', itemId: 310, originalId: 301, folderId: 257 }],
    ['Performing IMAP copy of Message (id=301): copyId=311, folderId=257, folderName=Projects, parentId=-1.', { kind: 'copied', itemId: 311, originalId: 301 }],
    ['adding contact marco@example.org: id=600, folderId=7, folderName=Contacts.', { kind: 'created', itemType: 'contact', itemId: 600, folderId: 7, email: 'marco@example.org' }],
    ['adding contact <undefined>: id=601, folderId=7, folderName=Contacts.', { kind: 'created', itemType: 'contact', itemId: 601 }],
    [
      'Adding CalendarItem: id=512, Message-ID="<inv@x>", folderId=10, subject="Budget review", UID=abc-123',
      { kind: 'created', itemType: 'appointment', itemId: 512, folderId: 10, subject: 'Budget review', uid: 'abc-123' },
    ],
    [
      'Moving CalendarItem: id=512, src=Folder Calendar (id=10), dest=Folder Work (id=270), subject="x", UID=abc',
      { kind: 'moved', itemType: 'appointment', itemIds: [512], folderId: 270 },
    ],
    ['adding folder Projects: id=257, parentId=1.', { kind: 'created', itemType: 'folder', itemId: 257, folderId: 1, name: 'Projects' }],
    ['Adding Folder Old Style: id=258, parentId=257.', { kind: 'created', itemType: 'folder', itemId: 258, name: 'Old Style' }],
    ['Adding Tag urgent: id=64.', { kind: 'created', itemType: 'tag', itemId: 64, name: 'urgent' }],
    ['Adding SearchFolder unread: id=259, parentId=1, parentName=USER_ROOT.', { kind: 'created', itemType: 'search', itemId: 259 }],
    ['renaming Folder Conference 2021 (id=257) to Conference 2022', { kind: 'renamed', itemType: 'folder', itemId: 257, name: 'Conference 2022' }],
  ])('%s', (line, expected) => {
    expect(classify(line)).toMatchObject(expected)
  })

  it.each(['Purging messages.', 'Emptying dumpster with batchSize=1000', 'modifying contact marco@x: id=600, folderId=7, folderName=Contacts.', 'Deleting Message (id=-5).'])(
    'records no item change for %s',
    (line) => {
      expect(classify(line)).toBeUndefined()
    },
  )
})
