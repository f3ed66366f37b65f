/**
 * Mail, address books and calendars captured together through the built CLI: `doAccountScan` and
 * `doSmartScan` (once and in watch mode) against a real Dovecot and a real Radicale, into one
 * account stream; what getItem, getAccountState, doItemSearch and diff show of contacts, events and
 * tasks; and a DAV server that fails makes the run fail with the server named, never exit 0.
 * Changes are made with imapflow and plain HTTP requests, never with our own code.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process'
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import { BIN, mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, freePort, removeDovecot, startDovecot } from '../support/dovecot'
import { type Radicale, radicaleAvailable, startRadicale } from '../support/radicale'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import * as S from './samples'

const VCARD = 'text/vcard; charset=utf-8'
const ICS = 'text/calendar; charset=utf-8'

const message = (subject: string) =>
  Buffer.from(`From: bob@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nhello\r\n`)

describeWithService(dovecotAvailable() && radicaleAvailable(), 'Dovecot and Radicale')('capture of mail, address books and calendars through the CLI', () => {
  let d: Dovecot
  let rad: Radicale
  let store: string
  const imapEnv = () => ({ MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: d.admin.user, MAILTIME_IMAP_PASSWORD: d.admin.password })
  const davEnv = () => ({ MAILTIME_DAV_URL: rad.url, MAILTIME_DAV_USER: rad.admin.user, MAILTIME_DAV_PASSWORD: rad.admin.password })
  const run = (args: string[], env: Record<string, string> = { ...imapEnv(), ...davEnv() }) => mailtime(['--store', store, ...args], env)
  const json = (args: string[], env?: Record<string, string>) => {
    const r = run(['--json', ...args], env)
    return { ...r, doc: JSON.parse(r.stdout === '' ? 'null' : r.stdout) as Record<string, unknown> }
  }

  const search = (type: string, needle: string) => json(['doItemSearch', 'alice', 'type', type, 'search_filter', 'all', 'search_string', needle]).doc.items as { itemId: number }[]

  beforeAll(async () => {
    d = await startDovecot()
    rad = await startRadicale(tmpDir('mailtime-radicale-'))
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.append('INBOX', message('Quarterly report'))
    await c.logout()
    await rad.makeAddressBook('alice', 'contacts', 'Personal')
    await rad.makeCalendar('alice', 'work', 'Work')
    await rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Lee'), VCARD)
    await rad.put('/alice/contacts/zoe.vcf', S.contactWithPhoto(), VCARD)
    await rad.put('/alice/work/weekly.ics', S.recurringWithExceptions(), ICS)
    await rad.put('/alice/work/passport.ics', S.task(), ICS)
    store = `sqlite:${path.join(tmpDir('mailtime-dav-cli-'), 'm.db')}`
  }, 60_000)
  afterAll(async () => {
    await rad?.stop()
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('doAccountScan records the mail and the address books and calendars of the account in one stream', () => {
    const r = json(['doAccountScan', 'alice'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect((r.doc.folders as { serverPath: string; messages: number }[]).find((f) => f.serverPath === 'INBOX')?.messages).toBe(1)
    const dav = r.doc.dav as { collections: { href: string; created: number }[]; failed: unknown[] }
    expect(dav.collections.map((c) => [c.href, c.created])).toEqual([
      ['/alice/contacts/', 2],
      ['/alice/work/', 2],
    ])
    expect(dav.failed).toEqual([])
    const state = json(['getAccountState', 'alice'])
    const items = (state.doc.items as { itemType: string; folderPath: string; subject?: string; name?: string }[]).filter((i) => i.itemType !== 'folder')
    expect(items.map((i) => [i.itemType, i.folderPath, i.subject ?? i.name]).sort()).toEqual([
      ['appointment', '/Calendar/Work', 'Weekly sync ☕ Ünïcødé'],
      ['contact', '/Contacts/Personal', 'Ann Lee'],
      ['contact', '/Contacts/Personal', 'Zoë Ünal-Şahin'],
      ['message', '/Inbox', 'Quarterly report'],
      ['task', '/Calendar/Work', 'Rinnovare il passaporto'],
    ])
    // The text an admin reads names the collections.
    const text = run(['doAccountScan', 'alice'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/alice \(CardDAV\/CalDAV\): 0 events recorded, 0 objects read/)
  })

  it('shows a contact’s versions with what changed field by field, and finds contacts, appointments and tasks by their fields', () => {
    const ann = json(['doItemSearch', 'alice', 'type', 'contact', 'search_filter', 'all', 'search_string', 'ann@example.com']).doc.items as { itemId: number }[]
    expect(ann).toHaveLength(1)
    const id = String(ann[0]?.itemId)
    return rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Rossi', 'ann@rossi.example'), VCARD).then(() => {
      expect(run(['doAccountScan', 'alice']).code).toBe(0)
      const all = run(['getItem', 'alice', id, 'date', 'all'])
      expect(all.code).toBe(0)
      expect(all.stdout).toMatch(/what changed/)
      expect(all.stdout).toContain('name Ann Lee → Ann Rossi; e-mail +ann@rossi.example −ann@example.com')
      const doc = json(['getItem', 'alice', id, 'date', 'all']).doc as { versions: { changes: string[]; state: { uid: string; davFields: { emails: string[] } } }[] }
      expect(doc.versions.map((v) => v.state.davFields.emails)).toEqual([['ann@example.com'], ['ann@rossi.example']])
      expect(doc.versions[0]?.state.uid).toBe('ann')
      const one = run(['getItem', 'alice', id])
      expect(one.stdout).toMatch(/dav path +\/alice\/contacts\/ann\.vcf/)
      expect(one.stdout).toMatch(/e-mail +ann@rossi\.example/)
      // Search by organizer, by attendee, and by type.
      const byOrganizer = json(['doItemSearch', 'alice', 'type', 'appointment', 'search_filter', 'all', 'search_string', 'bob@example.com']).doc.items as { name: string }[]
      expect(byOrganizer.map((i) => i.name)).toEqual(['Weekly sync ☕ Ünïcødé'])
      const tasks = json(['doItemSearch', 'alice', 'type', 'task', 'search_filter', 'all']).doc.items as { name: string }[]
      expect(tasks.map((i) => i.name)).toEqual(['Rinnovare il passaporto'])
      expect(run(['doItemSearch', 'alice', 'type', 'contact', 'search_filter', 'all', 'search_string', 'nobody@nowhere']).stdout).toBe('no contact matches\n')
    })
  })

  it('exportHistory writes the real .vcf and .ics of every version, byte for byte', async () => {
    const dest = path.join(tmpDir('mailtime-dav-export-'), 'out')
    const r = run(['exportHistory', 'alice', 'dest', dest])
    expect(r.code).toBe(0)
    const [ann] = search('contact', 'Ann Rossi')
    const versions = (json(['getItem', 'alice', String(ann?.itemId), 'date', 'all']).doc as { versions: { state: { digest: string } }[] }).versions
    expect(versions).toHaveLength(2)
    for (const v of versions) {
      const file = path.join(dest, 'contacts', `${v.state.digest}.vcf`)
      expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(v.state.digest)
    }
    // The last version is the bytes the server serves now.
    expect(fs.readFileSync(path.join(dest, 'contacts', `${versions[1]?.state.digest}.vcf`)).equals(await rad.get('/alice/contacts/ann.vcf'))).toBe(true)
    const ics = fs.readdirSync(path.join(dest, 'calendar')).map((f) => fs.readFileSync(path.join(dest, 'calendar', f), 'utf8'))
    expect(ics.filter((t) => t.includes('BEGIN:VTODO') || t.includes('BEGIN:VEVENT')).length).toBe(2)
    expect(fs.readdirSync(path.join(dest, 'calendar')).every((f) => f.endsWith('.ics'))).toBe(true)
  })

  it('diff shows contacts and events added and removed between two instants', async () => {
    const t1 = new Date().toISOString()
    await rad.remove('/alice/work/weekly.ics')
    await rad.put('/alice/contacts/max.vcf', S.simpleContact('max', 'Max Mustermann'), VCARD)
    expect(run(['doAccountScan', 'alice']).code).toBe(0)
    const r = json(['diff', 'alice', t1, 'last'])
    expect(r.code).toBe(0)
    expect((r.doc.added as { itemType: string; name: string }[]).map((i) => [i.itemType, i.name])).toEqual([['contact', 'Max Mustermann']])
    expect((r.doc.removed as { itemType: string; name: string }[]).map((i) => [i.itemType, i.name])).toEqual([['appointment', 'Weekly sync ☕ Ünïcødé']])
    // An edited contact is a change, field by field.
    const t2 = new Date().toISOString()
    await rad.put('/alice/contacts/max.vcf', S.simpleContact('max', 'Max Mustermann', 'max@neu.example'), VCARD)
    expect(run(['doAccountScan', 'alice']).code).toBe(0)
    const c = json(['diff', 'alice', t2, 'last'])
    expect((c.doc.changed as { name: string; changes: string[] }[]).map((x) => [x.name, x.changes])).toEqual([['Max Mustermann', ['e-mail +max@neu.example −max@example.com']]])
    expect(run(['diff', 'alice', t2, 'last']).stdout).toMatch(
      /changed 1\n[\s\S]*changed:\n\d+ +contact +\/Contacts\/Personal +Max Mustermann +e-mail \+max@neu\.example −max@example\.com/,
    )
    const deleted = json(['doItemSearch', 'alice', 'type', 'appointment']).doc.items as { name: string; status: string }[]
    expect(deleted.map((i) => [i.name, i.status])).toEqual([['Weekly sync ☕ Ünïcødé', 'deleted']])
  })

  it('fails with the DAV server named when it is down or refuses the login, and never exits 0', async () => {
    const down = `http://127.0.0.1:${await freePort()}`
    const r = run(['doAccountScan', 'alice'], { ...imapEnv(), ...davEnv(), MAILTIME_DAV_URL: down })
    expect(r.code).toBe(6)
    expect(r.stderr).toMatch(new RegExp(`DAV capture of alice at ${down.replace(/\./g, '\\.')} as admin failed: alice: DAV server .* is unavailable`))
    const bad = run(['doAccountScan', 'alice'], { ...imapEnv(), ...davEnv(), MAILTIME_DAV_PASSWORD: 'wrong' })
    expect(bad.code).toBe(6)
    expect(bad.stderr).toMatch(/DAV login as admin at .* failed \(401\)/)
    // The only account was not scanned to the end (its mail was, its address books were not): 6.
    const smart = run(['doSmartScan'], { ...imapEnv(), ...davEnv(), MAILTIME_DAV_URL: down, MAILTIME_IMAP_ACCOUNTS: 'alice' })
    expect(smart.code).toBe(6)
    expect(smart.stdout).toMatch(/FAILED alice: DAV capture of alice at .* failed/)
  })

  it('exits 7 naming a home the server cannot list, and catches up once it can', () => {
    const file = path.join(rad.dir, 'collections', 'collection-root', 'alice', 'work', 'broken.ics')
    fs.writeFileSync(file, S.brokenFolding())
    try {
      const r = run(['doAccountScan', 'alice'])
      expect(r.code).toBe(7)
      expect(r.stdout).toMatch(/FAILED \/alice\/: DAV server .* refused PROPFIND \/alice\/: HTTP 500/)
      expect(r.stderr).toMatch(/DAV capture of alice could not read \/alice\//)
      // doSmartScan: its only account not scanned to the end is 6; with another account scanned, 7.
      const smart = run(['doSmartScan'], { ...imapEnv(), ...davEnv(), MAILTIME_IMAP_ACCOUNTS: 'alice' })
      expect(smart.code).toBe(6)
      const two = run(['doSmartScan'], { ...imapEnv(), ...davEnv(), MAILTIME_IMAP_ACCOUNTS: 'alice,bob' })
      expect(two.code).toBe(7)
      expect(two.stdout).toMatch(/FAILED alice: DAV capture of alice could not read \/alice\/: DAV server .* refused PROPFIND \/alice\/: HTTP 500/)
    } finally {
      fs.rmSync(file)
    }
    expect(run(['doAccountScan', 'alice']).code).toBe(0)
  })

  it('takes an account without a DAV home for one without address books or calendars, and a known home gone for a failure that keeps its collections', async () => {
    const bob = json(['doAccountScan', 'bob'])
    expect([bob.code, bob.stderr, (bob.doc.dav as { collections: unknown[]; failed: unknown[] }).collections, (bob.doc.dav as { failed: unknown[] }).failed]).toEqual([
      0,
      '',
      [],
      [],
    ])
    await rad.makeAddressBook('erin', 'book', 'Erin')
    d.addUser('erin', 'erinpw')
    expect(run(['doAccountScan', 'erin']).code).toBe(0)
    fs.renameSync(path.join(rad.dir, 'collections', 'collection-root', 'erin'), path.join(rad.dir, 'collections', 'erin-moved'))
    try {
      const gone = run(['doAccountScan', 'erin'])
      expect(gone.code).toBe(7)
      expect(gone.stdout).toMatch(/FAILED \/erin\/: DAV server .* refused PROPFIND \/erin\/: HTTP 404/)
      expect((json(['getAccountState', 'erin']).doc.folders as { path: string }[]).map((f) => f.path)).toContain('/Contacts/Erin')
    } finally {
      fs.renameSync(path.join(rad.dir, 'collections', 'erin-moved'), path.join(rad.dir, 'collections', 'collection-root', 'erin'))
    }
  })

  it('captures address books and calendars alone when no IMAP server is configured', async () => {
    await rad.makeAddressBook('dora', 'book', 'Dora')
    await rad.put('/dora/book/x.vcf', S.simpleContact('x', 'Xavier'), VCARD)
    const r = json(['doAccountScan', 'dora'], davEnv())
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect((r.doc.dav as { eventsAppended: number }).eventsAppended).toBeGreaterThan(0)
    expect(r.doc.folders).toBeUndefined()
    const none = run(['doAccountScan', 'dora'], {})
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no IMAP server configured.*or MAILTIME_DAV_URL for address books and calendars only/)
  })

  it('doSmartScan watch true keeps capturing contacts and events as they change, and stops cleanly', async () => {
    const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', ...imapEnv(), ...davEnv(), MAILTIME_IMAP_ACCOUNTS: 'alice' }
    await rad.put('/alice/contacts/early.vcf', S.simpleContact('early', 'Early Bird'), VCARD)
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [BIN, '--store', store, 'doSmartScan', 'start', 'watch', 'true', 'interval', '1'], { env })
    let err = ''
    const waitFor = (re: RegExp, from: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => (re.test(err.slice(from)) ? resolve() : child.exitCode !== null ? reject(new Error(`exited: ${err}`)) : undefined)
        child.stderr.on('data', (b: Buffer) => ((err += b.toString()), check()))
        child.on('exit', check)
        check()
      })
    try {
      // A change made before the watch starts is recorded by its first round; one made after that
      // round, by a later one (polled every interval).
      await waitFor(/alice: \d+ events \(CardDAV\/CalDAV\)/, 0)
      const mark = err.length
      await rad.put('/alice/contacts/watch.vcf', S.simpleContact('watch', 'Wanda Watch'), VCARD)
      await waitFor(/alice: \d+ events \(CardDAV\/CalDAV\)/, mark)
      child.kill('SIGTERM')
      const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c))))
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    const found = json(['doItemSearch', 'alice', 'type', 'contact', 'search_filter', 'all', 'search_string', 'Wanda']).doc.items as unknown[]
    expect(found).toHaveLength(1)
  }, 60_000)
})
