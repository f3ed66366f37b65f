/**
 * mailbox.log import from the command line: every kind of item-change line, stack traces, malformed
 * and foreign lines, gzipped and rotated files, idempotent re-imports, and the dry-run JSON lines.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const ctx = (account: string) => `[name=${account};mid=7;ip=10.0.0.9;ua=zclient/10.0.0_GA (Linux; x64);]`
const day1 = [
  `2026-03-02 09:00:00,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=300, Message-ID=<m300@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:00:01,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=301, Message-ID=<m301@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:00:02,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=302, Message-ID=<m302@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:00:03,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=303, Message-ID=<m303@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:05:00,000 DEBUG [qtp1-2:https://mail/service/soap/CreateFolderRequest] ${ctx('alice@example.com')} mailop - adding folder Conference 2021: id=257, parentId=1.`,
  `2026-03-02 09:10:00,000 INFO [qtp1-3:https://mail/service/soap/ConvActionRequest] ${ctx('alice@example.com')} mailop - Moving Conversation (id=-300) to Folder Conference 2021 (id=257).  Affected message ids: 300,301.`,
  `2026-03-02 09:11:00,000 INFO  [qtp1-4:https://mail/service/soap/ContactActionRequest] ${ctx('alice@example.com')} mailop - adding contact marco@example.org: id=600, folderId=7, folderName=Contacts.`,
  `2026-03-02 09:12:00,000 INFO  [qtp1-5:https://mail/service/soap/CreateAppointmentRequest] ${ctx('alice@example.com')} calendar - Adding CalendarItem: id=512, Message-ID="<inv@x>", folderId=10, subject="Budget review", UID=abc-123`,
  `2026-03-02 09:13:00,000 INFO  [qtp1-6:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - Copying Message (id=302): copyId=310, folderId=257, folderName=Conference 2021, parentId=-1.`,
  `2026-03-02 09:14:00,000 WARN  [qtp1-7:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} soap - handler exception`,
  'com.zimbra.common.service.ServiceException: no such message',
  'ExceptionId:qtp1-7:https://mail/service/soap/MsgActionRequest:1772442840000:abc',
  '\tat com.zimbra.cs.mailbox.Mailbox.getItemById(Mailbox.java:1234)',
  `2026-03-02 09:15:00,000 INFO  [qtp1-8:https://mail/service/soap/MsgActionRequest] ${ctx('bob@example.com')} mailop - moving Message (id=900) to Folder Trash (id=3)`,
  '2026-03-02 09:16:00,000 this line is truncated',
  `2026-03-02 09:17:00,000 INFO  [qtp1-9] [] mailop - moving Message (id=301) to Folder Trash (id=3)`,
]
const day2 = [
  `2026-03-03 10:00:00,000 INFO  [qtp1-1:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - moving Message (id=302) to Folder Trash (id=3)`,
  `2026-03-03 10:00:05,000 INFO  [qtp1-1:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - moving Message (id=303) to Folder Trash (id=3)`,
  `2026-03-03 11:00:00,000 INFO  [qtp1-2:https://mail/service/soap/FolderActionRequest] ${ctx('alice@example.com')} mailbox - Emptying 2 items from /Trash, removeSubfolders=true.`,
  `2026-03-03 12:00:00,000 INFO  [qtp1-3:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - Deleting Message (id=300).`,
  `2026-03-03 12:00:01,000 INFO  [qtp1-3:https://mail/service/soap/ItemActionRequest] ${ctx('alice@example.com')} mailop - Deleting MESSAGES: 310,512.`,
  `2026-03-03 13:00:00,000 DEBUG [qtp1-4:https://mail/service/soap/FolderActionRequest] ${ctx('alice@example.com')} mailop - renaming Folder Conference 2021 (id=257) to Conference 2022`,
  `2026-03-03 13:30:00,000 INFO  [MailboxPurge] [] purge - Purging messages.`,
]

describe('importLog', () => {
  let dir: string
  let store: string[]
  const run = (...args: string[]) => mailtime([...store, ...args], {})
  beforeAll(() => {
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'Europe/Rome']
    fs.writeFileSync(path.join(dir, 'mailbox.log.2026-03-02.gz'), zlib.gzipSync(`${day1.join('\n')}\n`))
    fs.writeFileSync(path.join(dir, 'mailbox.log'), `${day2.join('\n')}\n`)
  })

  it('dry run with --json writes one event per line, then a summary line, and appends nothing', () => {
    const r = run('--json', 'importLog', path.join(dir, 'mailbox.log'), path.join(dir, 'mailbox.log.2026-03-02.gz'), 'dry_run', 'true')
    expect(r.code).toBe(0)
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const summary = lines[lines.length - 1]
    expect(summary).toMatchObject({ summary: true, dryRun: true, malformed: 2 })
    const events = lines.slice(0, -1)
    expect(events[0]).toEqual({
      account: 'alice@example.com',
      eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
      folderId: 2,
      itemId: 300,
      itemType: 'message',
      occurredAt: '2026-03-02T09:00:00.000+01:00',
      source: { file: 'mailbox.log.2026-03-02.gz', line: 1 },
      type: 'ItemCreated',
    })
    // The rotated file came first although it was named second.
    expect(events.filter((e: { type: string; itemId: number }) => e.type === 'ItemMoved' && [300, 301].includes(e.itemId))).toHaveLength(2)
    expect(summary.events).toBe(events.length)
    expect(JSON.parse(run('--json', 'getAvailableAccounts').stdout).accounts).toEqual([])
  })

  it('imports every kind of line and reports malformed ones with file and line', () => {
    const r = run('--json', 'importLog', path.join(dir, 'mailbox.log'), path.join(dir, 'mailbox.log.2026-03-02.gz'))
    expect(r.code).toBe(0)
    const s = JSON.parse(r.stdout)
    expect(s.malformedSamples).toEqual([
      { file: 'mailbox.log.2026-03-02.gz', line: 15, reason: expect.stringContaining('unrecognised record layout') },
      { file: 'mailbox.log.2026-03-02.gz', line: 16, reason: 'item change without name= in its context' },
    ])
    expect(s.accounts).toEqual(['alice@example.com', 'bob@example.com'])
    expect(s.skipped).toMatchObject({ 'logger soap': 1, 'logger purge': 1 })
    expect(s.appended).toBe(s.events)
  })

  it('builds the history: conversation moves per message, emptied Trash item by item, renames, copies', () => {
    const at = (d: string) => JSON.parse(run('--json', 'getAccountState', 'alice@example.com', 'date', d).stdout)
    const before = at('03/03/2026 10:30:00')
    const where = (v: { items: { itemId: number; folderPath: string }[] }, id: number) => v.items.find((i) => i.itemId === id)?.folderPath
    expect(where(before, 300)).toBe('/Conference 2021')
    expect(where(before, 302)).toBe('/Trash')
    expect(where(before, 310)).toBe('/Conference 2021')
    const after = at('03/03/2026 11:30:00')
    expect(where(after, 302)).toBeUndefined()
    expect(where(after, 303)).toBeUndefined()
    // Its move to Trash was on a line with no account (malformed), so it stays where the conversation went.
    expect(where(after, 301)).toBe('/Conference 2021')
    const deleted = JSON.parse(run('--json', 'doItemSearch', 'alice@example.com', 'type', 'all').stdout)
    expect(deleted.items.map((i: { itemId: number }) => i.itemId)).toEqual([300, 302, 303, 310, 512])
    expect(where(at('last'), 600)).toBe('/Contacts')
    const folder = JSON.parse(run('--json', 'getItem', 'alice@example.com', '257', 'date', 'all').stdout)
    expect(folder.versions.map((v: { state: { name: string } }) => v.state.name)).toEqual(['Conference 2021', 'Conference 2022'])
    const deletedAt = JSON.parse(run('--json', 'getItem', 'alice@example.com', '302').stdout).version.state.deletedAt
    expect(deletedAt).toBe('2026-03-03T11:00:00.000+01:00')
  })

  it('appends nothing when the same logs, or a renamed copy of one, are imported again', () => {
    fs.copyFileSync(path.join(dir, 'mailbox.log'), path.join(dir, 'mailbox.log.2026-03-03'))
    const r = JSON.parse(run('--json', 'importLog', path.join(dir, 'mailbox.log.2026-03-02.gz'), path.join(dir, 'mailbox.log.2026-03-03')).stdout)
    expect(r.appended).toBe(0)
    expect(r.duplicates).toBe(r.events)
  })

  it('refuses a file it cannot read with exit code 4, naming it', () => {
    const r = run('importLog', path.join(dir, 'no-such.log'))
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('no-such.log')
  })
})

describe('importLog dry run', () => {
  const alice = ctx('alice@example.com')
  const earlier = [
    `2026-03-04 09:00:00,000 INFO  [LmtpServer-1] ${alice} mailop - Adding Message: id=400, Message-ID=<m400@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
    `2026-03-04 09:00:01,000 INFO  [LmtpServer-1] ${alice} mailop - Adding Message: id=401, Message-ID=<m401@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
    `2026-03-04 09:00:02,000 INFO  [LmtpServer-1] ${alice} mailop - Adding Message: id=402, Message-ID=<m402@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
    `2026-03-04 09:10:00,000 INFO  [qtp1-1:https://mail/service/soap/MsgActionRequest] ${alice} mailop - moving Message (id=400) to Folder Trash (id=3)`,
  ]
  const later = [
    `2026-03-05 10:00:00,000 INFO  [qtp1-1:https://mail/service/soap/MsgActionRequest] ${alice} mailop - moving Message (id=401) to Folder Trash (id=3)`,
    `2026-03-05 10:00:01,000 INFO  [LmtpServer-1] ${alice} mailop - Adding Message: id=403, Message-ID=<m403@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
    `2026-03-05 10:00:02,000 INFO  [qtp1-1:https://mail/service/soap/MsgActionRequest] ${alice} mailop - moving Message (id=403) to Folder Trash (id=3)`,
    `2026-03-05 10:00:03,000 INFO  [qtp1-6:https://mail/service/soap/MsgActionRequest] ${alice} mailop - Copying Message (id=403): copyId=410, folderId=2, folderName=Inbox, parentId=-1.`,
    `2026-03-05 11:00:00,000 INFO  [qtp1-2:https://mail/service/soap/FolderActionRequest] ${alice} mailbox - Emptying 3 items from /Trash, removeSubfolders=true.`,
    // Old builds also log the batch the emptying deleted: the same deletions, a moment later.
    `2026-03-05 11:00:00,020 INFO  [qtp1-2:https://mail/service/soap/FolderActionRequest] ${alice} mailop - Deleting MESSAGES: 400,401,403.`,
  ]
  let dir: string
  const storeOf = (db: string) => ['--store', `sqlite:${db}`, '--tz', 'Europe/Rome']
  const copyStore = (from: string, to: string) => {
    fs.copyFileSync(from, to)
    for (const ext of ['-wal', '-shm']) if (fs.existsSync(from + ext)) fs.copyFileSync(from + ext, to + ext)
  }
  type Row = { eventId: string; type: string; itemId: number | null }
  const storedEvents = (db: string): Row[] => {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3')
    const h = new Database(db, { readonly: true })
    try {
      return h.prepare('SELECT event_id AS eventId, type, item_id AS itemId FROM events ORDER BY global_position').all() as Row[]
    } finally {
      h.close()
    }
  }
  const dryRun = (db: string, ...files: string[]) => {
    const r = mailtime([...storeOf(db), '--json', 'importLog', ...files, 'dry_run', 'true'])
    expect(r.code).toBe(0)
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    return { events: lines.slice(0, -1).map((e: Row) => ({ eventId: e.eventId, type: e.type, itemId: e.itemId })), summary: lines[lines.length - 1] }
  }
  const byId = (xs: Row[]) => [...xs].sort((a, b) => (a.eventId < b.eventId ? -1 : 1))

  beforeAll(() => {
    dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'mailbox.log.2026-03-04'), `${earlier.join('\n')}\n`)
    fs.writeFileSync(path.join(dir, 'mailbox.log'), `${later.join('\n')}\n`)
  })

  it('shows exactly the events a real import of the same file records, emptied Trash included', () => {
    const a = path.join(dir, 'a.db')
    expect(mailtime([...storeOf(a), 'importLog', path.join(dir, 'mailbox.log.2026-03-04')]).code).toBe(0)
    const b = path.join(dir, 'b.db')
    copyStore(a, b)
    const dry = dryRun(a, path.join(dir, 'mailbox.log'))
    const before = new Set(storedEvents(b).map((e) => e.eventId))
    expect(mailtime([...storeOf(b), 'importLog', path.join(dir, 'mailbox.log')]).code).toBe(0)
    const recorded = storedEvents(b).filter((e) => !before.has(e.eventId))
    expect(byId(dry.events)).toEqual(byId(recorded))
    // The emptying deleted what Trash held then: a message moved there the day before, and two
    // moved there earlier in the same file (one of them created in it).
    const deleted = (xs: Row[]) => xs.filter((e) => e.type === 'ItemDeleted').map((e) => e.itemId)
    expect(new Set(deleted(dry.events))).toEqual(new Set([400, 401, 403]))
    expect(dry.summary).toMatchObject({ dryRun: true, events: dry.events.length, duplicates: 0, appended: 0 })
    // Nothing was appended by the dry run.
    expect(storedEvents(a)).toHaveLength(before.size)
  })

  it('shows the same events as a real import into an empty store, and none for a file already imported', () => {
    const files = [path.join(dir, 'mailbox.log'), path.join(dir, 'mailbox.log.2026-03-04')]
    const c = path.join(dir, 'c.db')
    const dry = dryRun(c, ...files)
    expect(mailtime([...storeOf(c), 'importLog', ...files]).code).toBe(0)
    expect(byId(dry.events)).toEqual(byId(storedEvents(c)))
    // Imported again, every event is already recorded: the dry run says so, as the real run does.
    const again = dryRun(c, ...files)
    expect(again.events).toEqual([])
    const real = JSON.parse(mailtime([...storeOf(c), '--json', 'importLog', ...files]).stdout)
    expect(real).toMatchObject({ appended: 0, duplicates: real.events })
    expect(again.summary).toMatchObject({ events: real.events, duplicates: real.events })
    const text = mailtime([...storeOf(c), 'importLog', ...files, 'dry_run', 'true'])
    expect(text.stdout).toContain(`${real.events} events, 0 would be appended, ${real.events} already recorded`)
  })

  it('records each deletion once when the emptying and its batch both name it', () => {
    const c = path.join(dir, 'c.db')
    const hist = JSON.parse(mailtime([...storeOf(c), '--json', 'getItem', 'alice@example.com', '401', 'date', 'all']).stdout).versions
    expect(hist.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemMoved', 'ItemDeleted'])
    expect(hist[2].validFrom).toBe('2026-03-05T11:00:00.000+01:00')
  })
})
