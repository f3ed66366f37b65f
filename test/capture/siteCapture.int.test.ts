/**
 * Site-wide capture with a bounded connection pool (issue 20, item 2), `doSmartScan` run as an
 * admin runs it against a real Dovecot:
 * - 50 accounts through 3 connections: every account captured, nothing lost, never more than 3
 *   connections open (the pool's own count, which counts a connection from before it opens until
 *   it is closed, checked against the logins Dovecot logged: every connection the server served was
 *   counted), none left open at the end (the kernel's established connections to Dovecot's port);
 * - a round of unchanged accounts skips their diff, and a flag changed with doveadm in a folder
 *   other than INBOX is still captured;
 * - watching with the Dovecot change feed, triggers and rounds keep one capture per account at a
 *   time while changes pour into one account (a second writer would fail with a conflict), a
 *   connection the server kicked is replaced, and connections are reused across rounds.
 * Every step waits on what the process reports or records, never on a wall-clock window.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { BIN, mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { waitFor } from '../support/wait'
import { doveadm, message } from './feedsHarness'

/** The TCP connections to `port` established now, as the kernel holds them (exact at any instant). */
const established = (port: number): number => {
  let n = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      if (cols[3] === '01' && parseInt((cols[1] ?? '').split(':')[1] ?? '', 16) === port) n++
    }
  }
  return n
}

interface Scan {
  readonly account: string
  readonly unchanged: boolean
  readonly complete: boolean
  readonly eventsAppended: number
  readonly messagesRead: number
  readonly folders: { serverPath: string; status: string; flagChanges: number }[]
}
interface RunJson {
  readonly rounds: number
  readonly failures: unknown[]
  readonly scans: Scan[]
  readonly connections: { limit: number; peak: number; logins: number; reuses: number; replaced: number; evicted: number }
}

const SITE = Array.from({ length: 50 }, (_, i) => `s${String(i + 1).padStart(2, '0')}`)
const WATCHED = ['w1', 'w2', 'w3']

describeWithService(dovecotAvailable(), 'Dovecot')('site-wide capture with at most N IMAP connections', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot(Object.fromEntries([...SITE, ...WATCHED].map((u) => [u, `${u}pw`])), { feed: {} })
    for (const u of SITE) {
      const c = clientAs(d, u)
      await c.connect()
      await c.mailboxCreate('Archive')
      await c.append('INBOX', Buffer.from(message(`${u}-one`)))
      await c.append('INBOX', Buffer.from(message(`${u}-two`)))
      await c.append('Archive', Buffer.from(message(`${u}-old`)))
      await c.logout()
    }
  }, 180_000)
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('captures 50 accounts through 3 connections with nothing lost, the server never holding more than 3, and skips the diff of unchanged accounts', async () => {
    const store = ['--store', `sqlite:${path.join(tmpDir(), 'site.db')}`, '--tz', 'UTC']
    const env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw', MAILTIME_IMAP_ACCOUNTS: SITE.join(','), MAILTIME_IMAP_CONNECTIONS: '3' }
    /** Dovecot's log of logins by users of this test, as the server counted them. */
    const serverLogins = (): number => (fs.readFileSync(d.logPath, 'utf8').match(/imap-login: Info: Login: user=<s\d\d>/g) ?? []).length
    const run = async (): Promise<RunJson> => {
      const before = serverLogins()
      const out = await mailtimeAsync([...store, '--json', 'doSmartScan'], env).done
      expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: '' })
      const json = JSON.parse(out.stdout) as RunJson
      expect(json.connections.limit).toBe(3)
      // The pool counts a connection from before it opens until it is closed: never more than 3.
      expect(json.connections.peak).toBeLessThanOrEqual(3)
      // And every connection the server served was one the pool counted (Dovecot logs each login,
      // a moment after it: waited for, then compared exactly).
      await waitFor('Dovecot to log the logins', () => serverLogins() - before >= json.connections.logins)
      expect(serverLogins() - before).toBe(json.connections.logins)
      expect(json.failures).toEqual([])
      // Every account, once, in the order configured.
      expect(json.scans.map((s) => s.account)).toEqual(SITE)
      return json
    }
    const first = await run()
    expect(first.connections.peak).toBe(3)
    // 50 accounts through 3 connections: a login per account (the least recently used connection
    // is closed for the next account), and no connection left open.
    expect(first.connections.logins).toBe(SITE.length)
    await waitFor('every connection to be closed', () => established(d.port) === 0)
    for (const s of first.scans) expect(s).toMatchObject({ complete: true, messagesRead: 3, unchanged: false })
    // Nothing lost: what the backup holds of a few accounts, message by message.
    for (const u of [SITE[0], SITE[24], SITE[49]] as string[]) {
      const state = JSON.parse(mailtime([...store, '--json', 'getAccountState', u]).stdout) as { items: { subject: string; folderPath: string }[] }
      expect(state.items.map((i) => `${i.folderPath} ${i.subject}`).sort()).toEqual([`/Archive ${u}-old`, `/Inbox ${u}-one`, `/Inbox ${u}-two`])
    }
    // The round after one that recorded diffs in full (and records nothing); the next skips every diff.
    const second = await run()
    for (const s of second.scans) expect(s).toMatchObject({ complete: true, eventsAppended: 0, unchanged: false })
    const third = await run()
    for (const s of third.scans) expect(s).toMatchObject({ complete: true, eventsAppended: 0, unchanged: true, messagesRead: 0 })
    // A flag set by the admin in s07's Archive: captured, the others still skipped.
    d.doveadm('flags', 'add', '-u', 's07', '\\Flagged', 'mailbox', 'Archive', 'all')
    const fourth = await run()
    for (const s of fourth.scans) {
      if (s.account === 's07') {
        expect(s).toMatchObject({ unchanged: false, eventsAppended: 1 })
        expect(s.folders.find((f) => f.serverPath === 'Archive')).toMatchObject({ status: 'read', flagChanges: 1 })
      } else expect(s.unchanged).toBe(true)
    }
    const flagged = JSON.parse(mailtime([...store, '--json', 'getAccountState', 's07']).stdout) as { items: { subject: string; flags: string[] }[] }
    expect(flagged.items.find((i) => i.subject === 's07-old')?.flags).toEqual(['\\Flagged'])
  }, 600_000)

  it('watching with the change feed: one capture per account at a time under a stream of triggers, a kicked connection replaced, connections reused across rounds', async () => {
    const store = `sqlite:${path.join(tmpDir(), 'watch.db')}`
    for (const u of WATCHED) doveadm(d, ['mailbox', 'create', '-u', u, 'Work'])
    // Rounds every second, at most 3 connections for 3 accounts: each keeps its own.
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [BIN, '--store', store, '--json', 'doSmartScan', 'start', 'watch', 'true', 'interval', '1', 'spool', d.spoolDir as string, 'connections', '3'],
      {
        env: {
          PATH: process.env.PATH ?? '',
          TZ: 'UTC',
          MAILTIME_IMAP_URL: d.url,
          MAILTIME_IMAP_USER: 'admin',
          MAILTIME_IMAP_PASSWORD: 'adminpw',
          MAILTIME_IMAP_ACCOUNTS: WATCHED.join(','),
        },
      },
    )
    let stdout = ''
    let stderr = ''
    const waiters: (() => void)[] = []
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()))
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
      for (const w of waiters.splice(0)) w()
    })
    child.on('exit', () => {
      for (const w of waiters.splice(0)) w()
    })
    const subjects = (u: string): string[] => {
      const r = mailtime(['--store', store, '--json', 'getAccountState', u], {})
      return r.code === 0 ? (JSON.parse(r.stdout) as { items: { subject: string }[] }).items.map((i) => i.subject) : []
    }
    /** Waits until `ok` holds of the backup (checked at each line the watch writes, and every second). */
    const until = async (what: string, ok: () => boolean): Promise<void> => {
      // The deadline only turns a hang into a failure that says what was awaited and what the watch said.
      const deadline = Date.now() + 120_000
      while (!ok()) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the watch exited before ${what}: ${stderr}`)
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the watch said: ${stderr}`)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 1000)
          waiters.push(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
    }
    try {
      // (With --json the watch prints nothing until it stops: the backup is what is watched.)
      await until('the first round of every account', () => WATCHED.every((u) => mailtime(['--store', store, 'getAccountInfo', u], {}).code === 0))
      // A stream of changes into one account, in two folders, while rounds run every second: each
      // is a trigger; any two captures of w1 at once would fail with a conflict.
      const poured = Array.from({ length: 12 }, (_, i) => `w1-${i}`)
      for (const [i, s] of poured.entries()) doveadm(d, ['save', '-u', 'w1', '-m', i % 2 === 0 ? 'INBOX' : 'Work'], message(s))
      await until('every message poured into w1', () => poured.every((s) => subjects('w1').includes(s)))
      // The server drops w2's connection: the next capture of w2 runs on a new one.
      doveadm(d, ['kick', 'w2'])
      doveadm(d, ['save', '-u', 'w2', '-m', 'Work'], message('w2-after-kick'))
      await until('the message saved after the kick', () => subjects('w2').includes('w2-after-kick'))
      // A few more rounds on the same connections.
      doveadm(d, ['save', '-u', 'w3', '-m', 'Work'], message('w3-late'))
      await until('the last message', () => subjects('w3').includes('w3-late'))
      const code = await new Promise<number | null>((resolve) => {
        child.on('exit', (c) => resolve(c))
        child.kill('SIGTERM')
      })
      expect({ code, failed: stderr.split('\n').filter((l) => /FAILED|another scan|conflict|failed/i.test(l)) }).toEqual({ code: 0, failed: [] })
      const json = JSON.parse(stdout) as RunJson
      expect(json.failures).toEqual([])
      expect(json.rounds).toBeGreaterThan(1)
      expect(json.connections.peak).toBeLessThanOrEqual(3)
      // The kicked connection was replaced; every other capture reused a connection already open.
      expect(json.connections.replaced).toBeGreaterThanOrEqual(1)
      expect(json.connections.evicted).toBe(0)
      expect(json.connections.logins).toBe(WATCHED.length + json.connections.replaced)
      expect(json.connections.reuses).toBeGreaterThanOrEqual(json.rounds)
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    }
  }, 300_000)
})
