/**
 * Contacts, appointments and tasks restored through the built CLI's restore verbs, against a real
 * Dovecot and a real Radicale: doItemRestore of one contact, doUndelete of deleted events, a task, a
 * calendar and a message together (each to its own server), doRestoreOnNewAccount into a new
 * account's home, doExternalRestore into another DAV server (dav_target); objects come back byte
 * for byte with their UID, an object already there is Skipped and never overwritten, and dry runs
 * name every request and write nothing. Changes are made with imapflow and plain HTTP requests.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { type Radicale, radicaleAvailable, startRadicale } from '../support/radicale'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import * as S from './samples'

const VCARD = 'text/vcard; charset=utf-8'
const ICS = 'text/calendar; charset=utf-8'
const message = (subject: string) =>
  Buffer.from(`From: bob@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\nhello\r\n`)

describeWithService(dovecotAvailable() && radicaleAvailable(), 'Dovecot and Radicale')('restore of contacts, appointments and tasks through the CLI', () => {
  let d: Dovecot
  let rad: Radicale
  let dir: string
  let store: string
  const original = new Map<string, Buffer>()
  const imapEnv = () => ({ MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: d.admin.user, MAILTIME_IMAP_PASSWORD: d.admin.password })
  const davEnv = () => ({ MAILTIME_DAV_URL: rad.url, MAILTIME_DAV_USER: rad.admin.user, MAILTIME_DAV_PASSWORD: rad.admin.password })
  const run = (args: string[], env: Record<string, string> = { ...imapEnv(), ...davEnv() }) => mailtime(['--store', store, ...args], env)
  const json = (args: string[], env?: Record<string, string>) => {
    const r = run(['--json', ...args], env)
    return { ...r, doc: JSON.parse(r.stdout === '' ? 'null' : r.stdout) as Record<string, unknown> }
  }
  const scan = () => {
    const r = json(['doAccountScan', 'alice'])
    expect([r.code, r.stderr]).toEqual([0, ''])
    return r.doc.dav as { collections: { href: string; created: number; restored: number }[] }
  }
  const search = (type: string, needle: string) =>
    json(['doItemSearch', 'alice', 'type', type, 'search_filter', 'all', 'search_string', needle]).doc.items as { itemId: number; status: string; name: string }[]
  const inbox = async (user: string): Promise<string[]> => {
    const c = clientAs(d, user)
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    const subjects: string[] = []
    try {
      for await (const m of c.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '')
    } catch {
      // An empty mailbox has no 1:*.
    } finally {
      lock.release()
      await c.logout()
    }
    return subjects.sort()
  }

  beforeAll(async () => {
    d = await startDovecot()
    rad = await startRadicale(tmpDir('mailtime-radicale-'))
    dir = tmpDir('mailtime-dav-restore-cli-')
    store = `sqlite:${path.join(dir, 'mailtime.db')}`
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.append('INBOX', message('Keep me'))
    await c.append('INBOX', message('Delete me'))
    await c.logout()
    await rad.makeAddressBook('alice', 'contacts', 'Personal')
    await rad.makeCalendar('alice', 'work', 'Work')
    await rad.makeCalendar('alice', 'trip', 'Trip 2026 ✈')
    await rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Lee'), VCARD)
    await rad.put('/alice/contacts/zoe.vcf', S.contactWithPhoto(), VCARD)
    await rad.put('/alice/work/weekly.ics', S.recurringWithExceptions(), ICS)
    await rad.put('/alice/work/passport.ics', S.task(), ICS)
    await rad.put('/alice/trip/flight.ics', S.simpleEvent('flight', 'Flight to Tokyo'), ICS)
    for (const p of ['/alice/contacts/ann.vcf', '/alice/contacts/zoe.vcf', '/alice/work/weekly.ics', '/alice/work/passport.ics', '/alice/trip/flight.ics'])
      original.set(p, await rad.get(encodeURI(p)))
    scan()
  }, 60_000)
  afterAll(async () => {
    await rad?.stop()
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('doItemRestore puts a deleted contact back at its path, byte for byte; capture records it as restored; again, it is Skipped and the server’s object is untouched', async () => {
    await rad.remove('/alice/contacts/ann.vcf')
    scan()
    const [ann] = search('contact', 'Ann Lee')
    expect(ann?.status).toBe('deleted')
    const id = String(ann?.itemId)
    const dry = run(['doItemRestore', 'alice', id, 'dry_run', 'true'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('MKCOL /alice/contacts/ if missing (address book "Personal")')
    expect(dry.stdout).toMatch(new RegExp(`PUT /alice/contacts/ann\\.vcf If-None-Match: \\* \\(contact ${id} "Ann Lee", \\d+ bytes\\)`))
    expect((await rad.http('GET', '/alice/contacts/ann.vcf')).status).toBe(404)
    // A contact needs a DAV server: without one, a usage error that says so.
    const noDav = run(['doItemRestore', 'alice', id], imapEnv())
    expect(noDav.code).toBe(2)
    expect(noDav.stderr).toMatch(/go to a CardDAV\/CalDAV server: set MAILTIME_DAV_URL/)
    expect(run(['doItemRestore', 'alice', id, 'restore_folder', 'Restored']).code).toBe(2)

    const r = json(['doItemRestore', 'alice', id])
    expect([r.code, r.doc.restored, r.doc.skipped, r.doc.target]).toEqual([0, 1, 0, `dav:${rad.url} as admin`])
    expect((await rad.get('/alice/contacts/ann.vcf')).equals(original.get('/alice/contacts/ann.vcf') as Buffer)).toBe(true)
    expect(scan().collections.find((c) => c.href === '/alice/contacts/')).toMatchObject({ created: 0, restored: 1 })

    await rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Edited Since'), VCARD)
    const again = run(['doItemRestore', 'alice', id])
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/Restored Items: 0\nSkipped Items: {2}1/)
    expect((await rad.get('/alice/contacts/ann.vcf')).toString()).toContain('FN:Ann Edited Since')
  })

  it('doUndelete brings back deleted events, a task, a deleted calendar and a deleted message, each to its own server', async () => {
    const from = new Date().toISOString()
    await rad.remove('/alice/work/weekly.ics')
    await rad.remove('/alice/work/passport.ics')
    await rad.remove('/alice/trip/')
    const c = clientAs(d, 'alice')
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    const uids: number[] = []
    for await (const m of c.fetch('1:*', { uid: true, envelope: true })) if (m.envelope?.subject === 'Delete me') uids.push(m.uid)
    await c.messageDelete(uids.join(','), { uid: true })
    lock.release()
    await c.logout()
    scan()
    const dry = run(['doUndelete', 'alice', from, 'last', 'dry_run', 'true'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('MKCALENDAR /alice/trip/ if missing (calendar "Trip 2026 ✈")')
    expect(dry.stdout).toContain('PUT /alice/work/weekly.ics If-None-Match: *')
    expect(dry.stdout).toMatch(/undelete plan for alice: 1 item\(s\)/)
    expect((await rad.http('PROPFIND', '/alice/trip/', { headers: { Depth: '0' } })).status).toBe(404)

    const r = json(['doUndelete', 'alice', from, 'last'])
    expect([r.code, r.doc.restored, r.doc.skipped, r.doc.unrestored]).toEqual([0, 5, 0, []])
    expect(r.doc.target).toBe(`${d.url.replace(/\/$/, '')} as admin + dav:${rad.url} as admin`.replace(/^imap:\/\//, 'imap://'))
    for (const p of ['/alice/work/weekly.ics', '/alice/work/passport.ics', '/alice/trip/flight.ics'])
      expect([p, (await rad.get(encodeURI(p))).equals(original.get(p) as Buffer)]).toEqual([p, true])
    expect(await inbox('alice')).toEqual(['Delete me', 'Keep me'])
    // Capture finds them as restored, not as new.
    const after = scan()
    expect(after.collections.map((x) => [x.href, x.created, x.restored])).toEqual([
      ['/alice/contacts/', 0, 0],
      ['/alice/trip/', 0, 1],
      ['/alice/work/', 0, 2],
    ])
  })

  it('doRestoreOnNewAccount recreates the address books and calendars under the new account’s home, and its mail', async () => {
    d.addUser('alice.new', 'newpw')
    const dry = run(['doRestoreOnNewAccount', 'alice', 'alice.new', 'last', 'dry_run', 'true'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toContain('MKCOL /alice.new/contacts/ if missing (address book "Personal")')
    expect((await rad.http('PROPFIND', '/alice.new/', { headers: { Depth: '0' } })).status).toBe(404)
    const r = json(['doRestoreOnNewAccount', 'alice', 'alice.new', 'last'])
    expect([r.code, r.doc.unrestored]).toEqual([0, []])
    // Two messages, five objects, and the three collections (the whole tree is recreated, each folder an item).
    expect(r.doc.restored).toBe(2 + 5 + 3)
    expect((r.doc.foldersRecreated as { path: string }[]).map((f) => f.path).sort()).toEqual(['/Calendar/Trip 2026 ✈', '/Calendar/Work', '/Contacts/Personal'])
    for (const p of ['/alice/contacts/zoe.vcf', '/alice/work/weekly.ics', '/alice/work/passport.ics', '/alice/trip/flight.ics'])
      expect([p, (await rad.get(encodeURI(p.replace('/alice/', '/alice.new/')))).equals(original.get(p) as Buffer)]).toEqual([p, true])
    const trip = await rad.http('PROPFIND', '/alice.new/trip/', { headers: { Depth: '0' } })
    expect(trip.text).toContain('Trip 2026 ✈')
    expect(await inbox('alice.new')).toEqual(['Delete me', 'Keep me'])
  })

  it('doExternalRestore recreates them on another DAV server (dav_target), mail into a Maildir, and a re-run skips everything', async () => {
    const other = await startRadicale(tmpDir('mailtime-radicale-2-'))
    try {
      const copy = tmpDir('mailtime-dav-ext-')
      fs.copyFileSync(store.slice('sqlite:'.length), path.join(copy, 'mailtime.db'))
      fs.cpSync(path.join(dir, 'blobs'), path.join(copy, 'blobs'), { recursive: true })
      const maildir = path.join(tmpDir('mailtime-dav-ext-md-'), 'out')
      const args = ['doExternalRestore', copy, 'accounts', 'alice', 'target', `maildir:${maildir}`, 'dav_target', other.url]
      const dry = run([...args, 'dry_run', 'true'])
      expect(dry.code).toBe(0)
      expect(dry.stdout).toContain('MKCALENDAR /alice/trip/ if missing (calendar "Trip 2026 ✈")')
      const r = json(args)
      expect([r.code, r.doc.unrestored]).toEqual([0, []])
      expect(r.doc.target).toBe(`maildir:${maildir} + dav:${other.url} as admin`)
      for (const p of ['/alice/contacts/zoe.vcf', '/alice/work/weekly.ics', '/alice/trip/flight.ics'])
        expect([p, (await other.get(encodeURI(p))).equals(original.get(p) as Buffer)]).toEqual([p, true])
      const again = json(args)
      expect([again.code, again.doc.restored]).toEqual([0, 0])
    } finally {
      await other.stop()
    }
  })
})
