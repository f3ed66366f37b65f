/**
 * Restores end to end against real servers: Dovecot on loopback (two instances, for the external
 * restore), a real SMTP server (smtp-server) for the notifications, the CLI run as a user runs it.
 * An account is captured, changed (delivery, move, flags, deletion, emptied Trash, folder rename)
 * and captured again; then every restore verb runs and the target is read back over IMAP: folders,
 * flags, keywords, INTERNALDATE and the bytes of every message.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, freePort, removeDovecot, startDovecot } from '../support/dovecot'
import { type Item, type Seen, adminEnv, expectedMessages, message, readMessages, withClient, writeConfig } from '../support/imapServers'
import { describeWithService } from '../support/services'
import { type CaughtMail, type MailCatcher, smtpConfig, startMailCatcher } from '../support/smtp'
import { mailtime, mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { sha256 } from '../../src/blobs/blobStore'

const msg = (subject: string, id: string, body = 'Hello') => message('alice', subject, id, body)

/** What a mailbox holds, read over IMAP: one entry per message, with the bytes' digest; folders by their Dovecot names (`Projects.Alpha`). */
const readAccount = (d: Dovecot, user: string): Promise<Seen[]> => withClient(clientAs(d, user), (c) => readMessages(c))

const folderOf = (displayPath: string): string => (displayPath.toLowerCase() === '/inbox' ? 'INBOX' : displayPath.slice(1).split('/').join('.'))

/** The account as the store says it was, in the shape `readAccount` reads. */
const expected = (items: readonly Item[], extraTags: readonly string[] = []): Seen[] => expectedMessages(items, folderOf, extraTags)

describeWithService(dovecotAvailable(), 'Dovecot')('restores into Dovecot over IMAP, with notifications', () => {
  let d: Dovecot
  let d2: Dovecot
  let dir: string
  let env: Record<string, string>
  let smtp: MailCatcher
  const mails: CaughtMail[] = []
  let t0 = ''
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  // Asynchronous, so that the SMTP server in this process can answer while the CLI runs.
  const run = (...args: string[]) => mailtimeAsync([...store(), ...args], env).done
  const runJson = async (...args: string[]) => {
    const r = await run('--json', ...args)
    if (r.code !== 0 && r.code !== 7) throw new Error(`${args[0]} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout)
  }
  const scan = (account: string) => runJson('doAccountScan', account)
  const state = async (account: string, date?: string): Promise<Item[]> => (await runJson('getAccountState', account, ...(date ? ['date', date] : []))).items
  const configFile = (name: string, content: unknown) => writeConfig(dir, content, name)

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw' })
    d2 = await startDovecot({})
    dir = tmpDir()
    smtp = await startMailCatcher(mails)
    const config = configFile('mailtime.json', {
      smtp: smtpConfig(smtp),
      provisioning: { passwdFile: d.usersFile },
    })
    env = adminEnv(d, config)

    const c = clientAs(d, 'alice')
    await c.connect()
    await c.mailboxCreate('Projects')
    await c.mailboxCreate('Trash')
    await c.append('INBOX', msg('Budget', 'm1'), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
    await c.append('INBOX', msg('Travel', 'm2'), [], new Date('2026-03-02T11:00:00Z'))
    await c.append('INBOX', msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000)), ['$Work'], new Date('2026-03-02T12:00:00Z'))
    await c.append('INBOX', msg('Old news', 'm4'), ['\\Seen'], new Date('2026-02-20T09:00:00Z'))
    await c.append('INBOX', msg('Spam', 'm5'), [], new Date('2026-02-21T09:00:00Z'))
    await c.append('Projects', msg('Spec', 'm6'), ['\\Flagged', 'Review'], new Date('2026-03-01T09:00:00Z'))
    await c.logout()
    await scan('alice')
    await new Promise((r) => setTimeout(r, 1100))
    t0 = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 1100))

    const c2 = clientAs(d, 'alice')
    await c2.connect()
    const lock = await c2.getMailboxLock('INBOX')
    const uid: Record<string, number> = {}
    for await (const m of c2.fetch('1:*', { uid: true, envelope: true })) uid[m.envelope?.subject ?? ''] = m.uid
    await c2.messageMove(String(uid.Travel), 'Projects', { uid: true })
    await c2.messageFlagsAdd(String(uid.Budget), ['\\Flagged'], { uid: true })
    await c2.messageDelete(String(uid['Old news']), { uid: true })
    await c2.messageMove(String(uid.Spam), 'Trash', { uid: true })
    lock.release()
    await c2.append('INBOX', msg('New', 'm7'), [], new Date('2026-03-05T08:00:00Z'))
    // Captured in Trash before Trash is emptied.
    await scan('alice')
    const trash = await c2.getMailboxLock('Trash')
    await c2.messageDelete('1:*')
    trash.release()
    await c2.mailboxRename('Projects', 'Work')
    await c2.logout()
    await scan('alice')
  })

  afterAll(async () => {
    await smtp.close()
    await removeDovecot(d)
    await removeDovecot(d2)
    cleanupTmp()
  })

  it('doRestoreOnNewAccount creates the account (passwd-file) and recreates the source as of the date: folders, flags, keywords, dates, bytes', async () => {
    const before = await state('alice', t0)
    expect(before.map((i) => i.subject).sort()).toEqual(['Budget', 'Lunch', 'Old news', 'Spam', 'Spec', 'Travel'])
    const dry = await runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0, 'dry_run', 'true')
    expect(dry.plan.counts.items).toBe(6)
    // The user folder is an item too (Trash is a system folder, recreated by the message in it).
    expect(dry.plan.folderItems.map((f: { folder: string }) => f.folder)).toEqual(['Projects'])
    expect(fs.readFileSync(d.usersFile, 'utf8')).not.toContain('alice.restored')

    mails.length = 0
    const r = await runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0)
    expect(r).toMatchObject({ state: 'done', restored: 7, skipped: 0, unrestored: [] })
    expect(fs.readFileSync(d.usersFile, 'utf8')).toMatch(/^alice\.restored:\{SSHA512\}/m)
    expect(await readAccount(d, 'alice.restored')).toEqual(expected(before))
    // The source is never touched.
    expect((await readAccount(d, 'alice')).map((m) => m.subject).sort()).toEqual(['Budget', 'Lunch', 'New', 'Spec', 'Travel'])

    // Start and end notifications to the initiator and the admin, with the counts.
    await new Promise((res) => setTimeout(res, 200))
    expect(mails).toHaveLength(2)
    expect(mails.every((m) => JSON.stringify(m.to) === JSON.stringify(['admin@example.com', 'ops@example.com']))).toBe(true)
    expect(mails[0]?.subject).toMatch(/started/)
    expect(mails[1]?.text).toMatch(/Restored Items: 7\s+Skipped Items:\s+0\s+Unrestored Items: 0/)
    expect(mails[1]?.text).toContain(r.operationId)
  })

  it('doUndelete brings back what was deleted (not what was moved), tagged undelete_DD_MM_YY, without \\Deleted; a re-run skips it all', async () => {
    const dry = await runJson('doUndelete', 'alice', 'first', 'last', 'dry_run', 'true')
    expect(dry.plan.items.map((i: { subject: string; folder: string }) => `${i.folder}:${i.subject}`).sort()).toEqual(['Inbox:Old news', 'Trash:Spam'])
    const deletedStates = (await state('alice', t0)).filter((i) => ['Old news', 'Spam'].includes(i.subject))
    mails.length = 0
    const r = await runJson('doUndelete', 'alice', 'first', 'last', 'notifications', 'legal@example.com')
    expect(r).toMatchObject({ state: 'done', restored: 2, skipped: 0 })
    const now = new Date()
    const tag = `undelete_${String(now.getUTCDate()).padStart(2, '0')}_${String(now.getUTCMonth() + 1).padStart(2, '0')}_${String(now.getUTCFullYear() % 100).padStart(2, '0')}`
    const inAccount = await readAccount(d, 'alice')
    const back = inAccount.filter((m) => ['Old news', 'Spam'].includes(m.subject))
    // Spam was in Trash when Trash was emptied: that is where it comes back.
    const want = expected(
      deletedStates.map((i) => (i.subject === 'Spam' ? { ...i, folderPath: '/Trash' } : i)),
      [tag],
    )
    expect(back).toEqual(want)
    await new Promise((res) => setTimeout(res, 200))
    expect(mails.map((m) => m.to)).toEqual([
      ['admin@example.com', 'legal@example.com', 'ops@example.com'],
      ['admin@example.com', 'legal@example.com', 'ops@example.com'],
    ])

    const again = await runJson('doUndelete', 'alice', 'first', 'last')
    expect(again).toMatchObject({ state: 'done', restored: 0, skipped: 2 })
    expect(await readAccount(d, 'alice')).toEqual(inAccount)

    // target_original_folder false: everything under one folder named like the tag, original paths below it.
    const dedicated = await runJson('doUndelete', 'alice', 'first', 'last', 'target_original_folder', 'false')
    expect(dedicated).toMatchObject({ state: 'done', restored: 2 })
    const under = (await readAccount(d, 'alice')).filter((m) => m.folder.startsWith(`${tag}.`))
    expect(under.map((m) => `${m.folder}:${m.subject}`).sort()).toEqual([`${tag}.Inbox:Old news`, `${tag}.Trash:Spam`])
  })

  it('doItemRestore restores an item as of a date into its folder then, recreated under its old name, as a copy', async () => {
    const travel = (await state('alice', t0)).find((i) => i.subject === 'Travel') as Item
    expect(travel.folderPath).toBe('/Inbox')
    const spec = (await state('alice', t0)).find((i) => i.subject === 'Spec') as Item
    const r = await runJson('doItemRestore', 'alice', String(spec.itemId), 'date', t0)
    expect(r).toMatchObject({ restored: 1 })
    const now = await readAccount(d, 'alice')
    // "Projects" was renamed "Work" since; the restore recreates "Projects" and leaves "Work" as it is.
    expect(
      now
        .filter((m) => m.subject === 'Spec')
        .map((m) => m.folder)
        .sort(),
    ).toEqual(['Projects', 'Work'])
    expect(now.find((m) => m.folder === 'Projects')).toEqual(expected([spec])[0])
    const into = await runJson('doItemRestore', 'alice', String(travel.itemId), 'date', t0, 'restore_folder', 'Restored/March')
    expect(into.restored).toBe(1)
    expect((await readAccount(d, 'alice')).filter((m) => m.folder === 'Restored.March').map((m) => m.subject)).toEqual(['Travel'])
  })

  it('getAllOperations and monitor show every restore with its counts and notifications', async () => {
    const all = (await runJson('getAllOperations')).operations
    // Captures are in the audit trail too.
    expect(all.filter((o: { kind: string }) => o.kind === 'scan').map((o: { verb: string; state: string }) => `${o.verb}:${o.state}`)).toEqual([
      'doAccountScan:done',
      'doAccountScan:done',
      'doAccountScan:done',
    ])
    const ops = all.filter((o: { kind: string }) => o.kind === 'restore')
    expect(ops.map((o: { verb: string }) => o.verb)).toEqual(['doRestoreOnNewAccount', 'doUndelete', 'doUndelete', 'doUndelete', 'doItemRestore', 'doItemRestore'])
    expect(ops.every((o: { state: string; initiator: string }) => o.state === 'done' && o.initiator === 'ops@example.com')).toBe(true)
    const m = await runJson('monitor', ops[1].operationId)
    expect(m).toMatchObject({ restored: 2, skipped: 0, state: 'done' })
    expect(m.notifications.map((n: { phase: string; sent: boolean }) => `${n.phase}:${n.sent}`)).toEqual(['start:true', 'end:true'])
    expect((await run('monitor', 'op-nope')).code).toBe(3)
  })

  it('an unreachable SMTP server does not stop a restore; the operation records that the notification failed', async () => {
    const closed = await freePort()
    const config = configFile('nosmtp.json', {
      smtp: { host: '127.0.0.1', port: closed, from: 'm@example.com', admin: 'admin@example.com' },
      provisioning: { passwdFile: d.usersFile },
    })
    const r = await mailtimeAsync([...store(), '--json', 'doRestoreOnNewAccount', 'alice', 'alice.nosmtp', t0], { ...env, MAILTIME_CONFIG: config }).done
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.restored).toBe(7)
    expect(out.notifications).toHaveLength(2)
    expect(out.notifications[0]).toMatchObject({ phase: 'start', sent: false })
    expect(out.notifications[0].error).toMatch(/ECONNREFUSED/)
  })

  it('doExternalRestore restores a copied store into another server, writes the id map, and skips everything on a re-run', async () => {
    const copy = path.join(dir, 'old-server')
    fs.mkdirSync(copy)
    for (const f of fs.readdirSync(dir)) if (f.startsWith('m.db')) fs.copyFileSync(path.join(dir, f), path.join(copy, f.replace('m.db', 'mailtime.db')))
    fs.cpSync(path.join(dir, 'blobs'), path.join(copy, 'blobs'), { recursive: true })
    const config = configFile('ext.json', { provisioning: { passwdFile: d2.usersFile } })
    const local = ['--store', `sqlite:${path.join(dir, 'local.db')}`, '--tz', 'UTC']
    const ext = (...more: string[]) =>
      mailtime([...local, '--json', 'doExternalRestore', copy, 'accounts', 'alice', 'target', d2.url, ...more], { ...env, MAILTIME_CONFIG: config })
    // SQLite may add its empty -wal/-shm companions beside a database it reads; the database itself must not change.
    const hashes = () => sha256(fs.readFileSync(path.join(copy, 'mailtime.db')))
    const untouched = hashes()
    const idMap = path.join(dir, 'idmap.jsonl')
    const r = ext('id_map', idMap)
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout)
    const live = await state('alice')
    // Its one user folder ("Projects", renamed "Work") is an item too, mapped to the folder it became.
    const folders = ((await runJson('getAccountState', 'alice')).folders as { folderId: number; path: string; system: boolean }[]).filter((f) => !f.system)
    expect(folders.map((f) => f.path)).toEqual(['/Work'])
    expect(out.restored).toBe(live.length + folders.length)
    const lines = fs
      .readFileSync(idMap, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines.map((l: { itemId: number }) => l.itemId).sort()).toEqual([...live.map((i) => i.itemId), ...folders.map((f) => f.folderId)].sort())
    const messageIds = new Set(live.map((i) => i.itemId))
    expect(lines.every((l: { itemId: number; location: string }) => (messageIds.has(l.itemId) ? /^[^;]+;\d+;\d+$/.test(l.location) : l.location === 'Work'))).toBe(true)
    expect(await readAccount(d2, 'alice')).toEqual(expected(live))
    const again = JSON.parse(ext().stdout)
    expect(again).toMatchObject({ restored: 0, skipped: live.length + folders.length })
    expect(await readAccount(d2, 'alice')).toEqual(expected(live))
    // The source store was opened read-only: not a byte of the database changed.
    expect(hashes()).toEqual(untouched)
  })

  it('a restore killed right after a batch reached the server, before it was recorded, resumes without a duplicate', async () => {
    const c = clientAs(d, 'bob')
    await c.connect()
    for (let i = 0; i < 40; i++) await c.append('INBOX', msg(`Bulk ${i}`, `b${i}`, `body ${i}`), i % 3 === 0 ? ['\\Seen'] : [], new Date(Date.UTC(2026, 1, 1, 8, i)))
    await c.logout()
    await scan('bob')
    const want = expected(await state('bob'))
    const killed = await mailtimeAsync([...store(), '--json', 'doRestoreOnNewAccount', 'bob', 'bob.restored', 'last'], {
      ...env,
      MAILTIME_RESTORE_BATCH_SIZE: '5',
      MAILTIME_FAULT: 'kill-after-append:3',
    }).done
    expect(killed.code).not.toBe(0)
    const partial = (await readAccount(d, 'bob.restored')).length
    const interrupted = (await runJson('getAllOperations')).operations.at(-1)
    expect(interrupted.state).toBe('interrupted')
    // At least the third batch is on the server without a record of it.
    expect(partial).toBeGreaterThanOrEqual(15)
    expect(interrupted.restored).toBeLessThan(partial)
    const resumed = await runJson('doRestoreOnNewAccount', 'bob', 'bob.restored', 'last')
    expect(resumed).toMatchObject({ state: 'done', restored: 40 - partial, skipped: partial })
    expect(await readAccount(d, 'bob.restored')).toEqual(want)
  })

  it('doStopOperation stops a running restore after its batch; the same command resumes it', async () => {
    // Held after its first batch until the stop is requested: the stop cannot race the end of the run.
    const slow = { ...env, MAILTIME_RESTORE_BATCH_SIZE: '4', MAILTIME_FAULT: 'hold-after-append:1' }
    const p = mailtimeAsync([...store(), '--json', 'doRestoreOnNewAccount', 'bob', 'bob.stopped', 'last'], slow)
    let id: string | undefined
    for (let i = 0; i < 100 && id === undefined; i++) {
      await new Promise((r) => setTimeout(r, 100))
      const ops = (await runJson('getAllOperations', 'state', 'running')).operations
      id = ops.find((o: { params: { destination?: string } }) => o.params.destination === 'bob.stopped')?.operationId
    }
    expect(id).toBeDefined()
    const stop = await run('doStopOperation', id as string)
    expect(stop.code).toBe(0)
    const r = await p.done
    expect({ code: r.code, output: (r.stdout + r.stderr).slice(0, 2000) }).toMatchObject({ code: 130 })
    const out = JSON.parse(r.stdout)
    expect(out.state).toBe('stopped')
    expect(out.restored).toBeLessThan(40)
    expect((await run('doStopOperation', id as string)).code).toBe(5)
    const resumed = await runJson('doRestoreOnNewAccount', 'bob', 'bob.stopped', 'last')
    expect(resumed).toMatchObject({ state: 'done', restored: 40 - out.restored, skipped: out.restored })
    expect(await readAccount(d, 'bob.stopped')).toEqual(expected(await state('bob')))
  })

  it('an unreachable target fails with exit 6 and a clear message, and writes nothing', async () => {
    const r = await run('doUndelete', 'alice', 'first', 'last', 'target', 'imap://127.0.0.1:1')
    expect(r.code).toBe(6)
    expect(r.stdout + r.stderr).toMatch(/unavailable.*ECONNREFUSED/)
    expect(r.stdout + r.stderr).not.toContain('adminpw')
  })
})
