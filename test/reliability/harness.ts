/**
 * The fault-injection harness: runs capture, restore, export and rewind as child processes against
 * a real Dovecot and a real store, kills each with SIGKILL at a random point (a random delay, or
 * right after a random batch, step or action reached the store or the server), runs the same
 * command again, and compares the outcome with a clean run: the same events (by id and content), the
 * same target mailbox (bytes, flags, folders), the same export (file hashes), the same rewound
 * account as a clean rewind's on a twin (Message-ID, bytes, flags, folders).
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import type { ImapFlow } from 'imapflow'
import { mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, clientAs } from '../support/dovecot'
import { tmpDir } from '../support/tmp'
import { readAccountWith } from '../support/hijack'

export interface Trial {
  readonly scenario: string
  /** Where it was killed: "after 640 ms", "after batch 3", "after step 3" or "after action 3" (see `killed` for whether it landed). */
  readonly killedAt: string
  readonly killed: boolean
  readonly lost: number
  readonly duplicated: number
  /** The whole outcome equals the clean run's. */
  readonly same: boolean
  readonly detail: string
}

/** A seeded generator, so that a failing trial can be run again (the seed is in the report). */
export const random = (seed: number) => {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

export const imapEnv = (d: Dovecot, extra: Record<string, string> = {}): Record<string, string> => ({
  MAILTIME_IMAP_URL: d.url,
  MAILTIME_IMAP_USER: 'admin',
  MAILTIME_IMAP_PASSWORD: 'adminpw',
  ...extra,
})

/** Runs the CLI; with `killAfterMs`, SIGKILLs it then (unless it ended first). */
const run = async (
  args: readonly string[],
  env: Record<string, string>,
  killAfterMs?: number,
): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> => {
  const p = mailtimeAsync(args, env)
  const t = killAfterMs === undefined ? undefined : setTimeout(() => p.child.kill('SIGKILL'), killAfterMs)
  const r = await p.done
  if (t !== undefined) clearTimeout(t)
  // 137 is how mailtimeAsync reports a SIGKILL, ours or the process's own (a fault switch).
  return { code: r.code === 137 ? null : r.code, killed: r.code === 137, stdout: r.stdout, stderr: r.stderr }
}

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = Date.now()
  await f()
  return Date.now() - t0
}

/** Fills an account with messages in four folders (the capture and restore workload). */
export const fillAccount = async (d: Dovecot, user: string, n: number): Promise<void> => {
  const c = clientAs(d, user)
  await c.connect()
  for (const box of ['Work', 'Work.Old', 'Trash']) await c.mailboxCreate(box)
  const boxes = ['INBOX', 'Work', 'Work.Old', 'Trash']
  for (let i = 0; i < n; i++)
    await c.append(
      boxes[i % 4] as string,
      Buffer.from(`Subject: m${i}\r\nMessage-ID: <m${i}@torture>\r\n\r\n${'x'.repeat(300 + i)}\r\n`),
      i % 3 ? ['\\Seen'] : [],
      new Date(Date.UTC(2026, 1, 1, 0, i)),
    )
  await c.logout()
}

/** The account's events as a backup export lists them, without the instant each was recorded. */
const eventsOf = (store: readonly string[], account: string, env: Record<string, string>): string[] => {
  const dest = path.join(tmpDir(), 'events')
  const r = mailtime([...store, 'exportHistory', account, 'dest', dest], env)
  if (r.code !== 0) throw new Error(`exportHistory exited ${r.code}: ${r.stderr}`)
  return fs
    .readFileSync(path.join(dest, 'timeline.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const { recordedAt: _r, ...event } = (JSON.parse(l) as { event: Record<string, unknown> }).event
      return JSON.stringify(event)
    })
}

const compareLists = (expected: readonly string[], got: readonly string[]): { lost: number; duplicated: number } => {
  const count = (xs: readonly string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())
  const e = count(expected)
  const g = count(got)
  let lost = 0
  let duplicated = 0
  for (const [k, n] of e) lost += Math.max(0, n - (g.get(k) ?? 0))
  for (const [k, n] of g) duplicated += Math.max(0, n - (e.get(k) ?? 0))
  return { lost, duplicated }
}

export interface Scenario {
  readonly name: string
  /** What its kill points come after ("batch" unless said). */
  readonly killUnit?: string
  /** Every trial is killed at a kill point, never after a random delay (a delay would mostly land in the captures around the actions). */
  readonly killPointsOnly?: boolean
  /**
   * Runs the command cleanly once and returns what every trial must reproduce, and how many
   * batch-boundary kill points it has (a trial killed "after batch N" takes N from 1 to that).
   */
  clean(): Promise<{ outcome: string[]; ms: number; killPoints: number }>
  /** One trial: kill (by delay or after a batch), resume, and the outcome. */
  trial(
    kill: { afterMs: number } | { afterBatch: number },
    n: number,
  ): Promise<{ outcome: string[]; killed: boolean; firstCode: number | null; firstStderr: string; resumeCode: number | null; stderr: string }>
}

/** Capture: a first scan of `user`, in batches of 20 events, into a fresh store per run (`storeFor` gives its global flags). */
export const captureScenario = (d: Dovecot, user: string, storeFor: (name: string) => Promise<string[]>, extraEnv: Record<string, string> = {}, label = 'capture'): Scenario => {
  const env = imapEnv(d, { MAILTIME_SCAN_BATCH_SIZE: '20', ...extraEnv })
  return {
    name: `${label}${extraEnv.MAILTIME_TEST_BUG === undefined ? '' : ` (planted bug: ${extraEnv.MAILTIME_TEST_BUG})`}`,
    clean: async () => {
      const store = await storeFor('clean')
      const ms = await timed(() => run([...store, 'doAccountScan', user], imapEnv(d, { MAILTIME_SCAN_BATCH_SIZE: '20' })))
      const outcome = eventsOf(store, user, {})
      // After the last batch the scan has nothing left to do.
      return { outcome, ms, killPoints: Math.ceil(outcome.length / 20) - 1 }
    },
    trial: async (kill, n) => {
      const store = await storeFor(`trial-${n}`)
      const first = await run(
        [...store, 'doAccountScan', user],
        'afterBatch' in kill ? { ...env, MAILTIME_FAULT: `kill-after-batch:${kill.afterBatch}` } : env,
        'afterMs' in kill ? kill.afterMs : undefined,
      )
      const again = await run([...store, 'doAccountScan', user], env)
      return { outcome: eventsOf(store, user, {}), killed: first.killed, firstCode: first.code, firstStderr: first.stderr, resumeCode: again.code, stderr: again.stderr }
    },
  }
}

/** What a mailbox holds: per folder, each message's SHA-256 and flags (not \Recent, which says who looked first). */
export const mailboxOf = async (d: Dovecot, user: string): Promise<string[]> => {
  const c: ImapFlow = clientAs(d, user)
  await c.connect()
  const out: string[] = []
  try {
    for (const box of await c.list()) {
      if (box.flags.has('\\Noselect')) continue
      let lock
      try {
        lock = await c.getMailboxLock(box.path)
      } catch (e) {
        // A folder listed but not openable is part of what the account looks like.
        out.push(`${box.path} cannot be opened: ${(e as { responseText?: string }).responseText ?? (e as Error).message}`)
        continue
      }
      try {
        for await (const m of c.fetch('1:*', { source: true, flags: true }, { uid: false })) {
          out.push(
            `${box.path} ${createHash('sha256')
              .update(m.source ?? Buffer.alloc(0))
              .digest('hex')} ${[...(m.flags ?? [])]
              .filter((f) => f !== '\\Recent')
              .sort()
              .join(' ')}`,
          )
        }
      } catch {
        // An empty folder answers 1:* with nothing.
      } finally {
        lock.release()
      }
    }
  } finally {
    await c.logout()
  }
  return out.sort()
}

/** Restore: `doRestoreOnNewAccount source → a new account per run`, in batches of 10, over IMAP. */
export const restoreScenario = (d: Dovecot, store: string, source: string): Scenario => {
  const env = imapEnv(d, { MAILTIME_RESTORE_BATCH_SIZE: '10' })
  const restoreInto = (target: string, extra: Record<string, string>, killAfterMs?: number) => {
    d.addUser(target, 'pw')
    return run(['--store', store, 'doRestoreOnNewAccount', source, target, 'last'], { ...env, ...extra }, killAfterMs)
  }
  return {
    name: 'restore',
    clean: async () => {
      const ms = await timed(() => restoreInto('clean', {}))
      const outcome = await mailboxOf(d, 'clean')
      return { outcome, ms, killPoints: Math.ceil(outcome.length / 10) - 1 }
    },
    trial: async (kill, n) => {
      const target = `trial${n}`
      const first = await restoreInto(target, 'afterBatch' in kill ? { MAILTIME_FAULT: `kill-after-append:${kill.afterBatch}` } : {}, 'afterMs' in kill ? kill.afterMs : undefined)
      const again = await run(['--store', store, 'doRestoreOnNewAccount', source, target, 'last'], env)
      return { outcome: await mailboxOf(d, target), killed: first.killed, firstCode: first.code, firstStderr: first.stderr, resumeCode: again.code, stderr: again.stderr }
    },
  }
}

/**
 * Export: `exportHistory` to a fixed instant; the outcome is every file's hash and size. Its kill
 * points (`MAILTIME_FAULT=kill-after-step:N`) are after each of its six steps: the two state files,
 * the timeline, the content files and MBOXes, the manifest, and the move into `dest` (the last one
 * before the operation records its end).
 */
export const exportScenario = (store: string, account: string, to: string): Scenario => {
  const filesOf = (dest: string): string[] => {
    const m = JSON.parse(fs.readFileSync(path.join(dest, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string; size: number }[]; timeline: { head: string } }
    return [...m.files.map((f) => `${f.path} ${f.sha256} ${f.size}`), `head ${m.timeline.head}`].sort()
  }
  const exportTo = (dest: string, env: Record<string, string> = {}, killAfterMs?: number) =>
    run(['--store', store, 'exportHistory', account, 'to', to, 'dest', dest], env, killAfterMs)
  return {
    name: 'export',
    killUnit: 'step',
    clean: async () => {
      const dest = path.join(tmpDir(), 'clean')
      const ms = await timed(() => exportTo(dest))
      return { outcome: filesOf(dest), ms, killPoints: 6 }
    },
    trial: async (kill) => {
      const dest = path.join(tmpDir(), 'trial')
      const first = await exportTo(dest, 'afterBatch' in kill ? { MAILTIME_FAULT: `kill-after-step:${kill.afterBatch}` } : {}, 'afterMs' in kill ? kill.afterMs : undefined)
      // Run again whether or not the kill landed: a finished export is found done and verified.
      const again = await exportTo(dest)
      return {
        outcome: fs.existsSync(path.join(dest, 'manifest.json')) ? filesOf(dest) : [],
        killed: first.killed,
        firstCode: first.code,
        firstStderr: first.stderr,
        resumeCode: again.code,
        stderr: again.stderr,
      }
    },
  }
}

/** A message of the rewind's accounts: the same bytes in every account, so that twins hold the same mail. */
const rewindMail = (id: string, body: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: owner@example.com\r\nSubject: ${id}\r\nMessage-ID: <${id}@torture>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\n${body}\r\n`,
  )

/**
 * What an account holds, read by a session of its own (a session with a folder open from before
 * other sessions' changes keeps a stale view of it): `folder/` per selectable folder, and
 * `folder: <Message-ID> <body SHA-256> [flags] <INTERNALDATE>` per message, sorted; so a message
 * lost or written twice is a line missing or repeated.
 */
export const accountOf = (d: Dovecot, user: string): Promise<string[]> =>
  readAccountWith(d, user, (folder, m) => `${folder}: ${m.messageId} ${createHash('sha256').update(m.source).digest('hex')} [${m.flags}] ${m.internalDate}`)

/** Resolves once the clock has passed `t`: whatever is done next happens after it. */
const clockPast = async (t: number): Promise<void> => {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1))
}

/**
 * Rewind: per run a fresh account on the real Dovecot (ten messages in four folders, with flags and
 * keywords), captured; an instant taken after that capture; then a hijack by a plain IMAP client
 * (three messages moved, one into a folder made for it, flags changed on three, two deleted,
 * Projects renamed Stolen, two new messages after the instant); then `doRewind <account> <instant>`
 * (new mail kept aside in `kept`, the folder made since removed). A trial's first run is killed
 * right after a random action reached the server (MAILTIME_FAULT=kill-after-action:N, N within the
 * count of actions a dry run plans, messages written back excluded as they are not actions), then
 * the same command runs to the end. Its outcome is the account read over IMAP afterwards, which must
 * equal the clean rewind's on an identical twin account; the clean one must equal the account as it
 * was at the instant plus the new mail in `kept`.
 */
export const rewindScenario = (d: Dovecot, store: readonly string[]): Scenario => {
  const env = imapEnv(d)
  const words = (user: string, instant: string) => ['doRewind', user, instant, 'keep_after', 'kept', 'remove_new_folders', 'true']
  let planned = 0
  const uidsOf = async (c: ImapFlow): Promise<Record<string, number>> => {
    const uid: Record<string, number> = {}
    for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uid[m.envelope?.subject ?? ''] = m.uid
    return uid
  }
  /** A fresh account, captured, and an instant after the capture; the account as it was then; then the hijack. */
  const prepare = async (user: string): Promise<{ instant: string; before: string[] }> => {
    d.addUser(user, 'pw')
    const c = clientAs(d, user)
    await c.connect()
    try {
      for (const f of ['Projects', 'Archive', 'Trash']) await c.mailboxCreate(f)
      const at = (n: number) => new Date(Date.UTC(2026, 2, 1, 9, n))
      const put: [string, string, string[]][] = [
        ['INBOX', 'r1', ['\\Seen']],
        ['INBOX', 'r2', []],
        ['INBOX', 'r3', ['$Work', '\\Answered']],
        ['INBOX', 'r4', ['\\Seen']],
        ['INBOX', 'r5', []],
        ['Projects', 'r6', ['\\Flagged', 'Review']],
        ['Projects', 'r7', ['\\Seen']],
        ['Archive', 'r8', ['\\Seen']],
        ['Archive', 'r9', []],
        ['Trash', 'r10', ['\\Seen']],
      ]
      for (const [i, [box, id, flags]] of put.entries()) await c.append(box, rewindMail(id, `${id} ${'body '.repeat(40 * (i + 1))}`), flags, at(i))
    } finally {
      await c.logout().catch(() => undefined)
    }
    const scan = await run([...store, 'doAccountScan', user], env)
    if (scan.code !== 0) throw new Error(`doAccountScan ${user} exited ${scan.code}: ${scan.stderr}`)
    // The instant: after every event of that capture, and before anything of the hijack.
    await clockPast(Date.now())
    const instant = Date.now()
    await clockPast(instant)
    const before = await accountOf(d, user)

    const h = clientAs(d, user)
    await h.connect()
    try {
      let lock = await h.getMailboxLock('INBOX')
      try {
        const uid = await uidsOf(h)
        await h.messageMove(`${uid.r2},${uid.r4}`, 'Trash', { uid: true })
        await h.messageFlagsSet(String(uid.r1), ['\\Flagged'], { uid: true })
        await h.messageFlagsAdd(String(uid.r5), ['\\Seen', 'stolen'], { uid: true })
        await h.messageDelete(String(uid.r3), { uid: true })
      } finally {
        lock.release()
      }
      lock = await h.getMailboxLock('Projects')
      try {
        await h.messageFlagsRemove(String((await uidsOf(h)).r6), ['\\Flagged'], { uid: true })
      } finally {
        lock.release()
      }
      await h.mailboxCreate('Loot')
      lock = await h.getMailboxLock('Archive')
      try {
        const uid = await uidsOf(h)
        await h.messageMove(String(uid.r8), 'Loot', { uid: true })
        await h.messageDelete(String(uid.r9), { uid: true })
      } finally {
        lock.release()
      }
      await h.mailboxRename('Projects', 'Stolen')
      await h.append('INBOX', rewindMail('n1', 'arrived after the instant'), [], new Date(Date.UTC(2026, 2, 3)))
      await h.append('Stolen', rewindMail('n2', 'arrived after the instant, into the renamed folder'), ['\\Seen'], new Date(Date.UTC(2026, 2, 4)))
    } finally {
      await h.logout().catch(() => undefined)
    }
    return { instant: new Date(instant).toISOString(), before }
  }
  /** The actions a dry run plans that the kill switch counts (all but the messages written back). */
  const actionsPlanned = async (user: string, instant: string): Promise<number> => {
    const dry = await run([...store, '--json', ...words(user, instant), 'dry_run', 'true'], env)
    if (dry.code !== 0) throw new Error(`the dry run of ${user} exited ${dry.code}: ${dry.stderr}`)
    const plan = (JSON.parse(dry.stdout) as { plan: { groups: { actions: { kind: string }[] }[] } }).plan
    return plan.groups.flatMap((g) => g.actions).filter((a) => a.kind !== 'comeBack').length
  }
  return {
    name: 'rewind',
    killUnit: 'action',
    killPointsOnly: true,
    clean: async () => {
      const { instant, before } = await prepare('rwclean')
      const hijacked = await accountOf(d, 'rwclean')
      planned = await actionsPlanned('rwclean', instant)
      const t0 = Date.now()
      const r = await run([...store, ...words('rwclean', instant)], env)
      const ms = Date.now() - t0
      if (r.code !== 0) throw new Error(`the clean rewind exited ${r.code}: ${r.stderr}`)
      const outcome = await accountOf(d, 'rwclean')
      // The clean rewind itself must give the account at the instant plus the new mail, once each, in `kept`.
      const kept = hijacked.filter((l) => / <n\d@torture> /.test(l)).map((l) => `kept: ${l.slice(l.indexOf(': ') + 2)}`)
      const expected = [...before, 'kept/', ...kept].sort()
      if (kept.length !== 2 || JSON.stringify(outcome) !== JSON.stringify(expected))
        throw new Error(
          `the clean rewind did not end as the account was at the instant plus the new mail:\nexpected ${JSON.stringify(expected, null, 1)}\ngot ${JSON.stringify(outcome, null, 1)}`,
        )
      return { outcome, ms, killPoints: planned }
    },
    trial: async (kill, n) => {
      const user = `rwtrial${n}`
      const { instant } = await prepare(user)
      // Its twin's plan: the same account, the same hijack, so the same actions.
      const count = await actionsPlanned(user, instant)
      if (count !== planned) throw new Error(`${user}'s dry run plans ${count} actions, its twin's ${planned}: the accounts are not twins`)
      const first = await run(
        [...store, ...words(user, instant)],
        'afterBatch' in kill ? { ...env, MAILTIME_FAULT: `kill-after-action:${kill.afterBatch}` } : env,
        'afterMs' in kill ? kill.afterMs : undefined,
      )
      const again = await run([...store, '--json', ...words(user, instant)], env)
      // Exit 0 says done with no difference found by its last capture; its document must say the same.
      let said: { state?: string; differences?: { text?: string }[] } = {}
      try {
        said = JSON.parse(again.stdout) as typeof said
      } catch {
        // No document (a usage error, a crash): its stderr says why.
      }
      const done = said.state === 'done' && said.differences?.length === 0
      const why =
        said.state === undefined
          ? ''
          : `the rewind ended ${said.state}, ${said.differences?.length ?? 0} differences${said.differences?.[0]?.text === undefined ? '' : ` (first: ${said.differences[0].text})`}\n`
      return {
        outcome: await accountOf(d, user),
        killed: first.killed,
        firstCode: first.code,
        firstStderr: first.stderr,
        resumeCode: again.code === 0 && !done ? -1 : again.code,
        stderr: done ? again.stderr : `${why}${again.stderr}`,
      }
    },
  }
}

/** The first line of stderr that is not a test switch's warning, after a colon. */
const firstError = (stderr: string): string => {
  const line = stderr.split('\n').find((l) => l.trim() !== '' && !l.startsWith('mailtime: WARNING'))
  return line === undefined ? '' : `: ${line.trim()}`
}

/**
 * Runs `trials` trials of a scenario: kill points alternate between right after a random batch
 * (first, so that even one trial has a kill that lands) and a random delay within the clean run's
 * duration.
 */
export const torture = async (s: Scenario, trials: number, seed: number, deadline = Number.POSITIVE_INFINITY): Promise<Trial[]> => {
  const rnd = random(seed)
  const clean = await s.clean()
  const out: Trial[] = []
  for (let n = 0; n < trials && Date.now() < deadline; n++) {
    if (s.killPointsOnly === true && clean.killPoints === 0) throw new Error(`${s.name}: the clean run has no kill points`)
    const byBatch = clean.killPoints > 0 && (s.killPointsOnly === true || n % 2 === 0)
    // Delays within the first 80% of a clean run, so that most land before its end.
    const kill = byBatch ? { afterBatch: 1 + Math.floor(rnd() * clean.killPoints) } : { afterMs: Math.floor(50 + rnd() * 0.8 * clean.ms) }
    const t = await s.trial(kill, n)
    const { lost, duplicated } = compareLists(clean.outcome, t.outcome)
    const same = lost === 0 && duplicated === 0 && t.outcome.length === clean.outcome.length && t.resumeCode === 0
    out.push({
      scenario: s.name,
      killedAt: 'afterBatch' in kill ? `after ${s.killUnit ?? 'batch'} ${kill.afterBatch}` : `after ${kill.afterMs} ms`,
      killed: t.killed,
      lost,
      duplicated,
      same,
      detail: [t.killed ? '' : `first run ended by itself (exit ${t.firstCode}${firstError(t.firstStderr)})`, same ? '' : `resume exited ${t.resumeCode}${firstError(t.stderr)}`]
        .filter((x) => x !== '')
        .join('; '),
    })
  }
  return out
}

/** How many trials were killed before their command ended. */
export const killedMidRun = (trials: readonly Trial[]): number => trials.filter((t) => t.killed).length

export const summarize = (trials: readonly Trial[]): string =>
  [
    '| scenario | trials | killed mid-run | lost | duplicated | different from a clean run |',
    '| --- | --- | --- | --- | --- | --- |',
    ...[...new Set(trials.map((t) => t.scenario))].map((sc) => {
      const ts = trials.filter((t) => t.scenario === sc)
      return `| ${sc} | ${ts.length} | ${killedMidRun(ts)} | ${ts.reduce((n, t) => n + t.lost, 0)} | ${ts.reduce((n, t) => n + t.duplicated, 0)} | ${ts.filter((t) => !t.same).length} |`
    }),
  ].join('\n')
