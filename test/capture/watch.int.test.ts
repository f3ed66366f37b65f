/**
 * `doSmartScan watch true` against a real Dovecot: it keeps running, records a message delivered
 * while it runs (woken by IDLE or the interval), and stops cleanly on SIGTERM.
 */
import { spawn } from 'child_process'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { BIN, mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

describeWithService(dovecotAvailable(), 'Dovecot')('continuous capture (doSmartScan watch true)', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ carol: 'carolpw' })
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('captures new mail in near real time and stops cleanly on SIGTERM', async () => {
    const store = `sqlite:${path.join(tmpDir(), 'w.db')}`
    const env = { PATH: process.env.PATH ?? '', TZ: 'UTC', MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw', MAILTIME_IMAP_ACCOUNTS: 'carol' }
    const child = spawn(process.execPath, [BIN, '--store', store, 'doSmartScan', 'start', 'watch', 'true', 'interval', '30'], { env })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (out += b.toString()))
    const subjects = () => {
      const r = mailtime(['--store', store, '--json', 'getAccountState', 'carol'], {})
      return r.code === 0 ? (JSON.parse(r.stdout).items as { subject: string }[]).map((i) => i.subject) : []
    }
    const waitFor = async (f: () => boolean, ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) if (f()) return true
      return false
    }
    // The first round runs at once and records the (empty) account.
    expect(await waitFor(() => mailtime(['--store', store, 'getAccountInfo', 'carol'], {}).code === 0, 15_000)).toBe(true)
    const c = clientAs(d, 'carol')
    await c.connect()
    await c.append('INBOX', Buffer.from('Subject: Live one\r\nMessage-ID: <live@x>\r\n\r\nhi\r\n'))
    await c.logout()
    // Well before the 30 s interval: IDLE on INBOX wakes the scanner.
    expect(await waitFor(() => subjects().includes('Live one'), 15_000)).toBe(true)
    const code = await new Promise<number | null>((resolve) => {
      child.on('exit', (c) => resolve(c))
      child.kill('SIGTERM')
    })
    expect(code).toBe(0)
    expect(out).toContain('stopped after')
  })
})
