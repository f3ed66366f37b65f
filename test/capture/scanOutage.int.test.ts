/**
 * A scan that cannot read every folder never ends as a success, and the next scan completes it to
 * exactly the events of a clean scan. Against a real Dovecot: the server is stopped (dropping its
 * connections, as a crash does) after the scan read its first folder, or refuses to open one folder;
 * every mailbox change is made by a plain IMAP client or doveadm. Scans run on the real clock
 * (capture refuses MAILTIME_NOW): a clean scan and a cut one followed by a rescan are compared event
 * for event, each instant recorded by a round's scans named by that round (scanSupport.ts, `byRound`)
 * and every other instant exactly; the mail that arrives between the rounds is dated strictly
 * between them, inside every scan's window.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { clockPast, nextWholeSecond } from '../support/clock'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp } from '../support/tmp'
import { type Round, type TestStore, accountState, blobCount, eventCount, eventsOf, imapEnv, inRound, newStore, scanCutByOutage } from './scanSupport'

jest.setTimeout(240_000)

const BOXES = ['INBOX', 'Work', 'Work.Old', 'Trash', 'Archive']
const body = (i: number, tag = 'm') => Buffer.from(`Subject: ${tag}${i}\r\nMessage-ID: <${tag}${i}@outage>\r\n\r\n${'x'.repeat(300 + i)}\r\n`)

interface Report {
  complete: boolean
  unreadFolders: { path: string; serverPath: string; reason: string }[]
  deferredChanges: number
  folders: { path: string; status: string; created: number; moved: number; deleted: number; flagChanges: number }[]
}

describeWithService(dovecotAvailable(), 'Dovecot')('a scan that could not read every folder', () => {
  let d: Dovecot
  const env = () => imapEnv(d)
  const scan = (s: TestStore, account = 'erin') => mailtime([...s.args, '--json', 'doAccountScan', account], env())

  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw', fred: 'fredpw', ida: 'idapw' })
    const c = clientAs(d, 'erin')
    await c.connect()
    for (const box of BOXES.slice(1)) await c.mailboxCreate(box)
    for (let i = 0; i < 200; i++) await c.append(BOXES[i % 4] as string, body(i), i % 3 ? ['\\Seen'] : [], new Date(Date.UTC(2026, 1, 1, 0, i)))
    for (let i = 0; i < 4; i++) await c.append('Archive', body(i, 'a'), [], new Date(Date.UTC(2026, 1, 2, 0, i)))
    await c.logout()
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  describe('cut by a server outage', () => {
    const clean = newStore()
    const cut = newStore()
    // When each store's scans of each round ran.
    const cleanRounds: Round[] = []
    const cutRounds: Round[] = []

    it('a first scan cut after its first folder exits 6 naming the server and every folder it did not read', async () => {
      expect((await inRound(cleanRounds, 'round 1', () => scan(clean))).code).toBe(0)
      // Folders are read by depth, then by name: Archive, INBOX, Trash, Work, Work.Old. The outage
      // lands while the scan pauses after INBOX.
      const r = await inRound(cutRounds, 'round 1', () => scanCutByOutage(d, [...cut.args, '--json', 'doAccountScan', 'erin'], env(), () => blobCount(cut) >= 50))
      expect(r.code).toBe(6)
      expect(r.stderr).toMatch(/imap:\/\/127\.0\.0\.1:\d+/)
      expect(r.stderr).toMatch(/\/Trash.*\/Work.*\/Work\/Old/)
      const report = JSON.parse(r.stdout) as Report
      expect(report.complete).toBe(false)
      expect(report.unreadFolders.map((f) => [f.path, f.serverPath])).toEqual([
        ['/Trash', 'Trash'],
        ['/Work', 'Work'],
        ['/Work/Old', 'Work.Old'],
      ])
      expect(report.folders.find((f) => f.path === '/Inbox')).toMatchObject({ status: 'read', created: 50 })
      expect(report.folders.filter((f) => f.status === 'not read').map((f) => f.path)).toEqual(['/Trash', '/Work', '/Work/Old'])
    })

    it('the next scan completes it to exactly the events of a clean scan, with no folder recorded twice', async () => {
      const again = await inRound(cutRounds, 'round 1', () => scan(cut))
      expect([again.code, again.stderr]).toEqual([0, ''])
      expect((JSON.parse(again.stdout) as Report).complete).toBe(true)
      expect(eventCount(cut, 'erin')).toBe(eventCount(clean, 'erin'))
      expect(eventsOf(cut, 'erin', cutRounds)).toEqual(eventsOf(clean, 'erin', cleanRounds))
      expect(accountState(cut, 'erin', cutRounds)).toEqual(accountState(clean, 'erin', cleanRounds))
    })

    it('a later scan cut after its first folder records nothing that depends on the folders it did not read, and the next scan ends as a clean one', async () => {
      // Changes between the rounds: mail delivered, moved both ways between INBOX and folders read
      // after it, flagged, expunged, a folder created and one deleted. The new mail is dated at whole
      // seconds after every scan of round 1 and before any of round 2: inside each scan's window,
      // where a clean scan and a completed one date it alike, by its INTERNALDATE.
      const roundOneEnd = Math.max(...[...cleanRounds, ...cutRounds].filter((r) => r.name === 'round 1').map((r) => r.to))
      const arrival = (i: number) => nextWholeSecond(roundOneEnd) + 1000 * (i + 1)
      await clockPast(arrival(4))
      const c = clientAs(d, 'erin')
      await c.connect()
      for (let i = 0; i < 5; i++) await c.append('INBOX', body(i, 'new'), [], new Date(arrival(i)))
      let lock = await c.getMailboxLock('INBOX')
      await c.messageMove('1:3', 'Work.Old')
      await c.messageFlagsAdd('4:6', ['\\Flagged'])
      lock.release()
      lock = await c.getMailboxLock('Work')
      await c.messageMove('1:2', 'INBOX')
      lock.release()
      lock = await c.getMailboxLock('Trash')
      await c.messageDelete('1:2')
      lock.release()
      await c.mailboxCreate('Projects')
      await c.logout()
      d.doveadm('mailbox', 'delete', '-u', 'erin', '-s', 'Archive')

      const clean2 = await inRound(cleanRounds, 'round 2', () => scan(clean))
      expect(clean2.code).toBe(0)
      const cleanReport = JSON.parse(clean2.stdout) as Report
      expect(cleanReport.folders.find((f) => f.path === '/Inbox')).toMatchObject({ created: 5, moved: 2, flagChanges: 3 })

      const before = blobCount(cut)
      const r = await inRound(cutRounds, 'round 2', () => scanCutByOutage(d, [...cut.args, '--json', 'doAccountScan', 'erin'], env(), () => blobCount(cut) >= before + 5))
      expect(r.code).toBe(6)
      const report = JSON.parse(r.stdout) as Report
      expect(report.complete).toBe(false)
      // The messages that left INBOX for Work.Old, and those that came from Work, wait: recorded now,
      // they would be deletions and new mail where a clean scan records moves.
      expect(report.deferredChanges).toBeGreaterThanOrEqual(5)
      expect(report.folders.find((f) => f.path === '/Inbox')).toMatchObject({ status: 'read', created: 5, moved: 0, deleted: 0, flagChanges: 3 })
      expect(report.folders.some((f) => f.status === 'deleted')).toBe(false)

      const again = await inRound(cutRounds, 'round 2', () => scan(cut))
      expect([again.code, again.stderr]).toEqual([0, ''])
      expect(eventCount(cut, 'erin')).toBe(eventCount(clean, 'erin'))
      const events = eventsOf(cut, 'erin', cutRounds)
      expect(events).toEqual(eventsOf(clean, 'erin', cleanRounds))
      // The new mail kept its INTERNALDATE, in both stores (the comparison above holds it exactly).
      for (let i = 0; i < 5; i++) expect(events.some((e) => e.includes('"type":"ItemCreated"') && e.includes(`"occurredAt":"${new Date(arrival(i)).toISOString()}"`))).toBe(true)
      expect(accountState(cut, 'erin', cutRounds)).toEqual(accountState(clean, 'erin', cleanRounds))
    })
  })

  describe('a folder the server refuses to open', () => {
    const s = newStore()
    const secret = () => path.join(d.maildirOf('fred'), '.Secret')

    it('is named, its messages are kept as recorded, the rest is recorded, and the scan exits 7', async () => {
      const c = clientAs(d, 'fred')
      await c.connect()
      await c.mailboxCreate('Secret')
      await c.mailboxCreate('Work')
      for (let i = 0; i < 3; i++) await c.append('INBOX', body(i, 'f'), [], new Date(Date.UTC(2026, 1, 3, 0, i)))
      for (let i = 0; i < 2; i++) await c.append('Secret', body(i, 's'), [], new Date(Date.UTC(2026, 1, 3, 1, i)))
      expect(scan(s, 'fred').code).toBe(0)
      await c.append('Secret', body(9, 's'), [], new Date(Date.UTC(2026, 1, 4)))
      await c.append('Work', body(9, 'w'), [], new Date(Date.UTC(2026, 1, 4)))
      await c.logout()
      // The folder's files cannot be read by the server any more: it answers NO [SERVERBUG].
      fs.chmodSync(secret(), 0)
      try {
        const r = scan(s, 'fred')
        expect(r.code).toBe(7)
        expect(r.stderr).toContain('/Secret')
        const report = JSON.parse(r.stdout) as Report
        expect(report.complete).toBe(false)
        expect(report.unreadFolders.map((f) => f.path)).toEqual(['/Secret'])
        expect(report.unreadFolders[0]?.reason).toMatch(/Internal error/)
        expect(report.folders.find((f) => f.path === '/Work')).toMatchObject({ status: 'read', created: 1 })
        // doSmartScan counts such an account as failed: exit 7, as another one was scanned to the end.
        const smart = mailtime([...s.args, '--json', 'doSmartScan'], { ...env(), MAILTIME_IMAP_ACCOUNTS: 'fred,ida' })
        expect(smart.code).toBe(7)
        expect(smart.stderr).toContain('1 account(s) not scanned to the end: fred')
        expect((JSON.parse(smart.stdout) as { failures: { account: string }[] }).failures.map((f) => f.account)).toEqual(['fred'])
      } finally {
        fs.chmodSync(secret(), 0o700)
      }
      const items = (accountState(s, 'fred') as { items: { folderPath: string; subject: string }[] }).items
      expect(
        items
          .filter((i) => i.folderPath === '/Secret')
          .map((i) => i.subject)
          .sort(),
      ).toEqual(['s0', 's1'])
      expect(items.map((i) => i.subject)).toContain('w9')
    })

    it('is read by the next scan once the server opens it again', () => {
      const r = scan(s, 'fred')
      expect([r.code, r.stderr]).toEqual([0, ''])
      const items = (accountState(s, 'fred') as { items: { folderPath: string; subject: string }[] }).items
      expect(
        items
          .filter((i) => i.folderPath === '/Secret')
          .map((i) => i.subject)
          .sort(),
      ).toEqual(['s0', 's1', 's9'])
    })

    it('does not hold back a first scan: the account and every folder are recorded, and the folder is read once it opens', async () => {
      const t = newStore()
      const c = clientAs(d, 'ida')
      await c.connect()
      await c.mailboxCreate('Secret')
      await c.append('INBOX', body(1, 'i'), [], new Date(Date.UTC(2026, 1, 5)))
      await c.append('Secret', body(2, 'i'), [], new Date(Date.UTC(2026, 1, 5)))
      await c.logout()
      const dir = path.join(d.maildirOf('ida'), '.Secret')
      fs.chmodSync(dir, 0)
      try {
        expect(scan(t, 'ida').code).toBe(7)
      } finally {
        fs.chmodSync(dir, 0o700)
      }
      const st = accountState(t, 'ida') as { exists: boolean; folders: { path: string; itemCount: number }[] }
      expect(st.exists).toBe(true)
      expect(st.folders.filter((f) => ['/Inbox', '/Secret'].includes(f.path)).map((f) => [f.path, f.itemCount])).toEqual([
        ['/Inbox', 1],
        ['/Secret', 0],
      ])
      expect(scan(t, 'ida').code).toBe(0)
      expect((accountState(t, 'ida') as { items: { folderPath: string; subject: string }[] }).items.map((i) => [i.folderPath, i.subject]).sort()).toEqual([
        ['/Inbox', 'i1'],
        ['/Secret', 'i2'],
      ])
    })
  })
})
