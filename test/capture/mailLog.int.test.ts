/**
 * Dovecot's own mail_log, imported after a scan, pins the exact instants of the changes the scan
 * could only bound, without recording anything twice when the next scan runs.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { parseMailLogLine } from '../../src/capture/mailLog/parse'

describe('mail_log lines', () => {
  it('reads saves, copies, expunges, flag changes and folder changes', () => {
    expect(
      parseMailLogLine('2026-03-03 14:02:11 imap(alice)<123><abc>: Info: copy from INBOX: box=Projects, uid=4, msgid=<a@b>, size=36, vsize=40, from=x, subject=hi, flags=(\\Seen)')
        ?.change,
    ).toEqual({
      kind: 'copy',
      from: 'INBOX',
      box: 'Projects',
      uid: 4,
      msgid: '<a@b>',
    })
    expect(
      parseMailLogLine(
        '2026-03-03 14:02:12 imap(alice)<123><abc>: Info: flag_change: box=INBOX, uid=7, msgid=<c@d>, size=1, vsize=2, from=, subject=, flags=(\\Seen \\Flagged $Work)',
      )?.change,
    ).toEqual({
      kind: 'flag_change',
      box: 'INBOX',
      uid: 7,
      msgid: '<c@d>',
      flags: ['\\Seen', '\\Flagged', '$Work'],
    })
    expect(parseMailLogLine('2026-03-03 14:02:13 imap(bob)<1><x>: Info: Mailbox renamed: Old -> New.Sub')?.change).toEqual({ kind: 'mailbox_rename', from: 'Old', box: 'New.Sub' })
    expect(parseMailLogLine('2026-03-03 14:02:13 imap(bob)<1><x>: Info: Disconnected: Logged out')?.change).toBeUndefined()
    expect(parseMailLogLine('garbage')).toBeUndefined()
  })
})

describeWithService(dovecotAvailable(), 'Dovecot')('Dovecot mail_log import', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ dave: 'davepw', erin: 'erinpw' })
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('pins moves, flag changes, expunges and renames at the instants the server logged', async () => {
    const store = ['--store', `sqlite:${path.join(tmpDir(), 'm.db')}`, '--tz', 'UTC']
    const env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    const c = clientAs(d, 'dave')
    await c.connect()
    await c.mailboxCreate('Projects')
    for (const s of ['One', 'Two', 'Three']) await c.append('INBOX', Buffer.from(`Subject: ${s}\r\nMessage-ID: <${s}@x>\r\n\r\n${s}\r\n`), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...store, 'doAccountScan', 'dave'], env).code).toBe(0)
    const ids = Object.fromEntries(
      (JSON.parse(mailtime([...store, '--json', 'getAccountState', 'dave'], env).stdout).items as { subject: string; itemId: number }[]).map((i) => [i.subject, i.itemId]),
    )
    await c.mailboxOpen('INBOX')
    await c.messageMove('1', 'Projects', { uid: true })
    await c.messageFlagsAdd('2', ['\\Flagged'], { uid: true })
    await c.messageDelete('3', { uid: true })
    await c.mailboxRename('Projects', 'Work')
    await c.logout()
    const changedBy = Date.now()
    await new Promise((r) => setTimeout(r, 2100))

    const imp = mailtime([...store, '--json', 'importLog', d.logPath], env)
    expect(imp.code).toBe(0)
    const s = JSON.parse(imp.stdout)
    expect(s.format).toBe('dovecot')
    expect(s.byType).toMatchObject({ ItemMoved: 1, ItemDeleted: 1, ItemRenamed: 1 })
    // \Flagged on one message, and \Deleted on the other before its expunge.
    expect(s.byType.ItemFlagsChanged).toBe(2)
    // The scan after the log records nothing the log already pinned.
    const scan = JSON.parse(mailtime([...store, '--json', 'doAccountScan', 'dave'], env).stdout)
    expect(scan.folders.flatMap((f: { moved: number; deleted: number }) => [f.moved, f.deleted])).toEqual([0, 0, 0, 0])
    const hist = (id: number) => JSON.parse(mailtime([...store, '--json', 'getItem', 'dave', String(id), 'date', 'all'], env).stdout).versions
    const moved = hist(ids.One as number)
    expect(moved.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemMoved'])
    expect(Date.parse(moved[1].validFrom)).toBeLessThanOrEqual(changedBy)
    expect(moved[1].state.folderPath).toBe('/Work')
    const gone = hist(ids.Three as number)
    expect(gone.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemFlagsChanged', 'ItemDeleted'])
    expect(Date.parse(gone[1].validFrom)).toBeLessThanOrEqual(changedBy)
    expect(hist(ids.Two as number).pop().state.flags).toEqual(['\\Flagged'])
    // Importing the same log again appends nothing.
    expect(JSON.parse(mailtime([...store, '--json', 'importLog', d.logPath], env).stdout).appended).toBe(0)
  })

  /** Waits until Dovecot's log holds a line matching `re` (its log process writes asynchronously). */
  const logged = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if (re.test(fs.readFileSync(d.logPath, 'utf8'))) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`Dovecot never logged ${re}`)
  }

  it('refines the instants of changes a later scan already recorded, adding no second version', async () => {
    const db = path.join(tmpDir(), 'e.db')
    const store = ['--store', `sqlite:${db}`, '--tz', 'UTC']
    const env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    const c = clientAs(d, 'erin')
    await c.connect()
    await c.mailboxCreate('Projects')
    await c.mailboxCreate('Old')
    for (const s of ['Moved', 'Flagged', 'Expunged', 'Tagged', 'Untouched'])
      await c.append('INBOX', Buffer.from(`Subject: ${s}\r\nMessage-ID: <${s}@erin>\r\n\r\n${s}\r\n`), [], new Date('2026-03-01T10:00:00Z'))
    await c.append('Old', Buffer.from('Subject: Filed\r\nMessage-ID: <Filed@erin>\r\n\r\nFiled\r\n'), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...store, 'doAccountScan', 'erin'], env).code).toBe(0)
    const state = JSON.parse(mailtime([...store, '--json', 'getAccountState', 'erin'], env).stdout) as {
      items: { subject: string; itemId: number }[]
      folders: { path: string; folderId: number }[]
    }
    const ids = Object.fromEntries(state.items.map((i) => [i.subject, i.itemId])) as Record<string, number>
    const oldFolder = state.folders.find((f) => f.path === '/Old')?.folderId as number
    await c.mailboxOpen('INBOX')
    await c.messageMove('1', 'Projects', { uid: true })
    await c.messageFlagsAdd('2', ['\\Flagged'], { uid: true })
    await c.messageDelete('3', { uid: true })
    await c.messageFlagsAdd('4', ['$Work'], { uid: true })
    await c.mailboxDelete('Old')
    await c.logout()
    const changedBy = Date.now()
    await logged(/imap\(erin\).*Mailbox deleted: Old/)

    // The scan finds every change, and can only date it at its own instant.
    const scan = JSON.parse(mailtime([...store, '--json', 'doAccountScan', 'erin'], env).stdout)
    expect(scan.eventsAppended).toBeGreaterThanOrEqual(4)
    const eventIds = (): string[] => {
      const Database = require('better-sqlite3') as typeof import('better-sqlite3')
      const h = new Database(db, { readonly: true })
      try {
        return (h.prepare('SELECT event_id AS id FROM events').all() as { id: string }[]).map((r) => r.id)
      } finally {
        h.close()
      }
    }
    const before = new Set(eventIds())
    const dry = mailtime([...store, '--json', 'importLog', d.logPath, 'account', 'erin', 'dry_run', 'true'], env)
    expect(dry.code).toBe(0)
    const shown = dry.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((l: { summary?: boolean }) => l.summary !== true)
      .map((e: { eventId: string }) => e.eventId)
    const imp = mailtime([...store, '--json', 'importLog', d.logPath, 'account', 'erin'], env)
    expect(imp.code).toBe(0)
    // The dry run showed exactly what the import recorded.
    expect(shown.sort()).toEqual(
      eventIds()
        .filter((id) => !before.has(id))
        .sort(),
    )

    const hist = (id: number) =>
      JSON.parse(mailtime([...store, '--json', 'getItem', 'erin', String(id), 'date', 'all'], env).stdout).versions as {
        cause: string
        validFrom: string
        state: { folderPath: string; flags: string[]; tags: string[]; status: string }
      }[]
    const causes = (id: number) => hist(id).map((v) => v.cause)
    // One version per change, each starting at the instant the server logged (before the scan ran).
    expect(causes(ids.Moved as number)).toEqual(['ItemCreated', 'ItemMoved'])
    expect(causes(ids.Flagged as number)).toEqual(['ItemCreated', 'ItemFlagsChanged'])
    expect(causes(ids.Expunged as number)).toEqual(['ItemCreated', 'ItemFlagsChanged', 'ItemDeleted'])
    expect(causes(ids.Tagged as number)).toEqual(['ItemCreated', 'ItemTagsChanged'])
    expect(causes(ids.Untouched as number)).toEqual(['ItemCreated'])
    expect(causes(oldFolder)).toEqual(['ItemCreated', 'ItemDeleted'])
    for (const id of [ids.Moved, ids.Flagged, ids.Expunged, ids.Tagged, ids.Filed, oldFolder] as number[]) {
      const last = hist(id).pop()
      expect(Date.parse(last?.validFrom ?? '')).toBeLessThanOrEqual(changedBy)
    }
    expect(hist(ids.Moved as number).pop()?.state.folderPath).toBe('/Projects')
    expect(hist(ids.Flagged as number).pop()?.state.flags).toEqual(['\\Flagged'])
    expect(hist(ids.Tagged as number).pop()?.state.tags).toEqual(['$Work'])
    expect(hist(ids.Expunged as number).pop()?.state.status).toBe('deleted')
    // The account's activity counts each change once: three deletions (the expunged message, the
    // folder and the message it held), one move, three flag changes.
    expect(causes(ids.Filed as number)).toEqual(['ItemCreated', 'ItemDeleted'])
    const activity = JSON.parse(mailtime([...store, '--json', 'getActivity', 'erin'], env).stdout).buckets as { deleted: number; moved: number; flagged: number }[]
    expect(activity.reduce((n, b) => n + b.deleted, 0)).toBe(3)
    expect(activity.reduce((n, b) => n + b.moved, 0)).toBe(1)
    expect(activity.reduce((n, b) => n + b.flagged, 0)).toBe(3)

    // Nothing more on a second import or the next scan.
    expect(JSON.parse(mailtime([...store, '--json', 'importLog', d.logPath, 'account', 'erin'], env).stdout).appended).toBe(0)
    expect(JSON.parse(mailtime([...store, '--json', 'doAccountScan', 'erin'], env).stdout).eventsAppended).toBe(0)
  })
})
