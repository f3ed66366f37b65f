/**
 * A restore on a new account recreates the source's whole folder tree, empty folders included, into
 * every target: an IMAP account on Dovecot, and a Maildir tree that Dovecot then serves; and so does
 * an external restore. The account is made with `doveadm`, captured, and the restored folders are
 * listed as Dovecot serves them.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { adminEnv, message, subjectsByFolder, withClient, writeConfig } from '../support/imapServers'
import { describeWithService } from '../support/services'
import { mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

const msg = (subject: string) => message('alice', subject, subject, `Hello ${subject}`, 'Mon, 02 Feb 2026 10:00:00 +0000')

describeWithService(dovecotAvailable(), 'Dovecot')('a restore recreates the whole folder tree, empty folders included (Dovecot)', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  /** Folder → subjects, as Dovecot served the source account when it was captured. */
  let source: Record<string, string[]>
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (args: readonly string[], storeArgs = store()) => mailtimeAsync([...storeArgs, ...args], env).done
  const runJson = async (args: readonly string[], storeArgs = store()) => {
    const r = await run(['--json', ...args], storeArgs)
    if (r.stdout.trim() === '') throw new Error(`${args[0]} exited ${r.code} without output: ${r.stderr}`)
    return { code: r.code, out: JSON.parse(r.stdout), stderr: r.stderr }
  }
  const doveadm = (...args: string[]) => execFileSync('/usr/bin/doveadm', ['-c', path.join(d.dir, 'dovecot.conf'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const save = (user: string, folder: string, subject: string) =>
    execFileSync('/usr/bin/doveadm', ['-c', path.join(d.dir, 'dovecot.conf'), 'save', '-u', user, '-m', folder], { input: msg(subject), stdio: ['pipe', 'pipe', 'pipe'] })
  /** Folder → subjects, as Dovecot serves the account (logged in as the master user on its behalf). */
  const served = (user: string): Promise<Record<string, string[]>> => withClient(clientAs(d, user), subjectsByFolder)
  const maildirFor = (name: string) => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-tree-'))
    fs.chmodSync(base, 0o755)
    return path.join(base, name)
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', copy: 'copypw' })
    dir = tmpDir()
    env = adminEnv(d, writeConfig(dir, {}))
    // An empty folder, an empty folder with an empty folder in it, and an empty folder under a full one.
    doveadm('mailbox', 'create', '-u', 'alice', 'Archive', 'Later', 'Later.Someday', 'Projects', 'Projects.Empty')
    save('alice', 'INBOX', 'Kept')
    save('alice', 'Projects', 'Plan')
    source = await served('alice')
    expect(source).toEqual({ INBOX: ['Kept'], Archive: [], Later: [], 'Later.Someday': [], Projects: ['Plan'], 'Projects.Empty': [] })
    expect((await run(['doAccountScan', 'alice'])).code).toBe(0)
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  const userFolders = ['/Archive', '/Later', '/Later/Someday', '/Projects', '/Projects/Empty']

  it('the dry run of doRestoreOnNewAccount lists every folder, empty ones included, as folder items', async () => {
    const dry = (await runJson(['doRestoreOnNewAccount', 'alice', 'copy', 'last', 'dry_run', 'true'])).out
    expect(dry.plan.folders.sort()).toEqual(['Archive', 'Inbox', 'Later', 'Later/Someday', 'Projects', 'Projects/Empty'])
    expect(dry.plan.folderItems.map((f: { folder: string }) => `/${f.folder}`).sort()).toEqual(userFolders)
    expect(dry.plan.counts).toEqual({ items: 2, folderItems: 5, unrestorable: 0, folders: 6 })
  })

  it('doRestoreOnNewAccount into an IMAP account: Dovecot serves every folder of the source, empty ones included; a re-run skips them', async () => {
    const r = await runJson(['doRestoreOnNewAccount', 'alice', 'copy', 'last'])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.out).toMatchObject({ state: 'done', restored: 7, skipped: 0, unrestored: [] })
    expect(r.out.foldersRecreated.map((f: { path: string }) => f.path).sort()).toEqual(userFolders)
    expect(await served('copy')).toEqual(source)
    const again = (await runJson(['doRestoreOnNewAccount', 'alice', 'copy', 'last'])).out
    expect(again).toMatchObject({ state: 'done', restored: 0, skipped: 7, foldersRecreated: [] })
    expect(await served('copy')).toEqual(source)
  })

  it('doRestoreOnNewAccount into a Maildir tree: Dovecot serves every folder of the source, empty ones included', async () => {
    const maildir = maildirFor('copy')
    const r = await runJson(['doRestoreOnNewAccount', 'alice', 'maildircopy', 'last', 'target', `maildir:${maildir}`, 'owner', 'mail'])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.out).toMatchObject({ state: 'done', restored: 7, skipped: 0, unrestored: [] })
    d.addUserWithMaildir('maildircopy', 'pw', maildir, { asIs: true })
    expect(await served('maildircopy')).toEqual(source)
  })

  it('doExternalRestore of a copied store recreates every folder, empty ones included, and maps each folder in the id map', async () => {
    const copy = path.join(dir, 'old-server')
    fs.mkdirSync(copy)
    for (const f of fs.readdirSync(dir)) if (f.startsWith('m.db')) fs.copyFileSync(path.join(dir, f), path.join(copy, f.replace('m.db', 'mailtime.db')))
    fs.cpSync(path.join(dir, 'blobs'), path.join(copy, 'blobs'), { recursive: true })
    const maildir = maildirFor('alice')
    const local = ['--store', `sqlite:${path.join(dir, 'local.db')}`, '--tz', 'UTC']
    const r = await runJson(['doExternalRestore', copy, 'accounts', 'alice', 'target', `maildir:${maildir}`, 'owner', 'mail'], local)
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' })
    expect(r.out).toMatchObject({ state: 'done', restored: 7, skipped: 0, unrestored: [] })
    // Every folder item is in the id map, at the folder it became.
    const folders = r.out.idMap.filter((m: { location: string }) => !/(^|\/)cur\//.test(m.location))
    expect(folders.map((m: { location: string }) => m.location).sort()).toEqual(['.Archive', '.Later', '.Later.Someday', '.Projects', '.Projects.Empty'])
    d.addUserWithMaildir('external', 'pw', maildir, { asIs: true })
    expect(await served('external')).toEqual(source)
  })
})
