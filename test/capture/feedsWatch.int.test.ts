/**
 * `doSmartScan start watch true` driven by change feeds, against a real Dovecot with the shipped
 * contrib/dovecot configuration: with the spool, a change in any folder is captured at once (the
 * rounds' interval is an hour, so nothing else can capture it within the test) and dated at the
 * spool's instant; Mailtime stopped while mail keeps changing loses nothing and still dates every
 * change exactly; a process killed after a feed batch was recorded and before its position was
 * committed records nothing twice and loses nothing. Without a spool, NOTIFY watches every folder.
 * Every step waits on what the process reports or records, never on a wall-clock window.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process'
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as path from 'path'
import { streamOfAccount } from '../../domain/ids'
import type { MailEvent } from '../../domain/events'
import { decodeSpoolLine } from '../../src/capture/feeds/spoolLine'
import { isSpoolFile } from '../../src/capture/feeds/spoolPosition'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { BIN, mailtime } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { doveadm, message } from './feedsHarness'

interface Watch {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: string[]
  /** The index of the first stderr line from `from` on that matches; rejects when the process exits first. */
  next(re: RegExp, from: number): Promise<number>
  /** SIGTERM, then its exit code, and its stderr when it is not 0. */
  stop(): Promise<{ code: number | null; log: string }>
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const watch = (store: string, d: Dovecot, extra: readonly string[], env: Record<string, string> = {}): Watch => {
  const child = spawn(process.execPath, [BIN, '--store', store, 'doSmartScan', 'start', 'watch', 'true', 'interval', '3600', ...extra], {
    env: {
      PATH: process.env.PATH ?? '',
      TZ: 'UTC',
      MAILTIME_TEST_MODE: '1',
      MAILTIME_IMAP_URL: d.url,
      MAILTIME_IMAP_USER: 'admin',
      MAILTIME_IMAP_PASSWORD: 'adminpw',
      MAILTIME_IMAP_ACCOUNTS: 'alice',
      ...env,
    },
  })
  const lines: string[] = []
  let partial = ''
  const waiters: (() => void)[] = []
  const wake = () => {
    for (const w of waiters.splice(0)) w()
  }
  child.stderr.on('data', (b: Buffer) => {
    const parts = (partial + b.toString('utf8')).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
    wake()
  })
  child.stdout.resume()
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  void exit.then(wake)
  return {
    child,
    lines,
    next: async (re, from) => {
      for (;;) {
        const i = lines.findIndex((l, j) => j >= from && re.test(l))
        if (i >= 0) return i
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`the watch exited (${child.exitCode ?? child.signalCode}) before printing ${re}: ${lines.join('\n')}`)
        await new Promise<void>((resolve) => waiters.push(resolve))
      }
    },
    stop: async () => {
      child.kill('SIGTERM')
      const { code } = await exit
      return { code, log: code === 0 ? '' : lines.join('\n') }
    },
    exited: () => exit,
  }
}

const kill = (w: Watch | undefined) => {
  if (w !== undefined && w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL')
}

const ROUND = /^\S+Z alice: \d+ events$/

/** The messages of alice's backup, as `folder|subject|flags`. */
const backedUp = (store: string): string[] => {
  const r = mailtime(['--store', store, '--json', 'getAccountState', 'alice'])
  if (r.code !== 0) return []
  return (JSON.parse(r.stdout).items as { itemType: string; folderPath: string; subject?: string; flags: string[] }[])
    .filter((i) => i.itemType === 'message')
    .map((i) => `${i.folderPath}|${i.subject ?? ''}|${[...i.flags].sort().join(' ')}`)
    .sort()
}

/** Waits for rounds or feed captures that recorded something until `ok` holds of the backup. */
const until = async (w: Watch, store: string, what: string, ok: (items: string[]) => boolean, from: number): Promise<number> => {
  let seen = from
  for (;;) {
    if (ok(backedUp(store))) return seen
    seen =
      (await w.next(ROUND, seen).catch((e: Error) => {
        throw new Error(`waiting for ${what}: ${e.message}; the backup holds ${JSON.stringify(backedUp(store))}`)
      })) + 1
  }
}

/** Every instant the spool holds, by event name. */
const spoolInstants = (spool: string): Map<number, string[]> => {
  const out = new Map<number, string[]>()
  for (const file of fs.readdirSync(spool).filter(isSpoolFile))
    fs.readFileSync(path.join(spool, file), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .forEach((l, i) => {
        const r = decodeSpoolLine(l, { file, line: i + 1 })
        if (E.isRight(r)) for (const e of r.right.events) out.set(e.at, [...(out.get(e.at) ?? []), e.name])
      })
  return out
}

const aliceEvents = async (store: string): Promise<MailEvent[]> => {
  const h = openSqliteDatabase(store.slice('sqlite:'.length))
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left))
  const s = sqliteEventStore(h.right)
  try {
    const r = await s.readStream(streamOfAccount('alice' as never))()
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right.map((x) => x.event)
  } finally {
    await s.close()
  }
}

describeWithService(dovecotAvailable(), 'Dovecot')('doSmartScan watch true with the Dovecot change feed (spool)', () => {
  let d: Dovecot
  let store: string
  let spool: string
  /** Events recorded by the first round (dated by the scan): the feed's are those after. */
  let firstRoundEvents = 0
  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw' }, { feed: {} })
    spool = d.spoolDir as string
    store = `sqlite:${path.join(tmpDir('mailtime-feedwatch-'), 'w.db')}`
    // INBOX exists and was read before the first save (services.md: the UIDVALIDITY quirk).
    doveadm(d, ['mailbox', 'create', '-u', 'alice', 'Work'])
    doveadm(d, ['mailbox', 'status', '-u', 'alice', 'messages', 'INBOX'])
    doveadm(d, ['save', '-u', 'alice', '-m', 'INBOX'], message('before'))
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('captures each change in any folder as the spool reports it, dated at the spool instant, with the rounds an hour apart', async () => {
    const w = watch(store, d, ['spool', spool])
    try {
      let seen = (await w.next(ROUND, 0)) + 1
      firstRoundEvents = (await aliceEvents(store)).length
      doveadm(d, ['save', '-u', 'alice', '-m', 'Work'], message('fed-1'))
      seen = await until(w, store, 'the new message in Work', (i) => i.includes('/Work|fed-1|'), seen)
      doveadm(d, ['flags', 'add', '-u', 'alice', '\\Flagged', 'mailbox', 'Work', 'all'])
      seen = await until(w, store, 'the flag', (i) => i.includes('/Work|fed-1|\\Flagged'), seen)
      doveadm(d, ['move', '-u', 'alice', 'INBOX', 'mailbox', 'Work', 'all'])
      seen = await until(w, store, 'the move', (i) => i.includes('/Inbox|fed-1|\\Flagged'), seen)
      doveadm(d, ['mailbox', 'rename', '-u', 'alice', 'Work', 'Projects'])
      doveadm(d, ['save', '-u', 'alice', '-m', 'Projects'], message('fed-2'))
      seen = await until(w, store, 'the renamed folder', (i) => i.includes('/Projects|fed-2|'), seen)
      doveadm(d, ['expunge', '-u', 'alice', 'mailbox', 'INBOX', 'header', 'subject', 'fed-1'])
      await until(w, store, 'the expunge', (i) => !i.some((x) => x.includes('fed-1')), seen)
      expect(await w.stop()).toEqual({ code: 0, log: '' })
    } finally {
      kill(w)
    }
    const events = (await aliceEvents(store)).slice(firstRoundEvents)
    const instants = spoolInstants(spool)
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['ItemCreated', 'ItemFlagsChanged', 'ItemMoved', 'ItemRenamed', 'ItemDeleted']))
    // Each change is dated at the instant the spool gave it, exactly (LuaSocket), with no window.
    for (const e of events) {
      expect({ e, spool: instants.has(e.occurredAt), window: e.occurredWindow }).toEqual({ e, spool: true, window: undefined })
    }
  })

  it('loses nothing while Mailtime is stopped and mail keeps changing, and dates those changes at their instants when it starts again', async () => {
    const before = (await aliceEvents(store)).length
    doveadm(d, ['mailbox', 'create', '-u', 'alice', 'Later'])
    for (const s of ['down-1', 'down-2', 'down-3']) doveadm(d, ['save', '-u', 'alice', '-m', 'Later'], message(s))
    doveadm(d, ['save', '-u', 'alice', '-m', 'INBOX'], message('down-4'))
    doveadm(d, ['flags', 'add', '-u', 'alice', '\\Seen', 'mailbox', 'Later', 'header', 'subject', 'down-2'])
    doveadm(d, ['expunge', '-u', 'alice', 'mailbox', 'Later', 'header', 'subject', 'down-3'])
    doveadm(d, ['move', '-u', 'alice', 'Projects', 'mailbox', 'INBOX', 'header', 'subject', 'down-4'])
    const expected = ['/Inbox|before|', '/Later|down-1|', '/Later|down-2|\\Seen', '/Projects|down-4|', '/Projects|fed-2|'].sort()
    const w = watch(store, d, ['spool', spool])
    try {
      await until(w, store, 'the changes made while stopped', (i) => JSON.stringify(i) === JSON.stringify(expected), 0)
      expect(await w.stop()).toEqual({ code: 0, log: '' })
    } finally {
      kill(w)
    }
    expect(backedUp(store)).toEqual(expected)
    const instants = spoolInstants(spool)
    const events = (await aliceEvents(store)).slice(before)
    // Later created; down-1; down-2 (its flag set before it was captured); down-4 (moved before it
    // was captured): down-3 lived and died while Mailtime was stopped, so only lazy_expunge keeps it.
    expect(events.length).toBeGreaterThanOrEqual(4)
    for (const e of events) expect({ e, spool: instants.has(e.occurredAt), window: e.occurredWindow }).toEqual({ e, spool: true, window: undefined })
  })

  it('killed after a feed batch was recorded and before its position was committed, it records nothing twice and loses nothing', async () => {
    const w = watch(store, d, ['spool', spool], { MAILTIME_FAULT: 'kill-after-feed:1' })
    try {
      // The first round found nothing to record; the first feed batch is this change.
      await w.next(/following the Dovecot change feed/, 0)
      doveadm(d, ['save', '-u', 'alice', '-m', 'Later'], message('killed-1'))
      const ended = await w.exited()
      expect(ended.signal).toBe('SIGKILL')
      expect(w.lines.join('\n')).toMatch(/alice: 1 events/)
    } finally {
      kill(w)
    }
    // While it is down, more mail.
    doveadm(d, ['save', '-u', 'alice', '-m', 'Later'], message('killed-2'))
    const again = watch(store, d, ['spool', spool])
    try {
      await until(again, store, 'the change made while it was down', (i) => i.includes('/Later|killed-2|'), 0)
      expect(await again.stop()).toEqual({ code: 0, log: '' })
    } finally {
      kill(again)
    }
    const created = (await aliceEvents(store)).filter((e) => e.type === 'ItemCreated' && (e as { headers?: { subject?: string } }).headers?.subject?.startsWith('killed-'))
    expect(created.map((e) => (e as { headers?: { subject?: string } }).headers?.subject).sort()).toEqual(['killed-1', 'killed-2'])
  })
})

describeWithService(dovecotAvailable(), 'Dovecot')('doSmartScan watch true with IMAP NOTIFY (no spool)', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw' })
    doveadm(d, ['mailbox', 'create', '-u', 'alice', 'Other'])
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('captures a change in a folder other than INBOX at once (IDLE watched only INBOX), with the rounds an hour apart', async () => {
    const store = `sqlite:${path.join(tmpDir('mailtime-notifywatch-'), 'n.db')}`
    const w = watch(store, d, [])
    try {
      const seen = (await w.next(ROUND, 0)) + 1
      doveadm(d, ['save', '-u', 'alice', '-m', 'Other'], message('notified'))
      await until(w, store, 'the message in Other', (i) => i.includes('/Other|notified|'), seen)
      expect(await w.stop()).toEqual({ code: 0, log: '' })
    } finally {
      kill(w)
    }
  })
})
