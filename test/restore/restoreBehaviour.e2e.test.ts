/**
 * Every restore mode, on every real IMAP server the tests run (test/support/imapServers.ts:
 * Dovecot, Cyrus), with the real CLI: an account is captured, changed by a plain IMAP client
 * (delivery, move, flags, keywords, deletion, emptied Trash, folder rename) and captured again; each
 * restore is read back over IMAP, byte for byte, with flags, keywords and INTERNALDATE. The admin
 * writes on behalf of each user. (Notifications, kills and stops: imap.e2e.test.ts, on Dovecot;
 * doExternalRestore across the two servers: crossServer.e2e.test.ts.)
 */
import * as path from 'path'
import {
  IMAP_SERVERS,
  type Item,
  type MailServer,
  type Seen,
  adminEnv,
  asUser,
  byLevels,
  expectedMessages,
  message,
  readMessages,
  uidsBySubject,
  writeConfig,
} from '../support/imapServers'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(180_000)

const msg = (subject: string, id: string, body = 'Hello') => message('alice', subject, id, body)

/** What an account holds, read over IMAP by a plain client; folders named by their levels joined with `/`. */
export const readAccount = (s: MailServer, user: string): Promise<Seen[]> => asUser(s, user, (c) => readMessages(c, byLevels))

/** The folders of an account, levels joined with `/`, INBOX as `INBOX`. */
const foldersOf = (s: MailServer, user: string): Promise<string[]> => asUser(s, user, async (c) => (await c.list()).map(byLevels).sort())

/** A backup path (`/Inbox/Receipts`) as `readAccount` names the folder. */
const folderOf = (p: string): string => {
  const [first = '', ...rest] = p.slice(1).split('/')
  return [first.toLowerCase() === 'inbox' ? 'INBOX' : first, ...rest].join('/')
}

/** The account as the store says it was, in the shape `readAccount` reads. */
const expected = (items: readonly Item[], extraTags: readonly string[] = []): Seen[] => expectedMessages(items, folderOf, extraTags)

describe.each(IMAP_SERVERS)('restores into $name', (kind) => {
  describeWithService(kind.available(), kind.name)('', () => {
    let s: MailServer
    let dir: string
    let env: Record<string, string>
    let t0 = ''
    const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const runJson = (...args: string[]) => {
      const r = mailtime([...store(), '--json', ...args], env)
      if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
      return JSON.parse(r.stdout)
    }
    const scan = (account: string) => runJson('doAccountScan', account)
    const state = (account: string, date?: string): Item[] => runJson('getAccountState', account, ...(date !== undefined ? ['date', date] : [])).items
    const mb = (...levels: string[]) => s.mailbox(levels)

    beforeAll(async () => {
      s = await kind.start(['alice'])
      dir = tmpDir()
      const config = writeConfig(dir, { provisioning: s.provisioning() })
      env = adminEnv(s, config)
      await asUser(s, 'alice', async (c) => {
        await c.mailboxCreate('Projects')
        await c.mailboxCreate(mb('Projects', 'Alpha'))
        await c.mailboxCreate('Someday')
        await c.mailboxCreate('Trash')
        await c.append('INBOX', msg('Budget', 'm1'), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
        await c.append('INBOX', msg('Travel', 'm2'), ['\\Answered', '$Work'], new Date('2026-03-02T11:00:00Z'))
        await c.append('INBOX', msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000)), ['$Work', 'Review'], new Date('2026-03-02T12:00:00Z'))
        await c.append('INBOX', msg('Old news', 'm4'), ['\\Seen'], new Date('1999-12-31T23:59:59Z'))
        await c.append('INBOX', msg('Spam', 'm5'), [], new Date('2026-02-21T09:00:00Z'))
        await c.append(mb('Projects', 'Alpha'), msg('Spec', 'm6'), ['\\Flagged', 'Review'], new Date('2026-03-01T09:00:00Z'))
      })
      scan('alice')
      await new Promise((r) => setTimeout(r, 1100))
      t0 = new Date().toISOString()
      await new Promise((r) => setTimeout(r, 1100))
      await asUser(s, 'alice', async (c) => {
        const uid = await uidsBySubject(c, 'INBOX')
        const lock = await c.getMailboxLock('INBOX')
        try {
          await c.messageMove(String(uid.Travel), 'Projects', { uid: true })
          await c.messageFlagsAdd(String(uid.Budget), ['\\Flagged', 'Invoice'], { uid: true })
          await c.messageDelete(String(uid['Old news']), { uid: true })
          await c.messageMove(String(uid.Spam), 'Trash', { uid: true })
        } finally {
          lock.release()
        }
        await c.append('INBOX', msg('New', 'm7'), [], new Date('2026-03-05T08:00:00Z'))
      })
      // Captured in Trash before Trash is emptied.
      scan('alice')
      await asUser(s, 'alice', async (c) => {
        const trash = await c.getMailboxLock('Trash')
        try {
          await c.messageDelete('1:*')
        } finally {
          trash.release()
        }
        await c.mailboxRename('Projects', 'Work')
      })
      scan('alice')
    })
    afterAll(async () => {
      await s?.remove()
      cleanupTmp()
    })

    it('doRestoreOnNewAccount creates the account (the provisioner) and recreates the source as of the date: every folder, empty ones included, flags, keywords, INTERNALDATE, bytes', async () => {
      const before = state('alice', t0)
      expect(before.map((i) => i.subject).sort()).toEqual(['Budget', 'Lunch', 'Old news', 'Spam', 'Spec', 'Travel'])
      const r = runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0)
      expect(r).toMatchObject({ state: 'done', skipped: 0, unrestored: [] })
      expect(await readAccount(s, 'alice.restored')).toEqual(expected(before))
      // Every user folder; a system folder (Trash, empty then) comes with the messages in it (docs/restore.md).
      expect(await foldersOf(s, 'alice.restored')).toEqual(['INBOX', 'Projects', 'Projects/Alpha', 'Someday'])
      // The source is never touched.
      expect((await readAccount(s, 'alice')).map((m) => m.subject).sort()).toEqual(['Budget', 'Lunch', 'New', 'Spec', 'Travel'])
      // A re-run writes nothing twice.
      const again = runJson('doRestoreOnNewAccount', 'alice', 'alice.restored', t0)
      expect(again).toMatchObject({ state: 'done', restored: 0 })
      expect(await readAccount(s, 'alice.restored')).toEqual(expected(before))
    })

    it('doUndelete brings back what was deleted (not what was moved), tagged, without \\Deleted, into its folders or under one folder; a re-run skips it all', async () => {
      const deleted = state('alice', t0).filter((i) => ['Old news', 'Spam'].includes(i.subject))
      const r = runJson('doUndelete', 'alice', 'first', 'last')
      expect(r).toMatchObject({ state: 'done', restored: 2, skipped: 0 })
      const now = new Date()
      const tag = `undelete_${String(now.getUTCDate()).padStart(2, '0')}_${String(now.getUTCMonth() + 1).padStart(2, '0')}_${String(now.getUTCFullYear() % 100).padStart(2, '0')}`
      const inAccount = await readAccount(s, 'alice')
      // Spam was in Trash when Trash was emptied: that is where it comes back.
      expect(inAccount.filter((m) => ['Old news', 'Spam'].includes(m.subject))).toEqual(
        expected(
          deleted.map((i) => (i.subject === 'Spam' ? { ...i, folderPath: '/Trash' } : i)),
          [tag],
        ),
      )
      expect(runJson('doUndelete', 'alice', 'first', 'last')).toMatchObject({ state: 'done', restored: 0, skipped: 2 })
      expect(await readAccount(s, 'alice')).toEqual(inAccount)
      const dedicated = runJson('doUndelete', 'alice', 'first', 'last', 'target_original_folder', 'false')
      expect(dedicated).toMatchObject({ state: 'done', restored: 2 })
      const under = (await readAccount(s, 'alice')).filter((m) => m.folder.startsWith(`${tag}/`))
      expect(under.map((m) => `${m.folder}:${m.subject}`).sort()).toEqual([`${tag}/Inbox:Old news`, `${tag}/Trash:Spam`])
    })

    it('doItemRestore restores an item as of a date into its folder then, recreated under its old name, or into a folder given', async () => {
      const spec = state('alice', t0).find((i) => i.subject === 'Spec') as Item
      expect(spec.folderPath).toBe('/Projects/Alpha')
      expect(runJson('doItemRestore', 'alice', String(spec.itemId), 'date', t0)).toMatchObject({ restored: 1 })
      const now = await readAccount(s, 'alice')
      // "Projects" was renamed "Work" since; the restore recreates "Projects/Alpha" and leaves "Work" as it is.
      expect(
        now
          .filter((m) => m.subject === 'Spec')
          .map((m) => m.folder)
          .sort(),
      ).toEqual(['Projects/Alpha', 'Work/Alpha'])
      expect(now.find((m) => m.folder === 'Projects/Alpha')).toEqual(expected([spec])[0])
      const travel = state('alice', t0).find((i) => i.subject === 'Travel') as Item
      expect(runJson('doItemRestore', 'alice', String(travel.itemId), 'date', t0, 'restore_folder', 'Restored/March').restored).toBe(1)
      expect((await readAccount(s, 'alice')).filter((m) => m.folder === 'Restored/March')).toEqual(expected([{ ...travel, folderPath: '/Restored/March' }]))
    })
  })
})
