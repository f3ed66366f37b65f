/**
 * What a scan records, on every real IMAP server the tests run (test/support/imapServers.ts:
 * Dovecot, Cyrus): the same suite, the same expectations. The admin scans each account on behalf of
 * its user with the real CLI, while a plain IMAP client (as the user) delivers, moves, flags,
 * deletes and expunges messages, and creates, renames and deletes folders.
 */
import * as path from 'path'
import { IMAP_SERVERS, type Item, type MailServer, asUser, message, uidsBySubject } from '../support/imapServers'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { sha256 } from '../../src/blobs/blobStore'
import { eventsOf } from './scanSupport'

jest.setTimeout(120_000)

const msg = (subject: string, id: string, body = 'Hello') => message('alice', subject, id, body)

interface State {
  folders: { path: string; itemCount: number; folderId: number }[]
  items: Item[]
}

describe.each(IMAP_SERVERS)('capture on $name', (kind) => {
  describeWithService(kind.available(), kind.name)('', () => {
    let s: MailServer
    let dir: string
    let env: Record<string, string>
    const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const runJson = (...args: string[]) => {
      const r = mailtime([...store(), '--json', ...args], env)
      if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
      return JSON.parse(r.stdout)
    }
    const scan = (account = 'alice') => runJson('doAccountScan', account)
    const state = (account = 'alice', date?: string): State => runJson('getAccountState', account, ...(date !== undefined ? ['date', date] : []))
    const counts = (st: State) => Object.fromEntries(st.folders.map((f) => [f.path, f.itemCount]))
    const item = (st: State, subject: string) => st.items.find((i) => i.subject === subject)
    const mb = (...levels: string[]) => s.mailbox(levels)

    beforeAll(async () => {
      s = await kind.start(['alice', 'bob'])
      dir = tmpDir()
      env = { MAILTIME_IMAP_URL: s.url, MAILTIME_IMAP_USER: s.admin.user, MAILTIME_IMAP_PASSWORD: s.admin.password }
    })
    afterAll(async () => {
      await s?.remove()
      cleanupTmp()
    })

    it('the first scan records every folder and message, nested folders under their parents, flags, keywords, INTERNALDATE, bodies byte for byte', async () => {
      await asUser(s, 'alice', async (c) => {
        await c.mailboxCreate('Projects')
        await c.mailboxCreate('Trash')
        await c.mailboxCreate(mb('Projects', 'Alpha'))
        await c.append('INBOX', msg('Budget', 'm1'), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
        await c.append('INBOX', msg('Travel', 'm2'), [], new Date('2026-03-02T11:00:00Z'))
        await c.append('INBOX', msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000)), ['$Work'], new Date('2026-03-02T12:00:00Z'))
        await c.append('INBOX', msg('Spam', 'm5'), [], new Date('2026-02-21T09:00:00Z'))
        await c.append(mb('Projects', 'Alpha'), msg('Spec', 'm4'), ['\\Flagged', 'Review'], new Date('2026-03-01T09:00:00Z'))
      })
      const r = scan()
      expect(r).toMatchObject({ firstScan: true, complete: true, unreadFolders: [] })
      const st = state()
      expect(counts(st)).toMatchObject({ '/Inbox': 4, '/Projects': 0, '/Projects/Alpha': 1, '/Trash': 0 })
      expect(item(st, 'Budget')).toMatchObject({ folderPath: '/Inbox', flags: ['\\Seen'], tags: [], createdAt: '2026-03-02T10:00:00.000Z', digest: sha256(msg('Budget', 'm1')) })
      expect(item(st, 'Spec')).toMatchObject({ folderPath: '/Projects/Alpha', flags: ['\\Flagged'], tags: ['Review'] })
      expect(item(st, 'Lunch')).toMatchObject({ tags: ['$Work'], digest: sha256(msg('Lunch', 'm3', 'Ciao\r\n'.repeat(2000))) })
      // As of before the oldest message arrived, the account held nothing.
      expect(state('alice', '2026-02-21T08:00:00Z').items).toHaveLength(0)
    })

    it('a later scan records only the changes: moves keep the identity, flags, keywords, an expunge, new mail, a nested rename, a new folder', async () => {
      const before = state()
      const id = (subject: string) => item(before, subject)?.itemId
      await asUser(s, 'alice', async (c) => {
        const uids = await uidsBySubject(c, 'INBOX')
        const lock = await c.getMailboxLock('INBOX')
        try {
          await c.messageMove(String(uids.Travel), 'Projects', { uid: true })
          await c.messageMove(String(uids.Spam), 'Trash', { uid: true })
          await c.messageFlagsAdd(String(uids.Budget), ['\\Flagged', 'Invoice'], { uid: true })
          await c.messageDelete(String(uids.Lunch), { uid: true })
        } finally {
          lock.release()
        }
        await c.append('INBOX', msg('New mail', 'm9'), [], new Date('2026-03-05T08:00:00Z'))
        await c.mailboxRename(mb('Projects', 'Alpha'), mb('Projects', 'Alpha 2026'))
        await c.mailboxCreate('Archive')
      })
      const r = scan()
      expect(r).toMatchObject({ firstScan: false, foldersRenamed: 1, foldersCreated: 1, foldersDeleted: 0 })
      const after = state()
      expect(item(after, 'Travel')).toMatchObject({ itemId: id('Travel'), folderPath: '/Projects' })
      expect(item(after, 'Spam')).toMatchObject({ itemId: id('Spam'), folderPath: '/Trash' })
      expect(item(after, 'Budget')).toMatchObject({ itemId: id('Budget'), flags: ['\\Flagged', '\\Seen'], tags: ['Invoice'] })
      expect(item(after, 'Lunch')).toBeUndefined()
      expect(item(after, 'Spec')).toMatchObject({ itemId: id('Spec'), folderPath: '/Projects/Alpha 2026' })
      expect(item(after, 'New mail')).toBeDefined()
      expect(after.folders.map((f) => f.path)).toContain('/Archive')
      const hist = runJson('getItem', 'alice', String(id('Lunch')), 'date', 'all')
      expect(hist.versions.map((v: { cause: string }) => v.cause)).toEqual(['ItemCreated', 'ItemDeleted'])
      expect(runJson('doItemSearch', 'alice').items.map((i: { subject: string }) => i.subject)).toEqual(['Lunch'])
    })

    it('renaming a folder that has children moves the subtree: same items, same ids, new paths; a folder moved to the top follows', async () => {
      const before = state()
      await asUser(s, 'alice', (c) => c.mailboxRename('Projects', 'Work'))
      scan()
      const mid = state()
      expect(item(mid, 'Travel')).toMatchObject({ itemId: item(before, 'Travel')?.itemId, folderPath: '/Work' })
      expect(item(mid, 'Spec')).toMatchObject({ itemId: item(before, 'Spec')?.itemId, folderPath: '/Work/Alpha 2026' })
      expect(mid.folders.map((f) => f.path)).not.toContain('/Projects')
      await asUser(s, 'alice', (c) => c.mailboxRename(mb('Work', 'Alpha 2026'), 'Alpha 2026'))
      scan()
      const after = state()
      expect(item(after, 'Spec')).toMatchObject({ itemId: item(before, 'Spec')?.itemId, folderPath: '/Alpha 2026' })
      expect(counts(after)).toMatchObject({ '/Alpha 2026': 1, '/Work': 1 })
      expect(after.items.map((i) => i.itemId).sort()).toEqual(before.items.map((i) => i.itemId).sort())
    })

    it('emptying Trash and deleting a folder that holds a message record both deletions', async () => {
      await asUser(s, 'alice', async (c) => {
        await c.mailboxCreate('Old')
        await c.append('Old', msg('Orphan', 'm8'), [], new Date('2026-03-03T09:00:00Z'))
      })
      scan()
      await asUser(s, 'alice', async (c) => {
        const lock = await c.getMailboxLock('Trash')
        try {
          await c.messageDelete('1:*')
        } finally {
          lock.release()
        }
        await c.mailboxDelete('Old')
      })
      const r = scan()
      expect(r.foldersDeleted).toBe(1)
      const st = state()
      expect(item(st, 'Spam')).toBeUndefined()
      expect(item(st, 'Orphan')).toBeUndefined()
      expect(st.folders.map((f) => f.path)).not.toContain('/Old')
      expect(
        runJson('doItemSearch', 'alice')
          .items.map((i: { subject: string }) => i.subject)
          .sort(),
      ).toEqual(['Lunch', 'Orphan', 'Spam'])
    })

    it('appends nothing when nothing changed, and survives a UIDVALIDITY change without duplicates', async () => {
      expect(scan().eventsAppended).toBe(0)
      const before = state()
      // A folder recreated has a new UIDVALIDITY: its messages must be matched, not recorded again.
      await asUser(s, 'alice', async (c) => {
        await c.mailboxRename('Work', 'Tmp')
        await c.mailboxCreate('Work')
        const lock = await c.getMailboxLock('Tmp')
        try {
          await c.messageMove('1:*', 'Work')
        } finally {
          lock.release()
        }
        await c.mailboxDelete('Tmp')
      })
      scan()
      const after = state()
      expect(after.items.map((i) => i.itemId).sort()).toEqual(before.items.map((i) => i.itemId).sort())
      expect(item(after, 'Travel')?.folderPath).toBe('/Work')
      expect(scan().eventsAppended).toBe(0)
    })

    it('two folders that swap names: every message keeps its id and its new path; with OBJECTID each folder keeps its item (MAILBOXID), without it each path does', async () => {
      await asUser(s, 'alice', async (c) => {
        await c.mailboxCreate('Left')
        await c.mailboxCreate('Right')
        await c.append('Left', msg('Went left', 'l1'), [], new Date('2026-03-04T09:00:00Z'))
        await c.append('Right', msg('Went right', 'r1'), [], new Date('2026-03-04T09:00:00Z'))
      })
      scan()
      const before = state()
      const folderId = (st: State, p: string) => st.folders.find((f) => f.path === p)?.folderId
      await asUser(s, 'alice', async (c) => {
        await c.mailboxRename('Left', 'Swap')
        await c.mailboxRename('Right', 'Left')
        await c.mailboxRename('Swap', 'Right')
      })
      const r = scan()
      const after = state()
      expect(item(after, 'Went left')).toMatchObject({ itemId: item(before, 'Went left')?.itemId, folderPath: '/Right' })
      expect(item(after, 'Went right')).toMatchObject({ itemId: item(before, 'Went right')?.itemId, folderPath: '/Left' })
      if (s.objectId) {
        expect(r).toMatchObject({ foldersRenamed: 2, foldersCreated: 0, foldersDeleted: 0 })
        expect([folderId(after, '/Left'), folderId(after, '/Right')]).toEqual([folderId(before, '/Right'), folderId(before, '/Left')])
        // Nothing moved between folders: the folders moved.
        expect(r.folders.reduce((n: number, f: { moved: number }) => n + f.moved, 0)).toBe(0)
      } else {
        expect(r).toMatchObject({ foldersRenamed: 0, foldersCreated: 0, foldersDeleted: 0 })
        expect([folderId(after, '/Left'), folderId(after, '/Right')]).toEqual([folderId(before, '/Left'), folderId(before, '/Right')])
      }
      expect(scan().eventsAppended).toBe(0)
    })

    it('records the EMAILID of each message where the server offers OBJECTID, and none elsewhere', () => {
      const left = item(state(), 'Went left') as Item
      const text = eventsOf({ args: store(), blobs: '' }, 'alice')
        .filter((e) => e.includes(`"itemId":${left.itemId},`))
        .join('\n')
      expect(text).toContain('ItemCreated')
      if (s.objectId) expect(text).toMatch(/"emailId":"M[0-9a-f]{24}"/)
      else expect(text).not.toContain('emailId')
    })

    it('the admin scans each account on behalf of its user: bob sees only his own mail', async () => {
      await asUser(s, 'bob', (c) => c.append('INBOX', msg('For Bob', 'b1'), ['\\Seen'], new Date('2026-03-01T10:00:00Z')))
      expect(scan('bob').firstScan).toBe(true)
      expect(state('bob').items.map((i) => i.subject)).toEqual(['For Bob'])
      expect(item(state(), 'For Bob')).toBeUndefined()
    })
  })
})
