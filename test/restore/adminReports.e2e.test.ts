/**
 * Restore reports as an admin meets them, against a real Dovecot: every mailbox change is made by
 * `doveadm` or a plain IMAP client, then the CLI runs as a user runs it. Each case is a defect of
 * issue 17 that misled the person relying on the backup: a deleted folder reported as a failure, a
 * missing destination account reported after 22 s as a resumable outage, and an undelete window that
 * finds nothing without saying that the scan could only bound the deletions.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { adminEnv, message, subjectsByFolder, withClient, writeConfig } from '../support/imapServers'
import { describeWithService } from '../support/services'
import { mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

const msg = (subject: string, id: string) => message('alice', subject, id, `Hello ${subject}`, 'Mon, 02 Feb 2026 10:00:00 +0000')

describeWithService(dovecotAvailable(), 'Dovecot')('restore reports an admin can rely on (Dovecot)', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (args: readonly string[], more: Record<string, string> = {}) => mailtimeAsync([...store(), ...args], { ...env, ...more }).done
  const runJson = async (args: readonly string[], more: Record<string, string> = {}) => {
    const r = await run(['--json', ...args], more)
    if (r.stdout.trim() === '') throw new Error(`${args[0]} exited ${r.code} without output: ${r.stderr}`)
    return { code: r.code, out: JSON.parse(r.stdout), stderr: r.stderr }
  }
  const doveadm = (...args: string[]) => execFileSync('/usr/bin/doveadm', ['-c', path.join(d.dir, 'dovecot.conf'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const save = (user: string, folder: string, subject: string) =>
    execFileSync('/usr/bin/doveadm', ['-c', path.join(d.dir, 'dovecot.conf'), 'save', '-u', user, '-m', folder], {
      input: msg(subject, subject.replace(/\W/g, '')),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
  /** Folder → subjects, as Dovecot serves the account. */
  const served = (user: string): Promise<Record<string, string[]>> => withClient(clientAs(d, user), subjectsByFolder)

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw', carol: 'carolpw', dora: 'dorapw' })
    dir = tmpDir()
    // No provisioning section: restores into accounts that do not exist cannot create them.
    env = adminEnv(d, writeConfig(dir, {}))
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('undeleting deleted folders recreates them and counts them as restored items, not as failures; a re-run skips them', async () => {
    doveadm('mailbox', 'create', '-u', 'alice', 'Projects', 'Projects.Alpha', 'Empty')
    save('alice', 'INBOX', 'Kept')
    save('alice', 'Projects', 'Plan')
    save('alice', 'Projects', 'Budget')
    save('alice', 'Projects.Alpha', 'Spec')
    expect((await run(['doAccountScan', 'alice'])).code).toBe(0)
    doveadm('mailbox', 'delete', '-u', 'alice', '-r', 'Projects')
    doveadm('mailbox', 'delete', '-u', 'alice', 'Empty')
    expect(Object.keys(await served('alice')).sort()).toEqual(['INBOX'])
    expect((await run(['doAccountScan', 'alice'])).code).toBe(0)

    const dry = (await runJson(['doUndelete', 'alice', 'first', 'last', 'dry_run', 'true'])).out
    expect(dry.plan.counts).toEqual({ items: 3, folderItems: 3, unrestorable: 0, folders: 3 })
    expect(dry.plan.folderItems.map((f: { folder: string }) => f.folder).sort()).toEqual(['Empty', 'Projects', 'Projects/Alpha'])

    const text = await run(['doUndelete', 'alice', 'first', 'last'])
    expect({ code: text.code, stdout: text.stdout }).toMatchObject({ code: 0 })
    expect(text.stdout).toMatch(/: done\nRestored Items: 6\nSkipped Items:  0\nUnrestored Items: 0\n/)
    expect(text.stdout).toContain('Folders recreated (among the Restored Items): /Empty, /Projects, /Projects/Alpha')
    expect(text.stdout).not.toContain('not a message')
    expect(await served('alice')).toEqual({ INBOX: ['Kept'], Empty: [], Projects: ['Budget', 'Plan'], 'Projects.Alpha': ['Spec'] })

    const again = await runJson(['doUndelete', 'alice', 'first', 'last'])
    expect(again.code).toBe(0)
    expect(again.out).toMatchObject({ state: 'done', restored: 0, skipped: 6, unrestored: [], foldersRecreated: [] })
    const ops = (await runJson(['getAllOperations', 'state', 'partial'])).out.operations
    expect(ops).toEqual([])
  })

  it('a restore into an account the target does not have, with no provisioner, says so after one login, and names the missing provisioning', async () => {
    save('carol', 'INBOX', 'Carol one')
    save('carol', 'INBOX', 'Carol two')
    expect((await run(['doAccountScan', 'carol'])).code).toBe(0)
    const refusedLogins = () =>
      fs
        .readFileSync(d.logPath, 'utf8')
        .split('\n')
        .filter((l) => l.includes('user=<nobody>') && /authorization failed|auth failed/i.test(l)).length

    const r = await runJson(['doRestoreOnNewAccount', 'carol', 'nobody', 'last'])
    expect(r.code).toBe(7)
    expect(r.out.state).toBe('partial')
    expect(r.out.restored).toBe(0)
    expect(r.out.unrestored).toHaveLength(2)
    for (const u of r.out.unrestored) {
      expect(u.reason).toContain(`account nobody does not exist on ${d.url}`)
      expect(u.reason).toContain('provisioning is not configured')
    }
    // One login, not five: Dovecot delays each refused login by seconds, and a retry cannot help an account nobody is creating.
    expect(refusedLogins()).toBe(1)

    const text = await run(['doRestoreOnNewAccount', 'carol', 'nobody', 'last'])
    expect(text.code).toBe(7)
    expect(text.stdout).toContain(`account nobody does not exist on ${d.url}`)
    expect(text.stdout).not.toContain('run the same command again to resume')
    expect(refusedLogins()).toBe(2)
  })

  it('a Maildir restore of a folder with more keywords than a Maildir folder holds writes every message and names the keywords it could not keep, on which items', async () => {
    const c = clientAs(d, 'dora')
    await c.connect()
    await c.mailboxCreate('Tagged')
    const keywords = Array.from({ length: 28 }, (_, n) => `k${String(n).padStart(2, '0')}`)
    for (const k of keywords) await c.append('Tagged', msg(`Tagged ${k}`, `dora${k}`), [k], new Date('2026-02-20T09:00:00Z'))
    await c.logout()
    expect((await run(['doAccountScan', 'dora'])).code).toBe(0)
    const items = (await runJson(['getAccountState', 'dora'])).out.items as { itemId: number; tags: string[] }[]
    const lost = items
      .filter((i) => i.tags.includes('k26') || i.tags.includes('k27'))
      .map((i) => i.itemId)
      .sort((a, b) => a - b)
    expect(lost).toHaveLength(2)

    const maildir = path.join(fs.mkdtempSync(path.join(dir, 'tree-')), 'dora')
    const warning = `warning: 2 message(s) in .Tagged written without keyword(s) k26, k27 (items ${lost.join(', ')}): a Maildir folder holds at most 26 keywords (the letters a to z of its file names); an IMAP target keeps them all`
    const text = await run(['doRestoreOnNewAccount', 'dora', 'dora.copy', 'last', 'target', `maildir:${maildir}`, 'owner', 'mail'])
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: '' })
    // Every message (and the folder) is restored; the two named lost only their keyword.
    expect(text.stdout).toContain('Restored Items: 29\n')
    expect(text.stdout).toContain(warning)
    const json = await runJson(['doRestoreOnNewAccount', 'dora', 'dora.copy', 'last', 'target', `maildir:${maildir}2`, 'owner', 'mail'])
    expect(json.out).toMatchObject({ state: 'done', restored: 29, warnings: [warning.slice('warning: '.length)] })
  })

  it('an undelete window between two scans that found deletions says how many deletions the scans could only bound, in the dry run and in the empty result', async () => {
    const c = clientAs(d, 'bob')
    await c.connect()
    for (const s of ['One', 'Two', 'Three']) await c.append('INBOX', msg(s, `bob${s}`), [], new Date('2026-02-20T09:00:00Z'))
    await c.logout()
    // Two scans; the user deletes two messages in between. Capture runs on the real clock
    // (MAILTIME_NOW is refused for it), so the window is taken strictly between the two scans.
    const t0 = Date.now()
    expect((await run(['doAccountScan', 'bob'])).code).toBe(0)
    const t1 = Date.now()
    const c2 = clientAs(d, 'bob')
    await c2.connect()
    const lock = await c2.getMailboxLock('INBOX')
    await c2.messageDelete('1:2')
    lock.release()
    await c2.logout()
    const t2 = Date.now()
    expect((await run(['doAccountScan', 'bob'])).code).toBe(0)
    const t3 = Date.now()
    expect(t2 - t1).toBeGreaterThan(2)
    const iso = (ms: number) => new Date(ms).toISOString()
    const inner = [iso(t1 + 1), iso(t2 - 1)]

    const note =
      /^0 items deleted in this window; 2 deletions were recorded between (\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d) \+00:00 and (\d\d\/\d\d\/\d{4} \d\d:\d\d:\d\d) \+00:00, whose exact instants are unknown — widen the window or import the server's log$/m
    const dryText = await run(['doUndelete', 'bob', ...inner, 'dry_run', 'true'])
    expect(dryText.code).toBe(0)
    expect(dryText.stdout).toMatch(note)
    const dry = (await runJson(['doUndelete', 'bob', ...inner, 'dry_run', 'true'])).out
    expect(dry.plan.counts.items).toBe(0)
    expect(dry.possiblyInWindow).toHaveLength(1)
    const [bound] = dry.possiblyInWindow as { from: string; to: string; deletions: number }[]
    expect(bound?.deletions).toBe(2)
    // The interval is the two scans' own instants.
    expect(Date.parse(bound?.from ?? '')).toBeGreaterThanOrEqual(t0)
    expect(Date.parse(bound?.from ?? '')).toBeLessThanOrEqual(t1)
    expect(Date.parse(bound?.to ?? '')).toBeGreaterThanOrEqual(t2)
    expect(Date.parse(bound?.to ?? '')).toBeLessThanOrEqual(t3)

    const empty = await run(['doUndelete', 'bob', ...inner])
    expect(empty.code).toBe(0)
    expect(empty.stdout).toContain('Restored Items: 0')
    expect(empty.stdout).toMatch(note)

    // Widened to the second scan, the window holds them; a window before the first scan has nothing to say.
    const wide = (await runJson(['doUndelete', 'bob', iso(t1 + 1), iso(t3), 'dry_run', 'true'])).out
    expect(wide.plan.counts.items).toBe(2)
    expect(wide.possiblyInWindow).toEqual([])
    const before = (await runJson(['doUndelete', 'bob', iso(t0 - 7_200_000), iso(t0 - 3_600_000), 'dry_run', 'true'])).out
    expect(before.possiblyInWindow).toEqual([])
  })
})
