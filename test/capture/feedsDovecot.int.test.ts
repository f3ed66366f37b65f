/**
 * The Dovecot change feed end to end, with the shipped contrib/dovecot snippets and Lua script on a
 * real Dovecot: every kind of change made by doveadm, by LDA and by a plain IMAP client (imapflow)
 * reaches the spool and comes out of the follower as the right change signals; the script only
 * appends to a file (traced); a missing or full spool never fails the mail operation; a partial
 * line is closed by the next one; instants to the second without LuaSocket; lazy_expunge keeps an
 * expunged message readable by the master user. Each step waits for the signals it expects.
 */
import { execFileSync, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { nodeSpoolFs } from '../../src/capture/feeds/nodeSpoolFs'
import { type ChangeSignal, signalsOfRecord } from '../../src/capture/feeds/signals'
import { openSpoolFollower } from '../../src/capture/feeds/spoolFollower'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp } from '../support/tmp'
import { type Following, doveadm, follow, memoryCheckpoints, message } from './feedsHarness'

const LDA = '/usr/lib/dovecot/dovecot-lda'
const STRACE = '/usr/bin/strace'

/** The spool files a mail process may be writing to now: this hour's and, near its end, the next one's. */
const currentFiles = (): string[] => {
  const name = (t: number) => `${new Date(t).toISOString().slice(0, 13).replace(/[-T]/g, '')}.jsonl`
  return [...new Set([name(Date.now()), name(Date.now() + 60_000)])]
}

const startFollowing = async (spool: string): Promise<Following> => {
  const f = await openSpoolFollower({ fs: nodeSpoolFs, checkpoints: memoryCheckpoints(), clock: { now: () => Date.now() } }, { spoolDir: spool, pollMs: 500 })
  if (E.isLeft(f)) throw new Error(JSON.stringify(f.left))
  return follow(f.right)
}

describeWithService(dovecotAvailable(), 'Dovecot')('the Dovecot change feed (contrib/dovecot, as shipped)', () => {
  let d: Dovecot
  let spool: string
  let f: Following
  const signals = (): ChangeSignal[] => f.records.flatMap((r) => signalsOfRecord(r, { ignoreMailboxes: ['EXPUNGED'] }))

  /** Runs `change`, then waits until the signals after it include every one expected (partial matches). */
  const expectSignals = async (change: () => unknown, expected: readonly Partial<ChangeSignal>[]): Promise<ChangeSignal[]> => {
    const from = signals().length
    await change()
    const matches = (s: ChangeSignal, e: Partial<ChangeSignal>) => Object.entries(e).every(([k, v]) => (s as unknown as Record<string, unknown>)[k] === v)
    const found = () => {
      const after = signals().slice(from)
      return expected.every((e) => after.some((s) => matches(s, e)))
    }
    await f.until(`signals ${JSON.stringify(expected)}`, found)
    return signals().slice(from)
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw' }, { feed: {}, lazyExpunge: true })
    spool = d.spoolDir as string
    f = await startFollowing(spool)
  })
  afterAll(async () => {
    try {
      await f?.stop()
    } finally {
      if (d !== undefined) await removeDovecot(d)
      cleanupTmp()
    }
  })

  it('doveadm save is a new message in INBOX, with its UID and the instant to the millisecond (LuaSocket)', async () => {
    const before = Date.now()
    const s = await expectSignals(() => doveadm(d, ['save', '-u', 'alice'], message('first')), [{ account: 'alice', mailbox: 'INBOX', kind: 'messageNew', uid: 1 }])
    const sig = s.find((x) => x.kind === 'messageNew')
    expect(sig?.atPrecision).toBe('exact')
    expect(sig?.at).toBeGreaterThanOrEqual(before)
    expect(sig?.at).toBeLessThanOrEqual(Date.now())
    expect(f.records.find((r) => r.events.some((e) => e.name === 'MessageAppend'))?.service).toBe('doveadm')
  })

  const ldaAvailable = fs.existsSync(LDA)
  ;(ldaAvailable ? it : it.skip)('a delivery by dovecot-lda is MessageNew, a new message in INBOX', async () => {
    await expectSignals(
      () => execFileSync(LDA, ['-c', d.conf, '-d', 'bob'], { input: message('delivered'), stdio: ['pipe', 'pipe', 'pipe'] }),
      [{ account: 'bob', mailbox: 'INBOX', kind: 'messageNew', uid: 1 }],
    )
    expect(f.records.some((r) => r.user === 'bob' && r.service === 'lda' && r.events.some((e) => e.name === 'MessageNew'))).toBe(true)
  })

  it('IMAP: a folder created, a message appended, moved, flagged and unflagged, expunged, each signalled in its folder', async () => {
    const c = clientAs(d, 'alice')
    await c.connect()
    try {
      await expectSignals(() => c.mailboxCreate('Work'), [{ account: 'alice', mailbox: 'Work', kind: 'mailboxCreated' }])
      const appended = await c.append('Work', message('appended'), ['\\Seen'])
      const workUid = appended !== false ? appended.uid : undefined
      await f.until('the append', () => signals().some((s) => s.mailbox === 'Work' && s.kind === 'messageNew' && s.uid === workUid))
      await c.mailboxOpen('INBOX')
      // MOVE: a new message in the destination, an expunge in the source.
      const moved = await expectSignals(
        () => c.messageMove('1', 'Work', { uid: true }),
        [
          { account: 'alice', mailbox: 'Work', kind: 'messageNew' },
          { account: 'alice', mailbox: 'INBOX', kind: 'messageExpunged', uid: 1 },
        ],
      )
      const movedUid = moved.find((s) => s.mailbox === 'Work' && s.kind === 'messageNew')?.uid
      if (workUid === undefined || movedUid === undefined) throw new Error('no UIDs')
      expect(movedUid).toBe(workUid + 1)
      await c.mailboxOpen('Work')
      await expectSignals(() => c.messageFlagsAdd(String(movedUid), ['\\Flagged'], { uid: true }), [{ mailbox: 'Work', kind: 'flagsChanged', uid: movedUid }])
      await expectSignals(() => c.messageFlagsRemove(String(movedUid), ['\\Flagged'], { uid: true }), [{ mailbox: 'Work', kind: 'flagsChanged', uid: movedUid }])
      await expectSignals(() => c.messageDelete(String(workUid), { uid: true }), [{ mailbox: 'Work', kind: 'messageExpunged', uid: workUid }])
    } finally {
      await c.logout()
    }
  })

  it('folders renamed and deleted, with names outside ASCII, quotes and backslashes, arrive in UTF-8 exactly', async () => {
    const c = clientAs(d, 'alice')
    await c.connect()
    try {
      // imapflow sends the new name in modified UTF-7; Dovecot hands the script UTF-8.
      await expectSignals(() => c.mailboxRename('Work', 'Éléments envoyés'), [{ account: 'alice', mailbox: 'Éléments envoyés', kind: 'mailboxRenamed', oldMailbox: 'Work' }])
    } finally {
      await c.logout()
    }
    await expectSignals(
      () => doveadm(d, ['mailbox', 'create', '-u', 'alice', 'Quo"te\\Back', 'Emoji😀', '日本語.Sub']),
      [
        { mailbox: 'Quo"te\\Back', kind: 'mailboxCreated' },
        { mailbox: 'Emoji😀', kind: 'mailboxCreated' },
        { mailbox: '日本語.Sub', kind: 'mailboxCreated' },
      ],
    )
    await expectSignals(() => doveadm(d, ['save', '-u', 'alice', '-m', 'Quo"te\\Back'], message('quoted')), [{ mailbox: 'Quo"te\\Back', kind: 'messageNew', uid: 1 }])
    await expectSignals(() => doveadm(d, ['flags', 'add', '-u', 'alice', '\\Seen', 'mailbox', 'Quo"te\\Back', 'all']), [{ mailbox: 'Quo"te\\Back', kind: 'flagsChanged', uid: 1 }])
    // Deleting a folder that holds messages expunges them first.
    await expectSignals(
      () => doveadm(d, ['mailbox', 'delete', '-u', 'alice', 'Éléments envoyés']),
      [
        { mailbox: 'Éléments envoyés', kind: 'messageExpunged' },
        { mailbox: 'Éléments envoyés', kind: 'mailboxDeleted' },
      ],
    )
  })

  it('lazy_expunge: the copy an expunge keeps in EXPUNGED is in the spool, but signalled only when not ignored', () => {
    expect(f.records.some((r) => r.events.some((e) => e.mailbox === 'EXPUNGED' && e.name === 'MessageAppend'))).toBe(true)
    expect(signals().some((s) => s.mailbox === 'EXPUNGED')).toBe(false)
  })

  it('lazy_expunge: a message appended and expunged at once is read back from EXPUNGED by the master user, who still reads INBOX and does not see EXPUNGED listed', async () => {
    const body = message('short-lived', 'this message lived for an instant')
    const c = clientAs(d, 'alice')
    await c.connect()
    try {
      await c.mailboxOpen('INBOX')
      const a = await c.append('INBOX', body)
      if (a === false || a.uid === undefined) throw new Error('append failed')
      await c.messageDelete(String(a.uid), { uid: true })
    } finally {
      await c.logout()
    }
    const m = clientAs(d, 'alice')
    await m.connect()
    try {
      expect((await m.list()).map((x) => x.path)).not.toContain('EXPUNGED')
      await m.mailboxOpen('INBOX', { readOnly: true })
      await m.mailboxOpen('EXPUNGED', { readOnly: true })
      const found: string[] = []
      for await (const msg of m.fetch('1:*', { source: true })) found.push(msg.source?.toString('utf8') ?? '')
      expect(found).toContain(body)
    } finally {
      await m.logout()
    }
  })

  describeWithService(fs.existsSync(STRACE), 'strace')('what the script does inside the mail process', () => {
    it('only appends one line to the spool file, in one write, and talks to nothing (so the mail operation never waits on Mailtime)', () => {
      const trace = path.join(d.dir, 'save.strace')
      const r = spawnSync(STRACE, ['-f', '-y', '-qq', '-e', 'trace=%file,%network,%desc', '-o', trace, '/usr/bin/doveadm', '-c', d.conf, 'save', '-u', 'alice'], {
        input: message('traced'),
      })
      expect(r.status).toBe(0)
      const lines = fs.readFileSync(trace, 'utf8').split('\n')
      const onSpool = lines.filter((l) => l.includes(`${spool}/`) && !l.includes('mailtime-feed.lua'))
      // strace splits a call that another thread interrupted: `123 openat(… <unfinished ...>`, then `123 <... openat resumed>…`.
      const calls = onSpool.map((l) => /^\d+\s+(?:<\.\.\. )?(\w+)[( ]/.exec(l)?.[1])
      // open (append), check that the last byte is a newline, write, close: nothing else.
      expect(new Set(calls)).toEqual(new Set(['openat', 'newfstatat', 'lseek', 'read', 'write', 'close']))
      expect(onSpool.filter((l) => /^\d+\s+openat\(/.test(l)).every((l) => l.includes('O_RDWR|O_CREAT|O_APPEND'))).toBe(true)
      const writes = onSpool.filter((l) => /^\d+\s+write\(/.test(l))
      expect(writes).toHaveLength(1)
      const file = /<([^>]+\.jsonl)>/.exec(writes[0] ?? '')?.[1] ?? ''
      const last = fs.readFileSync(file, 'utf8').split('\n').slice(-2)[0] ?? ''
      expect(writes[0]).toMatch(new RegExp(`= ${Buffer.byteLength(last) + 1}$`))
      expect(last).toMatch(/"svc":"doveadm".*"MessageAppend"/)
      // No connection but Dovecot's own sockets (its config, stats, auth) and the name service.
      const connects = lines.filter((l) => /^\d+\s+connect\(/.test(l)).map((l) => /sun_path="([^"]+)"|sin6?_port/.exec(l)?.[1] ?? l)
      for (const c of connects) expect(c.startsWith(d.dir) || c === '/run/dovecot/config' || c === '/var/run/nscd/socket').toBe(true)
    })
  })

  it('a missing spool directory: the mail operation succeeds, and Dovecot says why the change is not in the spool', async () => {
    fs.renameSync(spool, `${spool}.away`)
    try {
      const r = spawnSync('/usr/bin/doveadm', ['-c', d.conf, 'save', '-u', 'alice', '-m', 'INBOX'], { input: message('no-spool') })
      expect(r.status).toBe(0)
      expect(r.stderr.toString()).toMatch(/Warning: mailtime feed: cannot append to .*\.jsonl: No such file or directory \(this change is not in the spool\)/)
      expect(doveadm(d, ['search', '-u', 'alice', 'mailbox', 'INBOX', 'header', 'message-id', '<nospool@example.com>'])).not.toBe('')
    } finally {
      fs.renameSync(`${spool}.away`, spool)
    }
  })

  it('a full spool (a write that fails): the mail operation succeeds, and Dovecot says so', async () => {
    const away = path.join(path.dirname(spool), 'moved')
    fs.mkdirSync(away, { recursive: true })
    const names = currentFiles()
    for (const n of names) {
      if (fs.existsSync(path.join(spool, n))) fs.renameSync(path.join(spool, n), path.join(away, n))
      fs.symlinkSync('/dev/full', path.join(spool, n))
    }
    try {
      const r = spawnSync('/usr/bin/doveadm', ['-c', d.conf, 'save', '-u', 'alice', '-m', 'INBOX'], { input: message('full-spool') })
      expect(r.status).toBe(0)
      expect(r.stderr.toString()).toMatch(/Warning: mailtime feed: cannot append to .*: No space left on device \(this change is not in the spool\)/)
    } finally {
      for (const n of names) {
        fs.unlinkSync(path.join(spool, n))
        if (fs.existsSync(path.join(away, n))) fs.renameSync(path.join(away, n), path.join(spool, n))
      }
    }
  })

  it('a line left incomplete by a failed write is closed by the next transaction: reported with its file and line, and the next change still arrives', async () => {
    const fragment = '{"v":1,"user":"alice","svc":"imap","ok":true,"res":1,"events":[{"e":"Mess'
    for (const n of currentFiles()) fs.appendFileSync(path.join(spool, n), fragment)
    await expectSignals(() => doveadm(d, ['save', '-u', 'alice', '-m', 'INBOX'], message('after-fragment')), [{ account: 'alice', mailbox: 'INBOX', kind: 'messageNew' }])
    const p = f.problems.find((x) => x.excerpt === fragment)
    expect(p).toMatchObject({ _tag: 'MalformedLine' })
    const file = fs.readFileSync(path.join(spool, p?.file ?? ''), 'utf8').split('\n')
    expect(file[(p?.line ?? 0) - 1]).toBe(fragment)
  })
})

describeWithService(dovecotAvailable(), 'Dovecot')('the Dovecot change feed without LuaSocket time (mailtime_spool_clock = seconds)', () => {
  let d: Dovecot
  let spool: string
  beforeAll(async () => {
    d = await startDovecot({ carol: 'carolpw' }, { feed: { clock: 'seconds' } })
    spool = d.spoolDir as string
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('dates changes at the start of their second, and says so', async () => {
    const f = await startFollowing(spool)
    try {
      const before = Date.now()
      doveadm(d, ['save', '-u', 'carol'], message('seconds'))
      await f.until('the record', () => f.records.some((r) => r.events.some((e) => e.name === 'MessageAppend')))
      const r = f.records.find((x) => x.events.some((e) => e.name === 'MessageAppend'))
      expect(r?.resolutionMs).toBe(1000)
      const [s] = signalsOfRecord(r as NonNullable<typeof r>).filter((x) => x.kind === 'messageNew')
      expect(s?.atPrecision).toBe('second')
      expect((s?.at ?? 1) % 1000).toBe(0)
      expect(s?.at).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
      expect(s?.at).toBeLessThanOrEqual(Date.now())
    } finally {
      await f.stop()
    }
  })
})
