/**
 * Network faults: Dovecot stops (and drops its open connections) in the middle of a scan and in the
 * middle of a restore, then starts again. The CLI talks to Dovecot through a relay (relay.ts) that
 * holds the server's bytes at a known point, so the outage lands there however loaded the machine. Capture and restore say so clearly, exit with code 6 (docs/cli.md), and the same command
 * then completes to the outcome of a clean run. (An SMTP server that is down during a restore is in
 * test/restore/imap.e2e.test.ts: the restore succeeds and the operation records the failed
 * notification.)
 */
import * as path from 'path'
import { ImapFlow } from 'imapflow'
import { mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { fillAccount, imapEnv, mailboxOf } from './harness'
import { type Relay, startRelay } from './relay'

jest.setTimeout(240_000)

describeWithService(dovecotAvailable(), 'Dovecot')('the IMAP server stops and starts again', () => {
  let d: Dovecot
  const store = () => ['--store', `sqlite:${path.join(tmpDir(), 'm.db')}`, '--tz', 'UTC']
  const state = (s: string[]) => JSON.parse(mailtime([...s, '--json', 'getAccountState', 'erin']).stdout) as { items: unknown[] }

  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw' })
    await fillAccount(d, 'erin', 400)
  })

  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  /**
   * Runs the command through a relay, waits until the relay holds the server's bytes (the command
   * is then stuck in the middle of an IMAP command), stops Dovecot, waits for the command's end, and
   * starts Dovecot again. The child is killed and Dovecot started again whatever happens.
   */
  const withOutage = async (args: string[], env: (url: string) => Record<string, string>, holdWhen: (relay: Relay) => Promise<void>, holdAtFirstBody = false) => {
    const relay = await startRelay(d.port, { holdAtFirstBody })
    const child = mailtimeAsync(args, env(relay.url))
    let stopped = false
    try {
      await Promise.race([
        holdWhen(relay),
        child.done.then((r) => {
          throw new Error(`the command ended (exit ${r.code}) before the outage: ${r.stderr}`)
        }),
      ])
      stopped = true
      await d.stop(true)
      return { ...(await child.done), port: relay.port }
    } finally {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL')
      await relay.close()
      if (stopped) await d.start()
    }
  }

  // The server goes away while it sends the first message body of the scan's fetch.
  it('a scan cut off by the server exits 6 naming the server, and the next scan completes it', async () => {
    const clean = store()
    expect(mailtime([...clean, 'doAccountScan', 'erin'], imapEnv(d)).code).toBe(0)
    const s = store()
    const cut = await withOutage(
      [...s, 'doAccountScan', 'erin'],
      (url) => imapEnv(d, { MAILTIME_IMAP_URL: url }),
      (relay) => relay.holding,
      true,
    )
    expect(cut.code).toBe(6)
    expect(cut.stderr).toMatch(/imap:\/\/127\.0\.0\.1:\d+/)
    expect(cut.stderr).not.toMatch(/at .*\.js:\d+/) // a message, not a stack trace
    const again = mailtime([...s, 'doAccountScan', 'erin'], imapEnv(d))
    expect([again.code, again.stderr]).toEqual([0, ''])
    expect(state(s)).toEqual(state(clean))
  })

  it('a restore cut off by the server exits 6, records what it wrote, and the same command resumes it without duplicates', async () => {
    const s = store()
    expect(mailtime([...s, 'doAccountScan', 'erin'], imapEnv(d)).code).toBe(0)
    d.addUser('clean', 'pw')
    d.addUser('cut', 'pw')
    expect(mailtime([...s, 'doRestoreOnNewAccount', 'erin', 'clean', 'last'], imapEnv(d)).code).toBe(0)
    const env = (url: string) => imapEnv(d, { MAILTIME_IMAP_URL: url, MAILTIME_RESTORE_BATCH_SIZE: '10', MAILTIME_FAULT: 'pause-after-append:400' })
    // Once the restore has recorded its first items, the relay holds the server's answers (the
    // restore then waits on its next APPEND), and the server stops.
    const restoredSoFar = () =>
      (JSON.parse(mailtime([...s, '--json', 'getAllOperations', 'state', 'running']).stdout) as { operations: { restored: number }[] }).operations.reduce(
        (n, o) => n + o.restored,
        0,
      )
    const cut = await withOutage([...s, '--json', 'doRestoreOnNewAccount', 'erin', 'cut', 'last'], env, async (relay) => {
      while (restoredSoFar() === 0) await new Promise((r) => setTimeout(r, 100))
      relay.hold()
    })
    expect(cut.code).toBe(6)
    const report = JSON.parse(cut.stdout) as { state: string; restored: number; error?: string }
    expect(report.state).toBe('failed')
    expect(report.restored).toBeGreaterThan(0)
    expect(report.restored).toBeLessThan(400)
    expect(report.error).toMatch(/127\.0\.0\.1|connection|closed|ECONNREFUSED|unavailable/i)
    // The same server as the operation recorded: through a relay on the same port, passing all.
    const relay = await startRelay(d.port, { port: cut.port })
    const again = await mailtimeAsync([...s, '--json', 'doRestoreOnNewAccount', 'erin', 'cut', 'last'], imapEnv(d, { MAILTIME_IMAP_URL: relay.url })).done.finally(() =>
      relay.close(),
    )
    expect(again.code).toBe(0)
    expect((JSON.parse(again.stdout) as { skipped: number }).skipped).toBeGreaterThanOrEqual(report.restored)
    expect(await mailboxOf(d, 'cut')).toEqual(await mailboxOf(d, 'clean'))
  })

  it('a restore whose connection drops while it is sending a message exits 6 with a message, never a crash', async () => {
    d.addUser('bigsrc', 'pw')
    d.addUser('bigcopy', 'pw')
    const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user: 'bigsrc', pass: 'pw' } })
    await c.connect()
    try {
      // Bodies of several MB: the restore is still writing the literal when the connection drops.
      for (const i of [1, 2, 3]) await c.append('INBOX', Buffer.from(`Subject: big ${i}\r\n\r\n${`${'y'.repeat(998)}\r\n`.repeat(4000)}`))
    } finally {
      await c.logout()
    }
    const s = store()
    expect(mailtime([...s, 'doAccountScan', 'bigsrc'], imapEnv(d)).code).toBe(0)
    const relay = await startRelay(d.port, { dropAtClientText: ' APPEND ' })
    const run = mailtimeAsync([...s, '--json', 'doRestoreOnNewAccount', 'bigsrc', 'bigcopy', 'last'], imapEnv(d, { MAILTIME_IMAP_URL: relay.url }))
    try {
      const cut = await run.done
      // The fault landed: the relay dropped the connection that sent the APPEND (it finds the command
      // however its bytes are cut into reads, relay.unit.test.ts).
      expect(relay.drops()).toBeGreaterThanOrEqual(1)
      // The report is part of what is compared, so that a run that ended otherwise says what it did.
      expect([cut.code, cut.stderr, cut.code === 6 ? '' : cut.stdout]).toEqual([6, expect.not.stringMatching(/at .*\.js:\d+|Unhandled|EPIPE.*\n\s+at /), ''])
      expect((JSON.parse(cut.stdout) as { state: string }).state).toBe('failed')
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL')
      await relay.close()
    }
    const again = mailtime([...s, '--json', 'doRestoreOnNewAccount', 'bigsrc', 'bigcopy', 'last'], imapEnv(d))
    expect(again.code).toBe(0)
    expect(await mailboxOf(d, 'bigcopy')).toEqual(await mailboxOf(d, 'bigsrc'))
  })
})
