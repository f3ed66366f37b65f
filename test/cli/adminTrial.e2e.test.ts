/**
 * Defects found by trying the product as an admin would, against a real Dovecot: mailboxes are
 * changed by `doveadm`, and the built CLI runs as an admin runs it. Each case is an answer that
 * misled: a scan stopped early that called itself complete, a mistyped port reported as an outage,
 * a missing account reported as a refused login, a failure that printed nothing with --json, and an
 * account shown with an Inbox at an instant before it existed.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, freePort, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime, mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { subjectsByFolder, withClient } from '../support/imapServers'

jest.setTimeout(120_000)

const msg = (subject: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\nDate: Mon, 02 Feb 2026 10:00:00 +0000\r\n\r\nHello ${subject}\r\n`,
  )

describeWithService(dovecotAvailable(), 'Dovecot')('what an admin trying the product meets (Dovecot)', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (args: readonly string[], more: Record<string, string> = {}) => mailtime([...store(), ...args], { ...env, ...more })
  const save = (user: string, folder: string, subject: string) =>
    execFileSync('/usr/bin/doveadm', ['-c', d.conf, 'save', '-u', user, '-m', folder], { input: msg(subject), stdio: ['pipe', 'pipe', 'pipe'] })
  /** Folder → subjects, as Dovecot serves the account. */
  const served = (user: string): Promise<Record<string, string[]>> => withClient(clientAs(d, user), subjectsByFolder)
  /** The one JSON document a --json run printed on stdout. */
  const jsonOf = (r: { stdout: string; stderr: string; code: number }) => {
    if (r.stdout.trim() === '') throw new Error(`exit ${r.code} printed nothing on stdout (stderr: ${r.stderr})`)
    return JSON.parse(r.stdout)
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw' })
    dir = tmpDir()
    const config = path.join(dir, 'mailtime.json')
    fs.writeFileSync(config, '{}')
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: d.admin.user, MAILTIME_IMAP_PASSWORD: d.admin.password, MAILTIME_CONFIG: config }
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  /**
   * Runs a scan slowed down after every batch of one event, and stops it with SIGINT once its first
   * batch is recorded (the account is then in the backup): the scan is cut short between batches.
   */
  const interruptedScan = async (args: readonly string[], account: string, more: Record<string, string> = {}) => {
    const { child, done } = mailtimeAsync([...store(), ...args], { ...env, ...more, MAILTIME_SCAN_BATCH_SIZE: '1', MAILTIME_FAULT: 'pause-after-batch:2000' })
    try {
      while (run(['getAccountInfo', account]).code !== 0) if (child.exitCode !== null) break
      child.kill('SIGINT')
      return await done
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  }

  it('getAccountState at an instant before the account existed says so and shows no folders, in text and in --json', () => {
    save('alice', 'INBOX', 'Hello')
    expect(run(['doAccountScan', 'alice']).code).toBe(0)
    const before = '2000-01-01T00:00:00Z'
    const text = run(['getAccountState', 'alice', 'date', before])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('(the account did not exist then)')
    expect(text.stdout).not.toContain('/Inbox')
    const json = jsonOf(run(['--json', 'getAccountState', 'alice', 'date', before]))
    expect(json).toMatchObject({ exists: false, folders: [], items: [] })
    // As of now the same account has its Inbox and its message.
    expect(jsonOf(run(['--json', 'getAccountState', 'alice'])).folders.map((f: { path: string }) => f.path)).toContain('/Inbox')
  })

  it('a port out of range in a target or the configured server is a usage error naming it (exit 2), not an unavailable server', () => {
    const target = run(['doUndelete', 'alice', 'first', 'last', 'target', 'imap://127.0.0.1:99999'])
    expect({ code: target.code, stderr: target.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('imap://127.0.0.1:99999') })
    expect(target.stderr).toContain('port 99999')
    const scan = run(['doAccountScan', 'alice'], { MAILTIME_IMAP_URL: 'imap://127.0.0.1:0' })
    expect({ code: scan.code, stderr: scan.stderr }).toEqual({ code: 2, stderr: expect.stringContaining('port 0') })
  })

  it('scanning an account the server does not have says that it does not exist there, naming it (exit 3), and records nothing', () => {
    const r = run(['doAccountScan', 'nosuch'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(new RegExp(`^mailtime: account nosuch does not exist on imap://127\\.0\\.0\\.1:${d.port}`))
    expect(run(['getAccountInfo', 'nosuch']).code).toBe(3)
  })

  it('with --json every failure prints one JSON document with the error and the exit code (and the line on stderr)', async () => {
    const port = await freePort()
    const cases: [readonly string[], Record<string, string>, number, string][] = [
      [['doAccountScan', 'alice'], { MAILTIME_IMAP_URL: `imap://127.0.0.1:${port}` }, 6, `127.0.0.1:${port}`],
      [['doSmartScan'], { MAILTIME_IMAP_URL: `imap://127.0.0.1:${port}`, MAILTIME_IMAP_ACCOUNTS: 'alice' }, 6, `127.0.0.1:${port}`],
      [['doAccountScan', 'nosuch'], {}, 3, 'nosuch'],
      [['getAccountState', 'alice', 'date', '31/02/2026'], {}, 2, 'day 31'],
      [['getItem', 'nobody@example.com', '1'], {}, 3, 'nobody@example.com'],
      [['getAccountState'], {}, 2, 'account'],
      [['frobnicate'], {}, 2, 'frobnicate'],
    ]
    for (const [args, more, code, names] of cases) {
      const r = run(['--json', ...args], more)
      expect({ args, code: r.code, json: jsonOf(r) }).toEqual({ args, code, json: { error: expect.stringContaining(names), exitCode: code } })
      expect(r.stderr).toContain(`mailtime: ${jsonOf(r).error}`)
    }
  })

  // A restored message is a new item of the backup (the scan recognises the copy the restore wrote),
  // so a message restored and deleted again is a new deletion, of that copy.
  it('doUndelete run again the same day restores what was deleted since, messages and a folder it had restored and that were deleted again too, and never writes anything twice', async () => {
    d.addUser('erin', 'erinpw')
    d.doveadm('mailbox', 'create', '-u', 'erin', 'Proj')
    save('erin', 'INBOX', 'First')
    save('erin', 'INBOX', 'Second')
    save('erin', 'Proj', 'Plan')
    const scan = () => expect(run(['doAccountScan', 'erin']).code).toBe(0)
    const expunge = (subject: string) => d.doveadm('expunge', '-u', 'erin', 'mailbox', 'INBOX', 'subject', subject)
    const undelete = () => {
      const r = run(['--json', 'doUndelete', 'erin', 'first', 'last'])
      return { code: r.code, report: jsonOf(r) }
    }
    scan()
    expunge('First')
    d.doveadm('mailbox', 'delete', '-u', 'erin', '-r', 'Proj')
    scan()
    // First, the folder Proj and its message Plan.
    expect(undelete()).toMatchObject({ code: 0, report: { restored: 3, skipped: 0, unrestored: [] } })
    expect(await served('erin')).toEqual({ INBOX: ['First', 'Second'], Proj: ['Plan'] })
    // The scan records the copies the restore wrote; then they are deleted again, and Second for the first time.
    scan()
    expunge('First')
    expunge('Second')
    d.doveadm('mailbox', 'delete', '-u', 'erin', '-r', 'Proj')
    scan()
    expect(await served('erin')).toEqual({ INBOX: [] })
    const again = undelete()
    expect(again).toMatchObject({ code: 0, report: { unrestored: [] } })
    expect(await served('erin')).toEqual({ INBOX: ['First', 'Second'], Proj: ['Plan'] })
    // Run once more: everything is back and still there, nothing is written twice.
    const third = undelete()
    expect(third).toMatchObject({ code: 0, report: { restored: 0, skipped: again.report.restored + again.report.skipped, unrestored: [] } })
    expect(await served('erin')).toEqual({ INBOX: ['First', 'Second'], Proj: ['Plan'] })
  })

  it('doUndelete run again before any scan restores again a message it had restored that is gone from the server since, and not one that was moved to another folder', async () => {
    d.addUser('fred', 'fredpw')
    d.doveadm('mailbox', 'create', '-u', 'fred', 'Filed')
    save('fred', 'INBOX', 'Alpha')
    save('fred', 'INBOX', 'Beta')
    const scan = () => expect(run(['doAccountScan', 'fred']).code).toBe(0)
    const undelete = () => {
      const r = run(['--json', 'doUndelete', 'fred', 'first', 'last'])
      return { code: r.code, report: jsonOf(r) }
    }
    scan()
    d.doveadm('expunge', '-u', 'fred', 'mailbox', 'INBOX', 'all')
    scan()
    expect(undelete()).toMatchObject({ code: 0, report: { restored: 2, skipped: 0, unrestored: [] } })
    expect(await served('fred')).toEqual({ INBOX: ['Alpha', 'Beta'], Filed: [] })
    // No scan: the backup does not know that Alpha's copy was deleted, nor that Beta's was filed.
    d.doveadm('expunge', '-u', 'fred', 'mailbox', 'INBOX', 'subject', 'Alpha')
    d.doveadm('move', '-u', 'fred', 'Filed', 'mailbox', 'INBOX', 'subject', 'Beta')
    expect(undelete()).toMatchObject({ code: 0, report: { restored: 1, skipped: 1, unrestored: [] } })
    expect(await served('fred')).toEqual({ INBOX: ['Alpha'], Filed: ['Beta'] })
  })

  it('doAccountScan stopped early says complete: false beside interrupted: true, and exits 130; the next scan finishes it', async () => {
    for (let i = 1; i <= 8; i++) save('bob', 'INBOX', `Note ${i}`)
    const r = await interruptedScan(['--json', 'doAccountScan', 'bob'], 'bob')
    expect({ code: r.code, report: jsonOf(r) }).toMatchObject({ code: 130, report: { account: 'bob', interrupted: true, complete: false } })
    const again = run(['--json', 'doAccountScan', 'bob'])
    expect({ code: again.code, report: jsonOf(again) }).toMatchObject({ code: 0, report: { interrupted: false, complete: true } })
  })

  it('doSmartScan stopped early says complete: false beside interrupted: true for the scan cut short, and exits 130', async () => {
    d.addUser('carol', 'carolpw')
    for (let i = 1; i <= 8; i++) save('carol', 'INBOX', `Memo ${i}`)
    const r = await interruptedScan(['--json', 'doSmartScan'], 'carol', { MAILTIME_IMAP_ACCOUNTS: 'carol' })
    expect(r.code).toBe(130)
    const out = jsonOf(r)
    expect(out.scans).toEqual([expect.objectContaining({ account: 'carol', interrupted: true, complete: false })])
    expect(out.interrupted).toBe(true)
  })
})
