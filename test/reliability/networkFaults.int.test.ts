/**
 * Network faults: Dovecot stops (and drops its open connections) in the middle of a scan and in the
 * middle of a restore, then starts again. Capture and restore say so clearly, exit with code 6 (docs/cli.md), and the same command
 * then completes to the outcome of a clean run. (An SMTP server that is down during a restore is in
 * test/restore/imap.e2e.test.ts: the restore succeeds and the operation records the failed
 * notification.)
 */
import * as path from 'path'
import { mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { fillAccount, imapEnv, mailboxOf } from './harness'

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

  /** Runs the command, stops Dovecot once `ready` says so, waits for the command's end, starts Dovecot again. */
  const withOutage = async (args: string[], env: Record<string, string>, ready: () => boolean) => {
    const child = mailtimeAsync(args, env)
    while (!ready()) await new Promise((r) => setTimeout(r, 100))
    await d.stop(true)
    const r = await child.done
    await d.start()
    return r
  }

  // Each folder read is followed by a pause (6 s in all), so that the outage at 0.5 s lands before
  // the scan read every folder however fast the CLI starts. (Slowing the batches instead let the
  // outage land after the reading, when the scan no longer needs the server and rightly succeeds.)
  // test/capture/scanOutage.int.test.ts cuts a scan at a chosen folder and compares event for event.
  it('a scan cut off by the server exits 6 naming the server, and the next scan completes it', async () => {
    const clean = store()
    expect(mailtime([...clean, 'doAccountScan', 'erin'], imapEnv(d)).code).toBe(0)
    const s = store()
    const t0 = Date.now()
    const cut = await withOutage([...s, 'doAccountScan', 'erin'], imapEnv(d, { MAILTIME_SCAN_BATCH_SIZE: '20', MAILTIME_FAULT: 'pause-after-folder:1500' }), () => Date.now() - t0 > 500)
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
    const env = imapEnv(d, { MAILTIME_RESTORE_BATCH_SIZE: '10', MAILTIME_FAULT: 'pause-after-append:400' })
    // The server stops once the restore has recorded its first items.
    const restoredSoFar = () => (JSON.parse(mailtime([...s, '--json', 'getAllOperations', 'state', 'running']).stdout) as { operations: { restored: number }[] }).operations.reduce((n, o) => n + o.restored, 0)
    const cut = await withOutage([...s, '--json', 'doRestoreOnNewAccount', 'erin', 'cut', 'last'], env, () => restoredSoFar() > 0)
    expect(cut.code).toBe(6)
    const report = JSON.parse(cut.stdout) as { state: string; restored: number; error?: string }
    expect(report.state).toBe('failed')
    expect(report.restored).toBeGreaterThan(0)
    expect(report.restored).toBeLessThan(400)
    expect(report.error).toMatch(/127\.0\.0\.1|connection|closed|ECONNREFUSED|unavailable/i)
    const again = mailtime([...s, '--json', 'doRestoreOnNewAccount', 'erin', 'cut', 'last'], imapEnv(d))
    expect(again.code).toBe(0)
    expect((JSON.parse(again.stdout) as { skipped: number }).skipped).toBeGreaterThanOrEqual(report.restored)
    expect(await mailboxOf(d, 'cut')).toEqual(await mailboxOf(d, 'clean'))
  })
})
