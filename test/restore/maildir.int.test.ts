/**
 * Restores from the demo history written as Maildir trees, then opened by Dovecot itself over IMAP:
 * folders, flags, keywords, INTERNALDATE and the bytes of every message must match the backup.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { ImapFlow } from 'imapflow'
import { DateTime } from 'luxon'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { fsBlobStore, sha256 } from '../../src/blobs/blobStore'

const END = '2026-03-10T00:00:00Z'

describeWithService(dovecotAvailable(), 'Dovecot')('restores into Maildir, read back by Dovecot', () => {
  let d: Dovecot
  let dir: string
  let store: string[]
  let meta: { massDeletionAt: string; showcaseItem: number }
  const run = (...args: string[]) => mailtime([...store, ...args], {})
  const restoreDir = (name: string) => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-restore-'))
    fs.chmodSync(base, 0o755)
    return path.join(base, name)
  }
  /** Every path under a tree whose owner is not uid:gid. */
  const notOwnedBy = (root: string, uid: number, gid: number): string[] =>
    execFileSync('find', [root], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter((p) => {
        const st = fs.lstatSync(p)
        return st.uid !== uid || st.gid !== gid
      })
  const readMailbox = async (user: string) => {
    const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user, pass: 'pw' } })
    await c.connect()
    const out = new Map<string, { subject: string; flags: string[]; date: number; digest: string }[]>()
    for (const box of await c.list()) {
      const lock = await c.getMailboxLock(box.path)
      const msgs: { subject: string; flags: string[]; date: number; digest: string }[] = []
      if ((c.mailbox as { exists: number }).exists > 0)
        for await (const m of c.fetch('1:*', { flags: true, internalDate: true, envelope: true, source: true }))
          msgs.push({
            subject: m.envelope?.subject ?? '',
            flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
            date: new Date(m.internalDate ?? 0).getTime(),
            digest: sha256(m.source ?? Buffer.alloc(0)),
          })
      lock.release()
      out.set(box.path, msgs)
    }
    await c.logout()
    return out
  }

  beforeAll(async () => {
    d = await startDovecot({})
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'Europe/Rome']
    const r = run('--json', 'demo', 'end', END)
    if (r.code !== 0) throw new Error(r.stderr)
    meta = JSON.parse(r.stdout).accounts[0]
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('doUndelete: a dry run plans the mass deletion, writes nothing, and tags and un-deletes each item', () => {
    const from = new Date(Date.parse(meta.massDeletionAt) - 1000).toISOString()
    const to = new Date(Date.parse(meta.massDeletionAt) + 600_000).toISOString()
    const r = run('--json', 'doUndelete', 'alice@example.com', from, to, 'dry_run', 'true')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout).plan
    const search = JSON.parse(run('--json', 'doItemSearch', 'alice@example.com', 'after', from, 'before', to, 'type', 'all').stdout)
    expect(plan.counts.items + plan.counts.unrestorable).toBe(search.count)
    expect(plan.counts.items).toBeGreaterThan(500)
    // Carbonio's tag: the day the undelete runs, in the zone of --tz.
    const tag = `undelete_${DateTime.now().setZone('Europe/Rome').toFormat('dd_MM_yy')}`
    for (const i of plan.items) {
      expect(i.tags).toContain(tag)
      expect(i.flags).not.toContain('\\Deleted')
    }
    expect(new Set(plan.items.map((i: { folder: string }) => i.folder.split('/')[0]))).toEqual(new Set(['Inbox', 'Projects']))
  })

  it('doUndelete into a Maildir: Dovecot serves every message with its folder, flags, keyword, date and bytes; a re-run skips all', async () => {
    const from = new Date(Date.parse(meta.massDeletionAt) - 1000).toISOString()
    const to = new Date(Date.parse(meta.massDeletionAt) + 600_000).toISOString()
    const maildir = restoreDir('alice-undelete')
    const r = run('--json', 'doUndelete', 'alice@example.com', from, to, 'target', `maildir:${maildir}`)
    expect(r.code).toBe(0)
    const rep = JSON.parse(r.stdout)
    const plan = JSON.parse(run('--json', 'doUndelete', 'alice@example.com', from, to, 'dry_run', 'true').stdout).plan
    expect(rep.restored).toBe(plan.counts.items)
    d.addUserWithMaildir('undeleted', 'pw', maildir)
    const boxes = await readMailbox('undeleted')
    const served = [...boxes.values()].flat()
    expect(served).toHaveLength(plan.counts.items)
    const blobs = fsBlobStore(path.join(dir, 'blobs'))
    const byDigest = new Map(plan.items.map((i: { digest: string }) => [i.digest, i]))
    for (const m of served) {
      const p = byDigest.get(m.digest) as { flags: string[]; tags: string[]; internalDate: string; digest: string } | undefined
      expect(p).toBeDefined()
      expect(m.flags).toEqual([...p!.flags, ...p!.tags].sort())
      expect(m.date).toBe(Math.floor(Date.parse(p!.internalDate) / 1000) * 1000)
      expect(E.isRight(blobs.get(m.digest))).toBe(true)
    }
    expect([...boxes.keys()].sort()).toEqual(expect.arrayContaining(['INBOX', 'Projects', 'Projects.Alpha']))
    const again = JSON.parse(run('--json', 'doUndelete', 'alice@example.com', from, to, 'target', `maildir:${maildir}`).stdout)
    expect(again).toMatchObject({ restored: 0, skipped: plan.counts.items })
  })

  it('doRestoreOnNewAccount as of before the wipe recreates the account as it was, folder by folder', async () => {
    const before = new Date(Date.parse(meta.massDeletionAt) - 60_000).toISOString()
    const view = JSON.parse(run('--json', 'getAccountState', 'alice@example.com', 'date', before).stdout)
    const maildir = restoreDir('alice-copy')
    const r = run('--json', 'doRestoreOnNewAccount', 'alice@example.com', 'alice.copy@example.com', before, 'target', `maildir:${maildir}`)
    expect([0, 7]).toContain(r.code)
    const rep = JSON.parse(r.stdout)
    const messages = view.items.filter((i: { itemType: string }) => i.itemType === 'message')
    // Every user folder is an item the restore recreates, and counts with the messages.
    const userFolders = view.folders.filter((f: { system: boolean }) => !f.system).map((f: { path: string }) => f.path)
    expect(userFolders.length).toBeGreaterThan(0)
    expect(rep.foldersRecreated.map((f: { path: string }) => f.path).sort()).toEqual(userFolders.sort())
    expect(rep.restored).toBe(messages.length + userFolders.length)
    expect(rep.unrestored.every((u: { reason: string }) => u.reason.includes('not a message'))).toBe(true)
    d.addUserWithMaildir('copy', 'pw', maildir)
    const boxes = await readMailbox('copy')
    const expected = new Map<string, number>()
    for (const m of messages) {
      const box = m.folderPath === '/Inbox' ? 'INBOX' : m.folderPath.slice(1).split('/').join('.')
      expected.set(box, (expected.get(box) ?? 0) + 1)
    }
    for (const [box, n] of expected) expect([box, boxes.get(box)?.length]).toEqual([box, n])
  })

  it('doItemRestore brings back one deleted message into its folder of the time, as a copy', async () => {
    const maildir = restoreDir('alice-item')
    const r = run('--json', 'doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'target', `maildir:${maildir}`)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).idMap[0].location).toMatch(/^\.Trash\/cur\//)
    expect(run('doItemRestore', 'alice@example.com', '99999999', 'dry_run', 'true').code).toBe(3)
    const into = JSON.parse(
      run('--json', 'doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'restore_folder', '../Escape/Here', 'target', `maildir:${maildir}`).stdout,
    )
    expect(into.idMap[0].location).toMatch(/^\.__\.Escape\.Here\/cur\//)
    expect(fs.existsSync(path.join(path.dirname(maildir), 'Escape'))).toBe(false)
  })

  it('a Maildir tree is served by Dovecot exactly as written: INBOX and nested folders in full Maildir++ layout, every file owned by the owner asked for', async () => {
    const from = new Date(Date.parse(meta.massDeletionAt) - 1000).toISOString()
    const to = new Date(Date.parse(meta.massDeletionAt) + 600_000).toISOString()
    // A directory that does not exist yet, under one of root's (the tests run as root, as Mailtime often does).
    const maildir = restoreDir('alice-owner')
    const r = run('--json', 'doUndelete', 'alice@example.com', from, to, 'target', `maildir:${maildir}`, 'owner', 'mail')
    expect([r.code, r.stderr]).toEqual([0, ''])
    const rep = JSON.parse(r.stdout)
    expect(notOwnedBy(maildir, 8, 8)).toEqual([])
    d.addUserWithMaildir('owned', 'pw', maildir, { asIs: true })
    const boxes = await readMailbox('owned')
    expect([...boxes.values()].flat()).toHaveLength(rep.restored)
    expect([...boxes.keys()].sort()).toEqual(expect.arrayContaining(['INBOX', 'Projects', 'Projects.Alpha']))
    expect(boxes.get('INBOX')?.length).toBeGreaterThan(0)
    // Subscribed, as the IMAP target subscribes what it creates: clients that show subscribed folders only see them.
    const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user: 'owned', pass: 'pw' } })
    await c.connect()
    const unsubscribed = (await c.list()).filter((b) => b.path !== 'INBOX' && b.subscribed !== true).map((b) => b.path)
    await c.logout()
    expect(unsubscribed).toEqual([])
  })

  it('without owner, the tree belongs to the owner of the target directory, and INBOX has cur/new/tmp even when nothing is restored into it', async () => {
    const maildir = restoreDir('alice-default-owner')
    fs.mkdirSync(maildir)
    fs.chownSync(maildir, 8, 8)
    // The showcase item was deleted from Trash: nothing goes into INBOX.
    const r = run('--json', 'doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'target', `maildir:${maildir}`)
    expect([r.code, r.stderr]).toEqual([0, ''])
    for (const sub of ['cur', 'new', 'tmp']) expect([sub, fs.statSync(path.join(maildir, sub)).isDirectory()]).toEqual([sub, true])
    expect(notOwnedBy(maildir, 8, 8)).toEqual([])
    d.addUserWithMaildir('defaultowner', 'pw', maildir, { asIs: true })
    const boxes = await readMailbox('defaultowner')
    expect(boxes.get('INBOX')).toEqual([])
    expect(boxes.get('Trash')).toHaveLength(1)
  })

  it('an owner that does not exist is refused before anything is written, naming the attribute; a tree left to root is reported', () => {
    const maildir = restoreDir('alice-bad-owner')
    const bad = run('doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'target', `maildir:${maildir}`, 'owner', 'no-such-user-here')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/^mailtime: owner: no user named "no-such-user-here"/)
    expect(fs.existsSync(maildir)).toBe(false)
    expect(run('doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'dry_run', 'true', 'owner', 'no-such-user-here').code).toBe(2)
    const rootOwned = run('doItemRestore', 'alice@example.com', String(meta.showcaseItem), 'target', `maildir:${maildir}`)
    expect(rootOwned.code).toBe(0)
    expect(rootOwned.stdout).toContain('warning: the Maildir tree is owned by root')
    expect(notOwnedBy(maildir, 0, 0)).toEqual([])
  })
})
