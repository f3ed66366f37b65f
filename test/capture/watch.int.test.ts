/**
 * `doSmartScan watch true` against a real Dovecot: it keeps running, records a message delivered
 * while it runs (woken by IMAP IDLE: the interval is an hour, so nothing else can wake it within the
 * test), and stops cleanly on SIGTERM. The test waits on what the process reports (each round that
 * recorded events prints a line on stderr), never on a wall-clock window, and the process is killed
 * in any case when the test ends.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { BIN, mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

/** The lines a child writes on stderr, and a way to wait for the next one that matches. */
const stderrLines = (child: ChildProcessWithoutNullStreams) => {
  const lines: string[] = []
  let partial = ''
  const waiters: (() => void)[] = []
  const wake = () => {
    for (const w of waiters.splice(0)) w()
  }
  child.stderr.on('data', (b: Buffer) => {
    const parts = (partial + b.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    wake()
  })
  child.on('exit', wake)
  return {
    lines,
    /** Resolves with the first line from index `from` on that matches; rejects if the process exits first. */
    next: async (re: RegExp, from: number): Promise<number> => {
      for (;;) {
        const i = lines.findIndex((l, j) => j >= from && re.test(l))
        if (i >= 0) return i
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the watch exited (${child.exitCode ?? child.signalCode}) before printing ${re}: ${lines.join('\n')}`)
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    },
  }
}

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
    const env = {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      MAILTIME_IMAP_URL: d.url,
      MAILTIME_IMAP_USER: 'admin',
      MAILTIME_IMAP_PASSWORD: 'adminpw',
      MAILTIME_IMAP_ACCOUNTS: 'carol',
    }
    const child = spawn(process.execPath, [BIN, '--store', store, 'doSmartScan', 'start', 'watch', 'true', 'interval', '3600'], { env })
    try {
      let out = ''
      child.stdout.on('data', (b: Buffer) => (out += b.toString()))
      const err = stderrLines(child)
      const subjects = () => {
        const r = mailtime(['--store', store, '--json', 'getAccountState', 'carol'], {})
        return r.code === 0 ? (JSON.parse(r.stdout).items as { subject: string }[]).map((i) => i.subject) : []
      }
      // The first round runs at once and records the (empty) account: its folders.
      const round = /^\S+Z carol: \d+ events$/
      let seen = (await err.next(round, 0)) + 1
      expect(mailtime(['--store', store, 'getAccountInfo', 'carol'], {}).code).toBe(0)
      const c = clientAs(d, 'carol')
      await c.connect()
      await c.append('INBOX', Buffer.from('Subject: Live one\r\nMessage-ID: <live@x>\r\n\r\nhi\r\n'))
      await c.logout()
      // Only IDLE can wake the scanner before the hour's interval: wait for rounds that recorded
      // something until one recorded the message.
      for (;;) {
        seen = (await err.next(round, seen)) + 1
        if (subjects().includes('Live one')) break
      }
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (c) => resolve(c))
        child.kill('SIGTERM')
      })
      expect(code).toBe(0)
      expect(out).toContain('stopped after')
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  })
})
