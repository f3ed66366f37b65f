/**
 * What the inspection verbs show of an account captured from a real Dovecot: the folder a version
 * was in is named the same way by every verb (also when that folder was deleted with it, or recorded
 * after the message), and an account as of an instant lists only the folders the server had then.
 * Every mailbox change is made by a plain IMAP client. The scans run on the real clock (capture refuses
 * MAILTIME_NOW): the instants the tests query are real ones recorded between the rounds.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { type CliResult, mailtime } from '../support/cli'
import { clockPast, iso, nextWholeSecond } from '../support/clock'
import { cleanupTmp, tmpDir } from '../support/tmp'

const msg = (subject: string, id: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nHello\r\n`,
  )

interface Item {
  itemId: number
  subject: string
  folderPath: string
}
interface Version {
  cause: string
  state: { folderPath: string; status: string }
}

describeWithService(dovecotAvailable(), 'Dovecot')('inspecting an account captured from Dovecot', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (args: readonly string[]): CliResult => mailtime([...store(), ...args], env)
  const json = (...args: string[]) => {
    const r = run(['--json', ...args])
    if (r.code !== 0) throw new Error(`${args[0]} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  const scan = () => {
    const r = run(['--json', 'doAccountScan', 'alice'])
    if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr}`)
  }
  const folders = (date?: string): string[] => json('getAccountState', 'alice', ...(date ? ['date', date] : [])).folders.map((f: { path: string }) => f.path)
  let digest = 0
  let report = 0
  /** Real instants: around the first scan; after it, before the Report message's date; after that date, before the second scan. */
  let scan1 = { from: 0, to: 0 }
  let BETWEEN = ''
  let AFTER_REPORT = ''

  beforeAll(async () => {
    d = await startDovecot()
    dir = tmpDir()
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    // The server has INBOX, Trash (empty) and Lists; no Junk, Sent or Drafts.
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.mailboxCreate('Trash')
    await c.mailboxCreate('Lists')
    await c.append('INBOX', msg('Hello', 'm1'), [], new Date('2026-03-02T10:00:00Z'))
    await c.append('Lists', msg('Digest', 'm2'), ['\\Seen'], new Date('2026-03-03T10:00:00Z'))
    await c.logout()
    scan1 = { from: Date.now(), to: 0 }
    scan()
    scan1.to = Date.now()
    // Between the scans: a new folder gets a message dated inside the scan window, and Lists is
    // deleted with its message. BETWEEN is after the first scan and more than a second before the
    // message's date (a folder is dated a second before its first message): the account then still
    // has Lists and not yet Archive.
    const between = await clockPast(scan1.to)
    BETWEEN = iso(between)
    const reportDate = nextWholeSecond(between) + 1000
    AFTER_REPORT = iso(await clockPast(reportDate))
    const c2 = clientAs(d, 'alice')
    await c2.connect()
    await c2.mailboxCreate('Archive')
    await c2.append('Archive', msg('Report', 'm3'), [], new Date(reportDate))
    await c2.mailboxDelete('Lists')
    await c2.logout()
    await clockPast(Date.parse(AFTER_REPORT))
    scan()
    const all: Item[] = json('doItemSearch', 'alice', 'search_filter', 'all').items
    digest = all.find((i) => i.subject === 'Digest')?.itemId ?? 0
    report = all.find((i) => i.subject === 'Report')?.itemId ?? 0
  })

  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('getItem date all names the folder of a message deleted with its folder as that folder, as doItemSearch does', () => {
    const versions: Version[] = json('getItem', 'alice', String(digest), 'date', 'all').versions
    expect(versions.map((v) => [v.cause, v.state.status, v.state.folderPath])).toEqual([
      ['ItemCreated', 'live', '/Lists'],
      ['ItemDeleted', 'deleted', '/Lists'],
    ])
    const text = run(['getItem', 'alice', String(digest), 'date', 'all']).stdout
    expect(text).toMatch(/ItemDeleted\s+deleted\s+\/Lists/)
    expect(text).not.toContain('unknown_')
    const search: Item[] = json('doItemSearch', 'alice').items
    expect(search.map((i) => [i.subject, i.folderPath])).toEqual([['Digest', '/Lists']])
    expect(json('getItem', 'alice', String(digest)).version.state.folderPath).toBe('/Lists')
  })

  it('names the folder of a message dated before the scan that found its new folder', () => {
    const versions: Version[] = json('getItem', 'alice', String(report), 'date', 'all').versions
    expect(versions.map((v) => v.state.folderPath)).toEqual(['/Archive'])
    const at = json('getAccountState', 'alice', 'date', AFTER_REPORT)
    expect(at.items.find((i: Item) => i.subject === 'Report')?.folderPath).toBe('/Archive')
    expect(json('getItem', 'alice', String(report), 'date', AFTER_REPORT).version.state.folderPath).toBe('/Archive')
  })

  it('diff names the folder a removed message was in', () => {
    const r = json('diff', 'alice', BETWEEN, 'last')
    expect(r.removed.map((i: Item) => [i.subject, i.folderPath])).toEqual([['Digest', '/Lists']])
  })

  it('getAccountState lists only the folders the server had at that instant: no Junk, Sent or Drafts', () => {
    expect(folders(BETWEEN)).toEqual(['/Inbox', '/Lists', '/Trash'])
    expect(folders()).toEqual(['/Archive', '/Inbox', '/Trash'])
    const text = run(['getAccountState', 'alice']).stdout
    expect(text).not.toMatch(/\/(Junk|Sent|Drafts)\b/)
  })

  it('a date before the first scan gets a note that the state then is rebuilt from INTERNALDATEs; one after it gets none', () => {
    const before = run(['getAccountState', 'alice', 'date', '2026-03-04T00:00:00Z'])
    expect(before.code).toBe(0)
    const note =
      /^mailtime: note: date 04\/03\/2026 00:00:00 \+00:00 is before the first scan of alice \((\d\d)\/(\d\d)\/(\d{4}) (\d\d:\d\d:\d\d) \+00:00\): the state then is rebuilt from the messages that scan found, dated by their INTERNALDATE; what was deleted, moved or re-flagged before it is unknown\n$/.exec(
        before.stderr,
      )
    expect(note).not.toBeNull()
    // The first scan named is the one that ran then (shown to the second).
    const [, dd, mm, yyyy, hms] = note ?? []
    const first = Date.parse(`${yyyy}-${mm}-${dd}T${hms}Z`)
    expect(first).toBeGreaterThanOrEqual(Math.floor(scan1.from / 1000) * 1000)
    expect(first).toBeLessThanOrEqual(scan1.to)
    expect(run(['--json', 'getItem', 'alice', String(digest), 'date', '2026-03-04T00:00:00Z']).stderr).toContain('before the first scan of alice')
    expect(run(['diff', 'alice', '2026-03-04T00:00:00Z', 'last']).stderr).toContain('date1 04/03/2026 00:00:00 +00:00 is before the first scan')
    expect(run(['getAccountState', 'alice', 'date', BETWEEN]).stderr).toBe('')
    expect(run(['getAccountState', 'alice', 'date', '2026-03-04T00:00:00Z', '--quiet']).stderr).toBe('')
  })

  it('the export states list the same folders, and the export verifies', () => {
    const dest = path.join(dir, 'export')
    const r = run(['--json', 'exportHistory', 'alice', 'at', BETWEEN, 'dest', dest])
    expect(r.code).toBe(0)
    const state = (label: string) => JSON.parse(fs.readFileSync(path.join(dest, 'states', `${label}.json`), 'utf8'))
    expect(state('to').folders.map((f: { path: string }) => f.path)).toEqual(['/Archive', '/Inbox', '/Trash'])
    const between =
      fs
        .readdirSync(path.join(dest, 'states'))
        .find((f) => f.startsWith('at-'))
        ?.replace(/\.json$/, '') ?? ''
    expect(state(between).folders.map((f: { path: string }) => f.path)).toEqual(['/Inbox', '/Lists', '/Trash'])
    expect(run(['verifyExport', dest]).code).toBe(0)
  })

  it('a folder a later scan found is dated before the first message dated in it: an export up to then names it, in its state and its MBOX', () => {
    const dest = path.join(dir, 'export-early')
    const r = run(['--json', 'exportHistory', 'alice', 'to', AFTER_REPORT, 'dest', dest])
    expect(r.code).toBe(0)
    const state = JSON.parse(fs.readFileSync(path.join(dest, 'states', 'to.json'), 'utf8'))
    expect(state.items.map((i: { subject: string; folder: string }) => [i.subject, i.folder])).toEqual([
      ['Hello', '/Inbox'],
      ['Digest', '/Lists'],
      ['Report', '/Archive'],
    ])
    expect(fs.readdirSync(path.join(dest, 'mbox')).sort()).toEqual(['Archive.mbox', 'Inbox.mbox', 'Lists.mbox'])
    expect(fs.readFileSync(path.join(dest, 'mbox', 'Archive.mbox'), 'utf8')).toContain('Subject: Report')
    expect(run(['verifyExport', dest]).code).toBe(0)
  })
})
