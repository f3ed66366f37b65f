/**
 * A mail_log line names a mailbox and a UID, never which incarnation of them: a mailbox deleted and
 * created again restarts its UIDs, and an undelete recreates a folder under its old name. These
 * tests make such changes against a real Dovecot (with a plain IMAP client) and check that the
 * import resolves each line to the item that existed at the line's instant, and that a scan after
 * the import records nothing the log already pinned.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

interface Version {
  cause: string
  validFrom: string
  state: { folderPath?: string; status: string; subject?: string }
}

describeWithService(dovecotAvailable(), 'Dovecot')('mail_log lines resolved to the item that existed at their instant', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ frank: 'frankpw', gina: 'ginapw', hugo: 'hugopw', ivan: 'ivanpw' })
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  const env = () => ({ MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' })
  const newStore = () => {
    const db = path.join(tmpDir(), 'm.db')
    return { db, args: ['--store', `sqlite:${db}`, '--tz', 'UTC'] }
  }
  /** Waits until Dovecot's log holds a line matching `re` (its log process writes asynchronously). */
  const logged = async (re: RegExp): Promise<void> => {
    for (let i = 0; i < 200; i++) {
      if (re.test(fs.readFileSync(d.logPath, 'utf8'))) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`Dovecot never logged ${re}`)
  }
  /** Every item's events in the store, by item id, each with its type and instant. */
  const eventsByItem = (db: string, account: string): Map<number, { type: string; at: number }[]> => {
    const Database = require('better-sqlite3') as typeof import('better-sqlite3')
    const h = new Database(db, { readonly: true })
    try {
      const rows = h
        .prepare('SELECT item_id AS item, type, occurred_at AS at FROM events WHERE stream = ? AND item_id IS NOT NULL ORDER BY global_position')
        .all(`account-${account}`) as { item: number; type: string; at: number }[]
      const out = new Map<number, { type: string; at: number }[]>()
      for (const r of rows) (out.get(r.item) ?? out.set(r.item, []).get(r.item))?.push({ type: r.type, at: r.at })
      return out
    } finally {
      h.close()
    }
  }
  /** No item has an event dated before its creation. */
  const nothingBeforeCreation = (db: string, account: string): void => {
    const all = eventsByItem(db, account)
    expect(all.size).toBeGreaterThan(0)
    for (const [item, evs] of all) {
      const created = Math.min(...evs.filter((e) => e.type === 'ItemCreated').map((e) => e.at))
      const early = evs.filter((e) => e.type !== 'ItemCreated' && e.at < created)
      expect({ item, early }).toEqual({ item, early: [] })
    }
  }
  const msg = (s: string) => Buffer.from(`Subject: ${s}\r\nMessage-ID: <${s}@test>\r\n\r\n${s}\r\n`)

  it('matches the expunges of a mailbox deleted and created again to its old messages, not to the new ones with the same UIDs', async () => {
    const s = newStore()
    const c = clientAs(d, 'frank')
    await c.connect()
    await c.mailboxCreate('X')
    for (const n of ['Old1', 'Old2', 'Old3']) await c.append('X', msg(n), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...s.args, 'doAccountScan', 'frank'], env()).code).toBe(0)
    const before = JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'frank'], env()).stdout) as {
      items: { subject: string; itemId: number }[]
      folders: { path: string; folderId: number }[]
    }
    const oldIds = before.items.map((i) => i.itemId)
    expect(oldIds).toHaveLength(3)
    await c.mailboxDelete('X')
    await c.mailboxCreate('X')
    for (const n of ['New1', 'New2', 'New3']) await c.append('X', msg(n))
    await c.logout()
    const changedBy = Date.now()
    await logged(/imap\(frank\).*save: box=X, uid=3, msgid=<New3@test>/)
    expect(mailtime([...s.args, 'doAccountScan', 'frank'], env()).code).toBe(0)
    const scanned = JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'frank'], env()).stdout)

    const first = mailtime([...s.args, '--json', 'importLog', d.logPath, 'account', 'frank'], env())
    expect(first.code).toBe(0)
    const again = mailtime([...s.args, '--json', 'importLog', d.logPath, 'account', 'frank'], env())
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).appended).toBe(0)

    // The server holds X with its three new messages; so does the backup, as of now.
    const after = JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'frank'], env()).stdout) as {
      items: { subject: string; folderPath: string }[]
      folders: { path: string }[]
    }
    expect(after.items.map((i) => [i.subject, i.folderPath]).sort()).toEqual([
      ['New1', '/X'],
      ['New2', '/X'],
      ['New3', '/X'],
    ])
    expect(after.folders.map((f) => f.path)).toContain('/X')
    expect(after.items.length).toBe(scanned.items.length)
    // Each old message has one deletion, at the instant the server logged it (before the scan).
    const hist = (id: number) => JSON.parse(mailtime([...s.args, '--json', 'getItem', 'frank', String(id), 'date', 'all'], env()).stdout).versions as Version[]
    for (const id of oldIds) {
      const h = hist(id)
      expect(h.map((v) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
      expect(Date.parse(h[1]?.validFrom ?? '')).toBeLessThanOrEqual(changedBy)
    }
    // The folder was deleted at the instant the server logged, and exists again from its creation.
    const x = before.folders.find((f) => f.path === '/X')?.folderId as number
    const xh = hist(x)
    expect(xh.map((v) => [v.cause, v.state.status])).toEqual([
      ['ItemCreated', 'live'],
      ['ItemDeleted', 'deleted'],
      ['ItemCreated', 'live'],
    ])
    expect(Date.parse(xh[1]?.validFrom ?? '')).toBeLessThanOrEqual(changedBy)
    nothingBeforeCreation(s.db, 'frank')
    // And the next scan finds nothing left to record.
    expect(JSON.parse(mailtime([...s.args, '--json', 'doAccountScan', 'frank'], env()).stdout).eventsAppended).toBe(0)
  })

  it('leaves nothing for the next scan to record about a folder deletion the log already pinned', async () => {
    const s = newStore()
    const c = clientAs(d, 'gina')
    await c.connect()
    await c.mailboxCreate('Y')
    for (const n of ['Y1', 'Y2']) await c.append('Y', msg(n), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...s.args, 'doAccountScan', 'gina'], env()).code).toBe(0)
    const y = (JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'gina'], env()).stdout).folders as { path: string; folderId: number }[]).find((f) => f.path === '/Y')
      ?.folderId as number
    await c.mailboxDelete('Y')
    await c.logout()
    await logged(/imap\(gina\).*Mailbox deleted: Y/)
    const imp = mailtime([...s.args, '--json', 'importLog', d.logPath, 'account', 'gina'], env())
    expect(imp.code).toBe(0)
    expect(JSON.parse(imp.stdout).byType).toEqual({ ItemDeleted: 3 })

    const scan = mailtime([...s.args, '--json', 'doAccountScan', 'gina'], env())
    expect(scan.code).toBe(0)
    const report = JSON.parse(scan.stdout) as { eventsAppended: number; foldersDeleted: number; folders: { path: string }[] }
    expect(report.eventsAppended).toBe(0)
    expect(report.foldersDeleted).toBe(0)
    expect(report.folders.map((f) => f.path).filter((p) => p.includes('unknown'))).toEqual([])
    const hist = JSON.parse(mailtime([...s.args, '--json', 'getItem', 'gina', String(y), 'date', 'all'], env()).stdout).versions as Version[]
    expect(hist.map((v) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
    expect(JSON.stringify(hist)).not.toContain('unknown_')
    // The checkpoint no longer maps Y: a second scan finds nothing either.
    expect(JSON.parse(mailtime([...s.args, '--json', 'doAccountScan', 'gina'], env()).stdout).eventsAppended).toBe(0)
  })

  it('deletes the folder that had the name when the server logged its deletion, not the one an undelete created under that name later', async () => {
    const s = newStore()
    d.doveadm('mailbox', 'create', '-u', 'hugo', 'Lists.python-dev')
    const c = clientAs(d, 'hugo')
    await c.connect()
    for (const n of ['Py1', 'Py2']) await c.append('Lists.python-dev', msg(n), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...s.args, 'doAccountScan', 'hugo'], env()).code).toBe(0)
    const folderOf = () =>
      (JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'hugo'], env()).stdout).folders as { path: string; folderId: number }[]).find(
        (f) => f.path === '/Lists/python-dev',
      )?.folderId
    const old = folderOf() as number
    await c.mailboxDelete('Lists.python-dev')
    await c.logout()
    const changedBy = Date.now()
    await logged(/imap\(hugo\).*Mailbox deleted: Lists\.python-dev/)
    expect(mailtime([...s.args, 'doAccountScan', 'hugo'], env()).code).toBe(0)
    const undo = mailtime([...s.args, 'doUndelete', 'hugo', 'first', 'last'], env())
    expect({ code: undo.code, stderr: undo.stderr }).toEqual({ code: 0, stderr: '' })
    expect(mailtime([...s.args, 'doAccountScan', 'hugo'], env()).code).toBe(0)
    const again = folderOf() as number
    expect(again).not.toBe(old)

    for (let i = 0; i < 2; i++) expect(mailtime([...s.args, '--json', 'importLog', d.logPath, 'account', 'hugo'], env()).code).toBe(0)
    const hist = (id: number) => JSON.parse(mailtime([...s.args, '--json', 'getItem', 'hugo', String(id), 'date', 'all'], env()).stdout).versions as Version[]
    const h = hist(old)
    expect(h.map((v) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
    expect(Date.parse(h[1]?.validFrom ?? '')).toBeLessThanOrEqual(changedBy)
    expect(hist(again).map((v) => [v.cause, v.state.status])).toEqual([['ItemCreated', 'live']])
    nothingBeforeCreation(s.db, 'hugo')
    const state = JSON.parse(mailtime([...s.args, '--json', 'getAccountState', 'hugo'], env()).stdout) as { items: { subject: string; folderPath: string }[] }
    expect(state.items.map((i) => [i.subject, i.folderPath]).sort()).toEqual([
      ['Py1', '/Lists/python-dev'],
      ['Py2', '/Lists/python-dev'],
    ])
  })

  it('stops counting a deletion in the undelete note once a log import pinned its instant', async () => {
    const s = newStore()
    const c = clientAs(d, 'ivan')
    await c.connect()
    for (const n of ['I1', 'I2', 'I3']) await c.append('INBOX', msg(n), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...s.args, 'doAccountScan', 'ivan'], env()).code).toBe(0)
    await c.mailboxOpen('INBOX')
    await c.messageDelete('1:2', { uid: true })
    await c.logout()
    const deletedBy = Date.now()
    await logged(/imap\(ivan\).*expunge: box=INBOX, uid=2/)
    // A window after the deletions (their logged second) and before the second scan.
    await new Promise((r) => setTimeout(r, 2200))
    const t2 = Date.now()
    expect(mailtime([...s.args, 'doAccountScan', 'ivan'], env()).code).toBe(0)
    const iso = (ms: number) => new Date(ms).toISOString()
    const window = [iso(deletedBy + 1100), iso(t2 - 1)]
    const possibly = () => JSON.parse(mailtime([...s.args, '--json', 'doUndelete', 'ivan', ...window, 'dry_run', 'true'], env()).stdout).possiblyInWindow as { deletions: number }[]
    // Only the scan dated them: they may lie in the window.
    expect(possibly().map((p) => p.deletions)).toEqual([2])
    expect(mailtime([...s.args, 'importLog', d.logPath, 'account', 'ivan'], env()).code).toBe(0)
    // Pinned before the window: nothing left to say about it.
    expect(possibly()).toEqual([])
  })
})
