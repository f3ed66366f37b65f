/**
 * The IMAP scanner against a real Dovecot on loopback: a master user scans on behalf of alice while
 * a real IMAP client delivers, moves, flags, deletes and expunges messages, and creates and renames
 * folders. The CLI is run as a user runs it; crash-resume is tested in-process.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { openBackend } from '../../src/wiring/backend'
import { connectAs } from '../../src/imap/connection'
import { scanAccount } from '../../src/capture/imap/scanner'
import { sha256 } from '../../src/blobs/blobStore'
import type { Instant } from '../../domain/instant'
import type { AccountId } from '../../domain/ids'

const msg = (subject: string, id: string, body = 'Hello') =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n${body}\r\n`,
  )

describeWithService(dovecotAvailable(), 'Dovecot')('IMAP scanner against Dovecot', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const scan = (account = 'alice') => {
    const r = mailtime([...store(), '--json', 'doAccountScan', account], env)
    if (r.code !== 0) throw new Error(`scan failed (${r.code}): ${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  const state = (date?: string) => JSON.parse(mailtime([...store(), '--json', 'getAccountState', 'alice', ...(date ? ['date', date] : [])], env).stdout)

  beforeAll(async () => {
    d = await startDovecot()
    dir = tmpDir()
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('records every folder and message on the first scan, bodies byte for byte', async () => {
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.mailboxCreate('Projects')
    await c.mailboxCreate('Trash')
    await c.mailboxCreate(['Projects', 'Alpha'])
    await c.append('INBOX', msg('Budget', 'm1'), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
    await c.append('INBOX', msg('Travel', 'm2'), [], new Date('2026-03-02T11:00:00Z'))
    await c.append('INBOX', msg('Lunch', 'm3'), ['$Work'], new Date('2026-03-02T12:00:00Z'))
    await c.append('Projects.Alpha', msg('Spec', 'm4'), ['\\Flagged'], new Date('2026-03-01T09:00:00Z'))
    await c.logout()

    const r = scan()
    expect(r.firstScan).toBe(true)
    const s = state()
    const byPath = Object.fromEntries(s.folders.map((f: { path: string; itemCount: number }) => [f.path, f.itemCount]))
    expect(byPath).toMatchObject({ '/Inbox': 3, '/Projects': 0, '/Projects/Alpha': 1, '/Trash': 0 })
    const budget = s.items.find((i: { subject: string }) => i.subject === 'Budget')
    expect(budget).toMatchObject({ folderPath: '/Inbox', flags: ['\\Seen'], tags: [], messageId: '<m1@example.org>', createdAt: '2026-03-02T10:00:00.000Z' })
    expect(s.items.find((i: { subject: string }) => i.subject === 'Lunch').tags).toEqual(['$Work'])
    expect(budget.digest).toBe(sha256(msg('Budget', 'm1')))
    // As of before the oldest message arrived, the account held nothing.
    expect(state('2026-03-01T08:00:00Z').items).toHaveLength(0)
    expect(
      state('2026-03-02T10:30:00Z')
        .items.map((i: { subject: string }) => i.subject)
        .sort(),
    ).toEqual(['Budget', 'Spec'])
  })

  it('records only the changes on the next scan: moves keep identity, flags, keywords, deletions, folders', async () => {
    const before = state()
    const id = (subject: string) => before.items.find((i: { subject: string }) => i.subject === subject).itemId
    const c = clientAs(d, 'alice')
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    const uids: Record<string, number> = {}
    for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uids[m.envelope?.subject ?? ''] = m.uid
    await c.messageMove(String(uids.Travel), 'Projects', { uid: true })
    await c.messageFlagsAdd(String(uids.Budget), ['\\Flagged', 'Invoice'], { uid: true })
    await c.messageDelete(String(uids.Lunch), { uid: true })
    lock.release()
    await c.append('INBOX', msg('New mail', 'm5'), [], new Date())
    await c.mailboxRename(['Projects', 'Alpha'], ['Projects', 'Alpha 2026'])
    await c.mailboxCreate('Archive')
    await c.logout()

    const r = scan()
    expect(r.firstScan).toBe(false)
    expect(r.foldersRenamed).toBe(1)
    expect(r.foldersCreated).toBe(1)
    const after = state()
    const item = (subject: string) => after.items.find((i: { subject: string }) => i.subject === subject)
    expect(item('Travel')).toMatchObject({ itemId: id('Travel'), folderPath: '/Projects' })
    expect(item('Budget')).toMatchObject({ itemId: id('Budget'), flags: ['\\Flagged', '\\Seen'], tags: ['Invoice'] })
    expect(item('Lunch')).toBeUndefined()
    expect(item('Spec')).toMatchObject({ itemId: id('Spec'), folderPath: '/Projects/Alpha 2026' })
    expect(item('New mail')).toBeDefined()
    expect(after.folders.map((f: { path: string }) => f.path)).toContain('/Archive')

    const hist = JSON.parse(mailtime([...store(), '--json', 'getItem', 'alice', String(id('Lunch')), 'date', 'all'], env).stdout)
    expect(hist.versions.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
    const deleted = JSON.parse(mailtime([...store(), '--json', 'doItemSearch', 'alice'], env).stdout)
    expect(deleted.items.map((i: { subject: string }) => i.subject)).toEqual(['Lunch'])
    // As of before this scan's window, the old state stands.
    expect(state('2026-03-02T13:00:00Z').items.find((i: { subject: string }) => i.subject === 'Travel').folderPath).toBe('/Inbox')
  })

  it('appends nothing when nothing changed, and survives a UIDVALIDITY change without duplicates', async () => {
    expect(scan().eventsAppended).toBe(0)
    const before = state()
    // Recreating a folder gives it a new UIDVALIDITY: its messages must be matched, not duplicated.
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.mailboxRename('Projects', 'Tmp')
    await c.mailboxCreate('Projects')
    await c.mailboxOpen('Tmp')
    await c.messageMove('1:*', 'Projects')
    await c.mailboxClose()
    await c.mailboxDelete('Tmp')
    await c.logout()
    scan()
    const after = state()
    expect(after.items.map((i: { itemId: number }) => i.itemId).sort()).toEqual(before.items.map((i: { itemId: number }) => i.itemId).sort())
    expect(after.items.find((i: { subject: string }) => i.subject === 'Travel').folderPath).toBe('/Projects')
  })

  it('logs in with per-user passwords from a config file when there is no admin', () => {
    const config = path.join(dir, 'config.json')
    require('fs').writeFileSync(config, JSON.stringify({ imap: { url: d.url, passwords: { bob: 'bobpw' } } }))
    const r = mailtime([...store(), '--config', config, '--json', 'doAccountScan', 'bob'], {})
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).firstScan).toBe(true)
    const none = mailtime([...store(), '--config', config, 'doAccountScan', 'alice'], {})
    expect(none.code).toBe(2)
    expect(none.stderr).toContain('no IMAP credentials for alice')
  })

  it('reports an unreachable server with exit code 6 and no stack trace', () => {
    const r = mailtime([...store(), 'doAccountScan', 'alice'], { ...env, MAILTIME_IMAP_URL: 'imap://127.0.0.1:1' })
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('unavailable')
    expect(r.stderr).not.toContain('adminpw')
  })

  it('reports a refused login with exit code 6, never printing the password', () => {
    const r = mailtime([...store(), 'doAccountScan', 'alice'], { ...env, MAILTIME_IMAP_PASSWORD: 'wrong-secret' })
    expect(r.code).toBe(6)
    expect(r.stderr).toContain('login')
    expect(r.stderr + r.stdout).not.toContain('wrong-secret')
  })

  it('a scan killed after its first batch resumes to the same state as a clean scan', async () => {
    const c = clientAs(d, 'bob')
    await c.connect()
    await c.mailboxCreate('Work')
    for (let i = 0; i < 25; i++) await c.append(i % 2 ? 'INBOX' : 'Work', msg(`Bob ${i}`, `b${i}`, `body ${i}`), i % 3 ? [] : ['\\Seen'], new Date(Date.UTC(2026, 2, 1, 8, i)))
    await c.logout()
    const src = { host: '127.0.0.1', port: d.port, secure: false, admin: { user: 'admin', password: 'adminpw' }, passwords: {}, accounts: [], description: d.url }
    const run = async (file: string, crashAfter?: number) => {
      const b = openBackend(`sqlite:${file}`, path.join(path.dirname(file), 'blobs'))
      if (E.isLeft(b)) throw new Error('open')
      let batches = 0
      const store = {
        ...b.right.store,
        appendToStream: (...a: Parameters<typeof b.right.store.appendToStream>) => {
          if (crashAfter !== undefined && batches++ >= crashAfter) return async () => E.left({ _tag: 'StoreFailure' as const, store: 'test', reason: 'simulated crash' })
          return b.right.store.appendToStream(...a)
        },
      }
      const client = await connectAs(src, 'bob')
      if (E.isLeft(client)) throw new Error('connect')
      const r = await scanAccount(client.right, 'bob' as AccountId, {
        store,
        index: b.right.index,
        blobs: b.right.blobs,
        now: () => Date.parse('2026-03-05T00:00:00Z') as Instant,
        batchSize: 10,
      })
      await client.right.logout()
      await b.right.close()
      return r
    }
    const clean = path.join(tmpDir(), 'clean.db')
    const crashed = path.join(tmpDir(), 'crashed.db')
    expect(E.isRight(await run(clean))).toBe(true)
    expect(E.isLeft(await run(crashed, 1))).toBe(true)
    const resumed = await run(crashed)
    expect(E.isRight(resumed)).toBe(true)
    const view = (file: string) => mailtime(['--store', `sqlite:${file}`, '--json', 'getAccountState', 'bob'], {}).stdout
    expect(JSON.parse(view(crashed)).items).toHaveLength(25)
    expect(view(crashed)).toBe(view(clean))
    const events = (file: string) => JSON.parse(mailtime(['--store', `sqlite:${file}`, '--json', 'getAccountInfo', 'bob'], {}).stdout).events
    expect(events(crashed)).toBe(events(clean))
  })
})
