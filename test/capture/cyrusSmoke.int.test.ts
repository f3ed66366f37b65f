/**
 * A discovery run on a second real IMAP server (issue 23): Cyrus IMAP 3.6 on loopback
 * (test/support/cyrus.ts), with the real CLI. An account is scanned as the admin on behalf of the
 * user, changed by a plain IMAP client (moves, flags, keywords, deletions, renames, nested folders, a
 * folder created where no parent existed), scanned again, and restored back into Cyrus
 * (`doUndelete`, `doRestoreOnNewAccount` with a provisioner that creates the Cyrus account).
 *
 * Every test states what the product should do on any IMAP server. Where it does not yet on Cyrus
 * (a Dovecot-shaped assumption), the test is `it.failing` and its comment gives the exact symptom,
 * so that it starts passing, and jest says so, the day the product is fixed.
 *
 * Cyrus here: `altnamespace: yes` (folders beside INBOX), `unixhierarchysep: yes` (separator `/`).
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Cyrus, cyrusAvailable, removeCyrus, startCyrus } from '../support/cyrus'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { type Item, type Seen, expectedMessages, message, readMessages, withClient } from '../support/imapServers'
import { sha256 } from '../../src/blobs/blobStore'

jest.setTimeout(120_000)

const msg = (subject: string, id: string, body = 'Hello') => message('alice', subject, id, body)

/** What a Cyrus account holds, read over IMAP by a plain client: one entry per message, with the bytes' digest. */
const readAccount = (c: Cyrus, user: string): Promise<Seen[]> => withClient(c.clientAs(user), (x) => readMessages(x))

/** The folders of a Cyrus account, as LIST gives them (path and flags). */
const foldersOf = async (c: Cyrus, user: string): Promise<string[]> => {
  const client = c.clientAs(user)
  await client.connect()
  try {
    return (await client.list()).map((l) => l.path).sort()
  } finally {
    await client.logout()
  }
}

/** The IMAP path on this Cyrus of a folder path as the backup shows it (`/Inbox/Sub` is `INBOX/Sub`). */
const imapPathOf = (displayPath: string): string => {
  const [first = '', ...rest] = displayPath.slice(1).split('/')
  return [first.toLowerCase() === 'inbox' ? 'INBOX' : first, ...rest].join('/')
}

/** The account as the store says it was, in the shape `readAccount` reads. */
const expected = (items: readonly Item[], extraTags: readonly string[] = []): Seen[] => expectedMessages(items, imapPathOf, extraTags)

describeWithService(cyrusAvailable(), 'Cyrus')('Cyrus IMAP 3.6: capture and restore with the real CLI (discovery run)', () => {
  let cyrus: Cyrus
  let dir: string
  let env: Record<string, string>
  /** After the first scans, before the changes: what doRestoreOnNewAccount recreates. */
  let t0 = ''
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (...args: string[]) => mailtime([...store(), ...args], env)
  const runJson = (...args: string[]) => {
    const r = run('--json', ...args)
    if (r.code !== 0 && r.code !== 7) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout)
  }
  const scan = (account = 'alice') => runJson('doAccountScan', account)
  const state = (date?: string): { folders: { path: string; itemCount: number }[]; items: Item[] } =>
    runJson('getAccountState', 'alice', ...(date !== undefined ? ['date', date] : []))
  const folderCounts = (s: { folders: { path: string; itemCount: number }[] }) => Object.fromEntries(s.folders.map((f) => [f.path, f.itemCount]))
  const item = (s: { items: Item[] }, subject: string) => s.items.find((i) => i.subject === subject)
  /** A plain IMAP client as alice, for the changes a user makes. */
  const asAlice = <A>(f: (c: ReturnType<Cyrus['clientAs']>) => Promise<A>): Promise<A> => withClient(cyrus.clientAs('alice'), f)
  const uidsIn = async (c: ReturnType<Cyrus['clientAs']>, folder: string): Promise<Record<string, number>> => {
    const lock = await c.getMailboxLock(folder)
    try {
      const uids: Record<string, number> = {}
      for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uids[m.envelope?.subject ?? ''] = m.uid
      return uids
    } finally {
      lock.release()
    }
  }

  beforeAll(async () => {
    cyrus = await startCyrus(['alice', 'bob'])
    dir = tmpDir()
    const config = path.join(dir, 'mailtime.json')
    fs.writeFileSync(config, JSON.stringify({ provisioning: cyrus.provisioning() }))
    env = { MAILTIME_IMAP_URL: cyrus.url, MAILTIME_IMAP_USER: cyrus.admin.user, MAILTIME_IMAP_PASSWORD: cyrus.admin.password, MAILTIME_CONFIG: config }
  })
  afterAll(async () => {
    if (cyrus !== undefined) await removeCyrus(cyrus)
    cleanupTmp()
  })

  it('the harness: users created through IMAP, the admin acts on their behalf, OBJECTID and LIST-STATUS offered, NOTIFY not', async () => {
    expect(await cyrus.userExists('alice')).toBe(true)
    expect(await cyrus.userExists('carol')).toBe(false)
    const caps = await asAlice(async (c) => {
      // On behalf of alice, her INBOX is "INBOX", and nothing of the admin's view (user/…) shows.
      expect((await c.list()).map((l) => l.path)).toEqual(['INBOX'])
      return [...c.capabilities.keys()]
    })
    expect(caps).toEqual(expect.arrayContaining(['OBJECTID', 'LIST-STATUS', 'CONDSTORE', 'MOVE', 'MULTIAPPEND', 'UIDPLUS']))
    expect(caps).not.toContain('NOTIFY')
  })

  it('the first scan records every folder and message, a folder under INBOX under the Inbox, bodies byte for byte', async () => {
    await asAlice(async (c) => {
      await c.mailboxCreate('Projects')
      await c.mailboxCreate('Trash')
      await c.mailboxCreate('Projects/Alpha')
      await c.mailboxCreate('INBOX/Receipts')
      await c.mailboxCreate('Someday')
      await c.append('INBOX', msg('Budget', 'm1'), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
      await c.append('INBOX', msg('Travel', 'm2'), [], new Date('2026-03-02T11:00:00Z'))
      await c.append('INBOX', msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000)), ['$Work'], new Date('2026-03-02T12:00:00Z'))
      await c.append('INBOX', msg('Old news', 'm4'), ['\\Seen'], new Date('2026-02-20T09:00:00Z'))
      await c.append('INBOX', msg('Spam', 'm5'), [], new Date('2026-02-21T09:00:00Z'))
      await c.append('Projects/Alpha', msg('Spec', 'm6'), ['\\Flagged', 'Review'], new Date('2026-03-01T09:00:00Z'))
      await c.append('INBOX/Receipts', msg('Taxi', 'm7'), ['\\Seen'], new Date('2026-03-01T19:00:00Z'))
      // "/" separates levels here, so a dot is an ordinary character (on Dovecot's Maildir++ it separates).
      await c.mailboxCreate('Notes v1.2')
      await c.append('Notes v1.2', msg('Version', 'm10'), [], new Date('2026-03-01T20:00:00Z'))
    })
    const r = scan()
    expect(r.firstScan).toBe(true)
    expect(r.unreadFolders).toEqual([])
    const s = state()
    expect(folderCounts(s)).toMatchObject({ '/Inbox': 5, '/Inbox/Receipts': 1, '/Notes v1.2': 1, '/Projects': 0, '/Projects/Alpha': 1, '/Someday': 0, '/Trash': 0 })
    expect(item(s, 'Budget')).toMatchObject({ folderPath: '/Inbox', flags: ['\\Seen'], tags: [], createdAt: '2026-03-02T10:00:00.000Z', digest: sha256(msg('Budget', 'm1')) })
    expect(item(s, 'Spec')).toMatchObject({ folderPath: '/Projects/Alpha', flags: ['\\Flagged'], tags: ['Review'] })
    expect(item(s, 'Lunch')).toMatchObject({ tags: ['$Work'], digest: sha256(msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000))) })
    expect(item(s, 'Taxi')).toMatchObject({ folderPath: '/Inbox/Receipts' })
    expect(item(s, 'Version')).toMatchObject({ folderPath: '/Notes v1.2' })
  })

  it('a folder created where no parent mailbox existed: Cyrus creates the parent as a mailbox, and the backup records both, the child under it', async () => {
    await asAlice(async (c) => {
      await c.mailboxCreate('Lone/Child')
      await c.append('Lone/Child', msg('Orphan', 'm8'), [], new Date('2026-03-03T09:00:00Z'))
    })
    // Unlike Dovecot's Maildir++ (where the parent stays \NonExistent), Cyrus 3.6 makes "Lone" a real mailbox.
    expect(await foldersOf(cyrus, 'alice')).toEqual(expect.arrayContaining(['Lone', 'Lone/Child']))
    const r = scan()
    expect(r.foldersCreated).toBe(2)
    const s = state()
    expect(folderCounts(s)).toMatchObject({ '/Lone': 0, '/Lone/Child': 1 })
    expect(item(s, 'Orphan')?.folderPath).toBe('/Lone/Child')
    t0 = new Date().toISOString()
  })

  it('a later scan records only the changes: a move keeps the identity, flags, keywords, an expunge, new mail, a nested rename, a new folder', async () => {
    const before = state()
    const id = (subject: string) => item(before, subject)?.itemId
    await asAlice(async (c) => {
      const uids = await uidsIn(c, 'INBOX')
      const lock = await c.getMailboxLock('INBOX')
      try {
        await c.messageMove(String(uids.Travel), 'Projects', { uid: true })
        await c.messageFlagsAdd(String(uids.Budget), ['\\Flagged', 'Invoice'], { uid: true })
        await c.messageDelete(String(uids.Lunch), { uid: true })
        await c.messageDelete(String(uids['Old news']), { uid: true })
        await c.messageMove(String(uids.Spam), 'Trash', { uid: true })
      } finally {
        lock.release()
      }
      await c.append('INBOX', msg('New mail', 'm9'), [], new Date('2026-03-05T08:00:00Z'))
      await c.mailboxRename('Projects/Alpha', 'Projects/Alpha 2026')
      await c.mailboxCreate('Archive')
    })
    const r = scan()
    expect(r).toMatchObject({ firstScan: false, foldersRenamed: 1, foldersCreated: 1, foldersDeleted: 0 })
    const after = state()
    expect(item(after, 'Travel')).toMatchObject({ itemId: id('Travel'), folderPath: '/Projects' })
    expect(item(after, 'Spam')).toMatchObject({ itemId: id('Spam'), folderPath: '/Trash' })
    expect(item(after, 'Budget')).toMatchObject({ itemId: id('Budget'), flags: ['\\Flagged', '\\Seen'], tags: ['Invoice'] })
    expect(item(after, 'Lunch')).toBeUndefined()
    expect(item(after, 'Old news')).toBeUndefined()
    expect(item(after, 'Spec')).toMatchObject({ itemId: id('Spec'), folderPath: '/Projects/Alpha 2026' })
    expect(item(after, 'New mail')).toBeDefined()
    expect(after.folders.map((f) => f.path)).toContain('/Archive')
    const hist = runJson('getItem', 'alice', String(id('Lunch')), 'date', 'all')
    expect(hist.versions.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
  })

  it('renaming a folder that has children renames the subtree (Cyrus keeps every UIDVALIDITY): same items, same ids, new paths', async () => {
    const before = state()
    await asAlice((c) => c.mailboxRename('Projects', 'Work'))
    expect(await foldersOf(cyrus, 'alice')).toEqual(expect.arrayContaining(['Work', 'Work/Alpha 2026']))
    scan()
    const after = state()
    expect(item(after, 'Travel')).toMatchObject({ itemId: item(before, 'Travel')?.itemId, folderPath: '/Work' })
    expect(item(after, 'Spec')).toMatchObject({ itemId: item(before, 'Spec')?.itemId, folderPath: '/Work/Alpha 2026' })
    const ids = (s: ReturnType<typeof state>) => s.items.map((i) => i.itemId).sort()
    expect(ids(after)).toEqual(ids(before))
    expect(after.folders.map((f) => f.path)).not.toContain('/Projects')
  })

  it('moving a folder out of its parent to the top level records the move of the folder; its messages follow it', async () => {
    const before = state()
    await asAlice((c) => c.mailboxRename('Work/Alpha 2026', 'Alpha 2026'))
    scan()
    const after = state()
    expect(item(after, 'Spec')).toMatchObject({ itemId: item(before, 'Spec')?.itemId, folderPath: '/Alpha 2026' })
    expect(after.folders.map((f) => f.path)).not.toContain('/Work/Alpha 2026')
    expect(folderCounts(after)).toMatchObject({ '/Alpha 2026': 1, '/Work': 1 })
  })

  it('emptying Trash and deleting a folder with a message record the deletions', async () => {
    await asAlice(async (c) => {
      const lock = await c.getMailboxLock('Trash')
      try {
        await c.messageDelete('1:*')
      } finally {
        lock.release()
      }
      await c.mailboxDelete('Lone/Child')
    })
    const r = scan()
    expect(r.foldersDeleted).toBe(1)
    const s = state()
    expect(item(s, 'Spam')).toBeUndefined()
    expect(item(s, 'Orphan')).toBeUndefined()
    expect(s.folders.map((f) => f.path)).not.toContain('/Lone/Child')
    const deleted = runJson('doItemSearch', 'alice')
      .items.map((i: { subject: string }) => i.subject)
      .sort()
    expect(deleted).toEqual(['Lunch', 'Old news', 'Orphan', 'Spam'])
  })

  it('appends nothing when nothing changed, and survives a UIDVALIDITY change without duplicates', async () => {
    expect(scan().eventsAppended).toBe(0)
    const before = state()
    await asAlice(async (c) => {
      // Recreating a folder gives it a new UIDVALIDITY: its messages must be matched, not duplicated.
      await c.mailboxRename('INBOX/Receipts', 'Tmp')
      await c.mailboxCreate('INBOX/Receipts')
      const lock = await c.getMailboxLock('Tmp')
      try {
        await c.messageMove('1:*', 'INBOX/Receipts')
      } finally {
        lock.release()
      }
      await c.mailboxDelete('Tmp')
    })
    scan()
    const after = state()
    expect(after.items.map((i) => i.itemId).sort()).toEqual(before.items.map((i) => i.itemId).sort())
    expect(item(after, 'Taxi')?.folderPath).toBe('/Inbox/Receipts')
  })

  // Dovecot-shaped: on Dovecot the login on behalf of an unknown user is refused (its passdb has no
  // such user), so the scan fails with exit 6. Cyrus lets the admin act on behalf of any name, and
  // the user simply has no mailbox: the scan exits 0 with {firstScan: true, eventsAppended: 1 (an
  // AccountCreated), folders: []}, and a mistyped name becomes an empty account in the backup.
  it.failing('scanning an account that does not exist on the server fails, naming it, and records nothing', () => {
    const r = run('--json', 'doAccountScan', 'carol')
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('carol')
    expect(run('getAccountInfo', 'carol').code).toBe(3)
  })

  // Dovecot-shaped: docs/restore.md says that without a provisioner the destination account "must
  // exist already", and on Dovecot the login for it is refused. On Cyrus the restore logs in on
  // behalf of the unknown name, finds no INBOX, sends CREATE INBOX, and Cyrus creates the account
  // user/ghost: exit 0, state "done", the message restored into an account nobody provisioned.
  it.failing('without a provisioner, a restore into an account that does not exist fails and creates nothing', async () => {
    // bob holds one message, in INBOX: INBOX is the first (and only) folder the restore creates.
    await (async () => {
      const c = cyrus.clientAs('bob')
      await c.connect()
      await c.append('INBOX', msg('Hello Bob', 'b1'), [], new Date('2026-03-01T10:00:00Z'))
      await c.logout()
    })()
    scan('bob')
    const { MAILTIME_CONFIG: _provisioner, ...noProvisioner } = env
    const r = mailtime([...store(), '--json', 'doRestoreOnNewAccount', 'bob', 'ghost', 'last'], noProvisioner)
    expect({ code: r.code, ghostCreated: await cyrus.userExists('ghost') }).toEqual({ code: 6, ghostCreated: false })
  })

  // Found here: when the first folder the restore creates is not INBOX ("Alpha 2026" sorts first),
  // Cyrus refuses it for an account that does not exist (`CREATE "Alpha 2026"` -> `NO Permission
  // denied`), and the restore fails (exit 6, state "failed", nothing created, which is right), but
  // its error is only `imap://…:<port> as admin (account ghost2): Command failed`: neither the
  // command, the folder nor the server's answer.
  it.failing('a restore the server refuses says what the server answered, and to which command', () => {
    const { MAILTIME_CONFIG: _provisioner, ...noProvisioner } = env
    const r = mailtime([...store(), '--json', 'doRestoreOnNewAccount', 'alice', 'ghost2', 'last'], noProvisioner)
    expect(r.code).toBe(6)
    const out = JSON.parse(r.stdout) as { state: string; error: string }
    expect(out.state).toBe('failed')
    expect(out.error).toContain('Alpha 2026')
    expect(out.error).not.toMatch(/Command failed$/)
  })

  it('doUndelete restores into Cyrus what was deleted, in its folders (a deleted one recreated), tagged, without \\Deleted, byte for byte; a re-run skips it all', async () => {
    const asOfT0 = state(t0).items.filter((i) => ['Lunch', 'Old news', 'Orphan'].includes(i.subject))
    // Spam was in Trash when Trash was emptied: that is where it comes back.
    const spam = { ...(item(state(t0), 'Spam') as Item), folderPath: '/Trash' }
    const r = runJson('doUndelete', 'alice', 'first', 'last')
    // Restored: the 4 messages and the deleted folder Lone/Child (a folder item counts as restored).
    expect(r).toMatchObject({ restored: 5, skipped: 0 })
    const now = new Date()
    const tag = `undelete_${String(now.getUTCDate()).padStart(2, '0')}_${String(now.getUTCMonth() + 1).padStart(2, '0')}_${String(now.getUTCFullYear() % 100).padStart(2, '0')}`
    const inAccount = await readAccount(cyrus, 'alice')
    const back = inAccount.filter((m) => ['Lunch', 'Old news', 'Orphan', 'Spam'].includes(m.subject))
    expect(back).toEqual(expected([...asOfT0, spam], [tag]))
    const again = runJson('doUndelete', 'alice', 'first', 'last')
    expect(again).toMatchObject({ restored: 0, skipped: 5 })
    expect(await readAccount(cyrus, 'alice')).toEqual(inAccount)
  })

  // Found here first (issue 17.7, fixed since): a deleted folder in the undelete window is an item
  // the restore recreates and counts as restored, never an unrestorable one.
  it('doUndelete does not count a deleted folder as an unrestored item: the folder comes back with its messages', () => {
    const dry = runJson('doUndelete', 'alice', 'first', 'last', 'dry_run', 'true')
    expect(dry.plan.items.map((i: { subject: string }) => i.subject)).toContain('Orphan')
    expect(dry.plan.unrestorable).toEqual([])
  })

  it('the next scan recognises the undeleted messages as restored, not as new mail', () => {
    const r = scan()
    const count = (k: 'restored' | 'created') => (r.folders as { restored: number; created: number }[]).reduce((n, f) => n + f[k], 0)
    expect({ restored: count('restored'), created: count('created') }).toEqual({ restored: 4, created: 0 })
  })

  // Found by the integration of the restore work: the re-run answered {restored: 0, skipped: 5} and
  // exit 7, Taxi unrestored with "the server refused to create Inbox/Receipts: Mailbox already
  // exists": the restore named the folder as the backup shows it, and Cyrus keeps INBOX's name as
  // is (a child of INBOX is INBOX/Receipts). Fixed: a folder below the Inbox is written below INBOX.
  it('a message deleted from a folder under INBOX is undeleted back into it', async () => {
    await asAlice(async (c) => {
      const lock = await c.getMailboxLock('INBOX/Receipts')
      try {
        await c.messageDelete('1:*')
      } finally {
        lock.release()
      }
    })
    expect(scan().folders.find((f: { serverPath: string }) => f.serverPath === 'INBOX/Receipts')).toMatchObject({ deleted: 1 })
    // Skipped: the 4 messages and the folder Lone/Child that the earlier undelete brought back.
    const r = run('--json', 'doUndelete', 'alice', 'first', 'last')
    expect({ code: r.code, report: JSON.parse(r.stdout) }).toMatchObject({ code: 0, report: { restored: 1, skipped: 5, unrestored: [] } })
    expect((await readAccount(cyrus, 'alice')).filter((m) => m.subject === 'Taxi').map((m) => m.folder)).toEqual(['INBOX/Receipts'])
  })

  // Found here: the restore named the folder as the backup shows it, "Inbox/Receipts", and recorded
  // the location `Inbox/Receipts;<uidvalidity>;<uid>`; the next scan did not find the message by
  // "INBOX/Receipts" and recorded it as new mail. Fixed with the folder written below INBOX.
  it('a message undeleted into a folder under INBOX is recognised by the next scan as restored, not as new mail', () => {
    expect(scan().folders.find((f: { serverPath: string }) => f.serverPath === 'INBOX/Receipts')).toMatchObject({ restored: 1, created: 0 })
  })

  it('doRestoreOnNewAccount creates the Cyrus account (command provisioner) and recreates every message of the source as of the date: folders, flags, keywords, dates, bytes', async () => {
    const before = state(t0).items
    expect(before.map((i) => i.subject).sort()).toEqual(['Budget', 'Lunch', 'Old news', 'Orphan', 'Spam', 'Spec', 'Taxi', 'Travel', 'Version'])
    expect(await cyrus.userExists('alice.restored')).toBe(false)
    // Every folder of the source is an item too, restored with the messages.
    const folderItems = runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0, 'dry_run', 'true').plan.folderItems.length
    const r = runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0)
    expect(r).toMatchObject({ state: 'done', restored: before.length + folderItems, skipped: 0, unrestored: [] })
    expect(await cyrus.userExists('alice.restored')).toBe(true)
    expect(await readAccount(cyrus, 'alice.restored')).toEqual(expected(before))
  })

  // Found here, not specific to Cyrus: docs/restore.md says "the full tree is recreated", but a
  // restore plan's folders come only from its items' folders (domain/restore/plan.ts, foldersOf), so
  // the source's empty folders are not created: the restored account lists INBOX, INBOX/Receipts,
  // Lone, Lone/Child, Notes v1.2, Projects, Projects/Alpha, without "Someday" (an empty user folder) and "Trash"
  // (empty at that date). The Dovecot suite compares messages only, so it never saw this.
  it.failing('doRestoreOnNewAccount recreates the whole folder tree as of the date, empty folders included', async () => {
    expect(await foldersOf(cyrus, 'alice.restored')).toEqual(['INBOX', 'INBOX/Receipts', 'Lone', 'Lone/Child', 'Notes v1.2', 'Projects', 'Projects/Alpha', 'Someday', 'Trash'])
  })
})
