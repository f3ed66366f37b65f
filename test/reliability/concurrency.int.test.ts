/**
 * Concurrency against a real Dovecot and one SQLite store, each command a separate process:
 * - a restore writing into an account while capture scans it again and again: the restore's own
 *   messages are recorded as restored (by the operation), never as new mail, and never twice;
 * - two captures of the same account at once: no event is recorded twice or interleaved;
 * - several accounts captured in parallel.
 */
import * as path from 'path'
import { mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(240_000)

const msg = (subject: string, id: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: someone@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nHello ${id}\r\n`,
  )

interface Folder {
  serverPath: string
  messages: number
  created: number
  restored: number
}
interface Item {
  itemId: number
  itemType: string
  subject: string
}

describeWithService(dovecotAvailable(), 'Dovecot')('concurrency', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const json = (...args: string[]) => {
    const r = mailtime([...store(), '--json', ...args], env)
    if (r.code !== 0) throw new Error(`${args[0]} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as Record<string, unknown>
  }
  const messages = (account: string, date?: string) =>
    (json('getAccountState', account, ...(date === undefined ? [] : ['date', date])).items as Item[]).filter((i) => i.itemType === 'message')

  const deliver = async (user: string, n: number, prefix: string) => {
    const c = clientAs(d, user)
    await c.connect()
    for (let i = 0; i < n; i++) await c.append('INBOX', msg(`${prefix} ${i}`, `${user}-${prefix}-${i}`), [], new Date(Date.UTC(2026, 2, 2, 10, i)))
    await c.logout()
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw', carol: 'carolpw', dave: 'davepw' })
    dir = tmpDir()
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
  })

  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('a restore running while capture scans the account: its messages are recorded as restored, once, never as new mail', async () => {
    await deliver('alice', 40, 'Mail')
    json('doAccountScan', 'alice')
    const c = clientAs(d, 'alice')
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    await c.messageDelete('1:30')
    lock.release()
    await c.logout()
    json('doAccountScan', 'alice')
    expect(messages('alice')).toHaveLength(10)
    // An instant after that scan recorded the deletions and before the restore starts, on a whole
    // second (dates are given to the second). "A second before the restore started" was not one:
    // with the CLI starting in a quarter of a second, the scan's records fell inside that second.
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const beforeRestore = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()

    // Slow batches of three, so that scans land in the middle of the restore.
    const restore = mailtimeAsync([...store(), '--json', 'doUndelete', 'alice', 'first', 'last'], {
      ...env,
      MAILTIME_RESTORE_BATCH_SIZE: '3',
      MAILTIME_FAULT: 'pause-after-append:250',
    })
    let running = true
    void restore.done.then(() => (running = false))
    const scans: Folder[][] = []
    let duringRestore = 0
    while (running) {
      // Asynchronous, so that the restore's end is noticed between scans.
      const r = await mailtimeAsync([...store(), '--json', 'doAccountScan', 'alice'], env).done
      // A scan and the restore's own records may race for the store: a conflict is retried by the next scan.
      expect([0, 5]).toContain(r.code)
      if (r.code === 0) {
        scans.push((JSON.parse(r.stdout) as { folders: Folder[] }).folders)
        if (running) duringRestore++
      }
    }
    const done = await restore.done
    expect(done.code).toBe(0)
    const report = JSON.parse(done.stdout) as { restored: number; operationId: string }
    expect(report.restored).toBe(30)
    scans.push(json('doAccountScan', 'alice').folders as Folder[])
    expect(duringRestore).toBeGreaterThan(0)

    const inbox = scans.map((f) => f.find((x) => x.serverPath === 'INBOX'))
    expect(inbox.reduce((n, f) => n + (f?.created ?? 0), 0)).toBe(0)
    expect(inbox.reduce((n, f) => n + (f?.restored ?? 0), 0)).toBe(30)
    const now = messages('alice')
    expect(now).toHaveLength(40)
    // Every deleted message is back exactly once.
    expect(new Set(now.map((m) => m.subject)).size).toBe(40)
    // The copies exist since the restore, not since their original date.
    expect(Date.parse((json('monitor', report.operationId) as { startedAt: string }).startedAt)).toBeGreaterThan(Date.parse(beforeRestore))
    expect(messages('alice', beforeRestore)).toHaveLength(10)
  })

  it('two captures of the same account at once record each message once, with no interleaving', async () => {
    await deliver('bob', 60, 'Bulk')
    const runs = [0, 1].map(() => mailtimeAsync([...store(), '--json', 'doAccountScan', 'bob'], { ...env, MAILTIME_SCAN_BATCH_SIZE: '7' }))
    const codes = (await Promise.all(runs.map((r) => r.done))).map((r) => r.code)
    // One may lose the race for a batch (exit 5, documented); running again completes the account.
    for (const code of codes) expect([0, 5]).toContain(code)
    json('doAccountScan', 'bob')
    const items = messages('bob')
    expect(items).toHaveLength(60)
    expect(new Set(items.map((m) => m.subject)).size).toBe(60)
    // A third scan finds nothing to record.
    expect(json('doAccountScan', 'bob').eventsAppended).toBe(0)
  })

  it('captures several accounts in parallel', async () => {
    await deliver('carol', 25, 'C')
    await deliver('dave', 35, 'D')
    const runs = ['carol', 'dave'].map((a) => mailtimeAsync([...store(), '--json', 'doAccountScan', a], env))
    const results = await Promise.all(runs.map((r) => r.done))
    expect(results.map((r) => r.code)).toEqual([0, 0])
    expect(messages('carol')).toHaveLength(25)
    expect(messages('dave')).toHaveLength(35)
  })
})
