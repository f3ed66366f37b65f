/**
 * A scanner process killed with SIGKILL at a random moment, then run again, ends with exactly the
 * account state of a clean scan: nothing lost, nothing recorded twice. A scan fetches first and
 * appends its batches at the end, so most kills land before any append (with bodies already in the
 * blob store); a crash between two batches is tested deterministically in imapScanner.int.test.ts.
 */
import { spawn } from 'child_process'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { BIN, mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

describeWithService(dovecotAvailable(), 'Dovecot')('scanner killed with SIGKILL', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw' })
    const c = clientAs(d, 'erin')
    await c.connect()
    for (const box of ['Work', 'Work.Old', 'Trash']) await c.mailboxCreate(box)
    const boxes = ['INBOX', 'Work', 'Work.Old', 'Trash']
    for (let i = 0; i < 240; i++)
      await c.append(
        boxes[i % 4] as string,
        Buffer.from(`Subject: m${i}\r\nMessage-ID: <m${i}@k>\r\n\r\n${'x'.repeat(500 + i)}\r\n`),
        i % 3 ? ['\\Seen'] : [],
        new Date(Date.UTC(2026, 1, 1, 0, i)),
      )
    await c.logout()
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  const env = () => ({
    PATH: process.env.PATH ?? '',
    TZ: 'UTC',
    MAILTIME_IMAP_URL: d.url,
    MAILTIME_IMAP_USER: 'admin',
    MAILTIME_IMAP_PASSWORD: 'adminpw',
    MAILTIME_SCAN_BATCH_SIZE: '20',
  })
  const view = (store: string) => mailtime(['--store', store, '--json', 'getAccountState', 'erin'], {}).stdout
  const events = (store: string) => {
    const r = mailtime(['--store', store, '--json', 'getAccountInfo', 'erin'], {})
    if (r.code !== 0) throw new Error(`getAccountInfo exited ${r.code}: ${r.stdout}${r.stderr}`)
    return JSON.parse(r.stdout).events
  }

  it('resumes to the state of a clean scan, whenever it was killed', async () => {
    const clean = `sqlite:${path.join(tmpDir(), 'clean.db')}`
    expect(mailtime(['--store', clean, 'doAccountScan', 'erin'], env()).code).toBe(0)
    const expected = view(clean)
    expect(JSON.parse(expected).items).toHaveLength(240)
    let killedMidway = 0
    for (const delay of [150, 400, 700, 1000, 1400]) {
      const store = `sqlite:${path.join(tmpDir(), `k${delay}.db`)}`
      const child = spawn(process.execPath, [BIN, '--store', store, 'doAccountScan', 'erin'], { env: env() })
      const code = await new Promise<number | null>((resolve) => {
        const t = setTimeout(() => child.kill('SIGKILL'), delay)
        child.on('exit', (c) => {
          clearTimeout(t)
          resolve(c)
        })
      })
      if (code === null) killedMidway++
      const again = mailtime(['--store', store, 'doAccountScan', 'erin'], env())
      expect([delay, again.code, again.stderr]).toEqual([delay, 0, ''])
      expect(view(store)).toBe(expected)
      expect(events(store)).toBe(events(clean))
    }
    expect(killedMidway).toBeGreaterThan(0)
    // Six scans and five restarts of a child process: more than the default minute on a loaded machine.
  }, 240_000)
})
