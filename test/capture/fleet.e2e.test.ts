/**
 * A capture fleet: two, then three `doSmartScan start watch true` processes of the built CLI against
 * one real PostgreSQL store and one real Dovecot with twelve accounts. They share the accounts
 * through leases; in the second test one worker is killed with SIGKILL while it captures, the
 * others take its accounts over within the bound the leases promise (15 s), and every message is
 * captured exactly once: each account's state equals the server's own listing (read with imapflow)
 * and a clean single-process capture's, event for event.
 *
 * The test waits on the lease rows (read with the PostgreSQL adapter), never on a guessed delay.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { ChildProcess } from 'child_process'
import type { FleetStatus } from '../../src/capture/fleet/leases'
import { pgLeases } from '../../src/store/postgres/pgLeases'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { type CliResult, mailtime, mailtimeAsync } from '../support/cli'
import { openPg, postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { waitFor } from '../support/wait'

jest.setTimeout(300_000)

const ACCOUNTS = Array.from({ length: 12 }, (_, i) => `user${String(i).padStart(2, '0')}`)
const FOLDERS = ['INBOX', 'Work']
const PER_FOLDER = 12

describeWithService(dovecotAvailable() && postgresAvailable(), 'Dovecot and PostgreSQL')('a capture fleet on PostgreSQL', () => {
  let d: Dovecot
  let clean: string
  let blobs: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    d = await startDovecot(Object.fromEntries(ACCOUNTS.map((a) => [a, `${a}pw`])))
    for (const a of ACCOUNTS) {
      const c = clientAs(d, a)
      await c.connect()
      await c.mailboxCreate('Work')
      for (const f of FOLDERS)
        for (let i = 0; i < PER_FOLDER; i++)
          await c.append(
            f,
            Buffer.from(`Subject: ${a} ${f} ${i}\r\nMessage-ID: <${a}.${f}.${i}@fleet>\r\n\r\n${'body '.repeat(40 + i)}\r\n`),
            i % 2 ? ['\\Seen'] : [],
            new Date(Date.UTC(2026, 10, 1, 0, i)),
          )
      await c.logout()
    }
    blobs = path.join(tmpDir(), 'blobs')
    // What one process captures alone: the reference every fleet run must equal.
    clean = `sqlite:${path.join(tmpDir(), 'clean.db')}`
    const r = mailtime(['--store', clean, '--blobs', path.join(tmpDir(), 'clean-blobs'), 'doSmartScan'], env())
    expect([r.code, r.stderr]).toEqual([0, ''])
  })
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    await removeDovecot(d)
    await stopSharedPostgres()
    cleanupTmp()
  })

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw', MAILTIME_IMAP_ACCOUNTS: ACCOUNTS.join(','), ...extra }
  }

  /** A worker: batches of 4 messages, each followed by a 120 ms pause, so that a capture lasts long enough to be killed in. */
  const worker = (store: string) => {
    const w = mailtimeAsync(
      ['--store', store, '--blobs', blobs, 'doSmartScan', 'start', 'watch', 'true', 'interval', '3600', 'notify', 'false'],
      env({ MAILTIME_SCAN_BATCH_SIZE: '4', MAILTIME_FAULT: 'pause-after-batch:120' }),
    )
    children.push(w.child)
    return w
  }

  const statusOf = async (url: string): Promise<FleetStatus> => {
    const s = await openPg(url)
    try {
      const r = await pgLeases(s.pool, 'test').list()()
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
      return r.right
    } finally {
      await s.close()
    }
  }

  /** Every account captured to the end by the live worker that holds it. */
  const allCaptured = (s: FleetStatus) =>
    ACCOUNTS.every((a) => {
      const l = s.accounts.find((x) => x.account === a)
      return l !== undefined && l.holder !== null && l.lastCaptureAt !== null && l.acquiredAt !== null && l.lastCaptureAt >= l.acquiredAt
    })

  /** The server's own listing, read with imapflow: per folder, the subjects it holds. */
  const serverListing = async (account: string): Promise<Record<string, string[]>> => {
    const c = clientAs(d, account)
    await c.connect()
    const out: Record<string, string[]> = {}
    for (const f of FOLDERS) {
      const lock = await c.getMailboxLock(f)
      try {
        const subjects: string[] = []
        for await (const m of c.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '')
        out[f] = subjects.sort()
      } finally {
        lock.release()
      }
    }
    await c.logout()
    return out
  }

  const json = (store: string, ...args: string[]) => {
    const r = mailtime(['--store', store, '--blobs', blobs, '--json', ...args])
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }

  /** Exactly once: each account's state and event count equal the clean capture's, and its items are the server's messages. */
  const expectExactlyOnce = async (store: string) => {
    for (const a of ACCOUNTS) {
      const state = json(store, 'getAccountState', a) as { folders: { path: string; itemCount: number }[]; items: { subject: string; folderId: number }[] }
      const listing = await serverListing(a)
      expect([a, state.items.map((i) => i.subject).sort()]).toEqual([a, Object.values(listing).flat().sort()])
      expect([a, FOLDERS.map((f) => [f, state.folders.find((x) => x.path.slice(1).toLowerCase() === f.toLowerCase())?.itemCount])]).toEqual([
        a,
        FOLDERS.map((f) => [f, listing[f]?.length]),
      ])
      expect([a, json(store, 'getAccountState', a)]).toEqual([a, json(clean, 'getAccountState', a)])
      expect([a, json(store, 'getAccountInfo', a).events]).toEqual([a, json(clean, 'getAccountInfo', a).events])
    }
  }

  const stop = async (ws: { child: ChildProcess; done: Promise<CliResult> }[]) => {
    for (const w of ws) w.child.kill('SIGTERM')
    return Promise.all(ws.map((w) => w.done))
  }

  it('two workers share twelve accounts six each and capture every message exactly once', async () => {
    const url = await (await sharedPostgres()).freshDatabase()
    const ws = [worker(url), worker(url)]
    const pids = ws.map((w) => w.child.pid)
    let shares: number[] = []
    await waitFor(
      'both workers to hold six accounts each and every account to be captured',
      async () => {
        const s = await statusOf(url)
        const live = s.workers.filter((w) => w.live)
        shares = live.map((w) => s.accounts.filter((l) => l.holder === w.holder).length).sort()
        return live.length === 2 && shares.join() === '6,6' && allCaptured(s)
      },
      180_000,
    )
    expect((await statusOf(url)).workers.map((w) => w.pid).sort()).toEqual([...pids].sort())
    const status = mailtime(['--store', url, '--json', 'getCaptureStatus'])
    expect(status.code).toBe(0)
    const doc = JSON.parse(status.stdout) as { workers: { live: boolean; accounts: { account: string; lagMs: number | null }[] }[]; unheld: unknown[] }
    expect(doc.workers.map((w) => [w.live, w.accounts.length])).toEqual([
      [true, 6],
      [true, 6],
    ])
    expect(doc.workers.flatMap((w) => w.accounts.map((a) => a.account)).sort()).toEqual(ACCOUNTS)
    expect(doc.workers.every((w) => w.accounts.every((a) => a.lagMs !== null))).toBe(true)
    expect(doc.unheld).toEqual([])
    const ends = await stop(ws)
    expect(
      ends.map((e) => [
        e.code,
        e.stderr
          .split('\n')
          .filter((l) => l.startsWith('mailtime:') && !l.includes('TEST-ONLY'))
          .join('\n'),
      ]),
    ).toEqual([
      [0, ''],
      [0, ''],
    ])
    await expectExactlyOnce(url)
    // A clean stop gives every lease back.
    const after = await statusOf(url)
    expect([after.workers, after.accounts.filter((l) => l.holder !== null)]).toEqual([[], []])
  })

  it('of three workers, one killed with SIGKILL mid-capture: the others take its accounts over within 15 s and nothing is lost or captured twice', async () => {
    const url = await (await sharedPostgres()).freshDatabase()
    const ws = [worker(url), worker(url), worker(url)]
    const victim = ws[0] as (typeof ws)[number]
    let victimHeld: string[] = []
    // Kill it once it has captured some of its accounts and not yet all: mid-capture.
    await waitFor(
      'the three workers to hold four accounts each, the first one part-way through its own',
      async () => {
        const s = await statusOf(url)
        const me = s.workers.find((w) => w.pid === victim.child.pid)
        if (me === undefined || s.workers.filter((w) => w.live).length !== 3) return false
        const mine = s.accounts.filter((l) => l.holder === me.holder)
        const done = mine.filter((l) => l.lastCaptureAt !== null).length
        victimHeld = mine.map((l) => l.account)
        return mine.length === 4 && done >= 1 && done < 4
      },
      180_000,
    )
    victim.child.kill('SIGKILL')
    const killedAt = Date.now()
    expect((await victim.done).code).toBe(137)
    let takeoverMs = 0
    await waitFor(
      'the survivors to hold every account the victim held',
      async () => {
        const s = await statusOf(url)
        const taken = s.accounts.filter((l) => victimHeld.includes(l.account) && l.holder !== null && l.acquiredAt !== null && l.acquiredAt > killedAt)
        if (taken.length < victimHeld.length) return false
        takeoverMs = Math.max(...taken.map((l) => (l.acquiredAt as number) - killedAt))
        return true
      },
      60_000,
    )
    process.stderr.write(`fleet test: the victim's ${victimHeld.length} accounts were taken over ${takeoverMs} ms after SIGKILL\n`)
    // The lease's time to live (10 s) plus one heartbeat (2 s); the bound the fleet promises is 15 s.
    expect(takeoverMs).toBeLessThanOrEqual(15_000)
    await waitFor('every account to be captured by a live worker', async () => allCaptured(await statusOf(url)), 180_000)
    const s = await statusOf(url)
    expect(s.workers.filter((w) => w.live).map((w) => s.accounts.filter((l) => l.holder === w.holder).length)).toEqual([6, 6])
    const ends = await stop(ws.slice(1))
    expect(ends.map((e) => e.code)).toEqual([0, 0])
    await expectExactlyOnce(url)
  })
})
