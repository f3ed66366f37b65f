/**
 * Mailtime down while mail keeps changing: the follower process (feedsFollowerChild.js: the built
 * modules, checkpoints in a real SQLite store) is killed with SIGKILL while doveadm changes mail,
 * mail keeps changing while it is down, then it is started again. Every line the mail server wrote
 * is delivered exactly once after the committed position: what the first run committed, followed
 * by everything the second run delivered, is every line of the spool, in order, each once. The
 * test waits on what the child reports, and kills it in any case.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'child_process'
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as path from 'path'
import { defaultCheckpointName } from '../../src/capture/feeds/spoolFollower'
import { type SpoolPosition, decodePosition, isSpoolFile } from '../../src/capture/feeds/spoolPosition'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { doveadm, message, waiter } from './feedsHarness'

const CHILD = path.join(__dirname, 'feedsFollowerChild.js')

interface Run {
  readonly child: ChildProcessWithoutNullStreams
  /** How many records the child says it recorded so far. */
  recorded(): number
  until(what: string, ok: () => boolean): Promise<void>
}

const start = (spool: string, store: string, out: string): Run => {
  const child = spawn(process.execPath, [CHILD, spool, store, out], { stdio: ['pipe', 'pipe', 'pipe'] })
  const w = waiter()
  let recorded = 0
  let stderr = ''
  let partial = ''
  child.stdout.on('data', (b: Buffer) => {
    const lines = (partial + b.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const l of lines) {
      const m = /^recorded (\d+)$/.exec(l)
      if (m !== null) recorded += Number(m[1])
    }
    w.poke()
  })
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  child.on('exit', () => w.poke())
  return {
    child,
    recorded: () => recorded,
    until: (what, ok) =>
      w.until(what, () => {
        if (ok()) return true
        if (child.exitCode !== null) throw new Error(`the follower exited (${child.exitCode}) before ${what}: ${stderr}`)
        return false
      }),
  }
}

const kill = (r: Run | undefined): void => {
  if (r !== undefined && r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL')
}

interface Ref {
  readonly file: string
  readonly line: number
}
const key = (r: Ref) => `${r.file}:${r.line}`

/** Every line of the spool, read here independently of the follower. */
const spoolLines = (spool: string): Ref[] =>
  fs
    .readdirSync(spool)
    .filter(isSpoolFile)
    .sort()
    .flatMap((file) =>
      fs
        .readFileSync(path.join(spool, file), 'utf8')
        .split('\n')
        .slice(0, -1)
        .map((_, i) => ({ file, line: i + 1 })),
    )

const recordedBy = (out: string): Ref[] =>
  fs.existsSync(out)
    ? fs
        .readFileSync(out, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Ref)
    : []

const committedPosition = async (storeFile: string, spool: string): Promise<SpoolPosition> => {
  const h = openSqliteDatabase(storeFile)
  if (E.isLeft(h)) throw new Error('no store')
  const store = sqliteEventStore(h.right)
  try {
    const c = await store.readCheckpoint(defaultCheckpointName(spool))()
    if (E.isLeft(c) || c.right === undefined) throw new Error('no checkpoint')
    const p = decodePosition(c.right)
    if (E.isLeft(p)) throw new Error(p.left)
    return p.right
  } finally {
    await store.close()
  }
}

describeWithService(dovecotAvailable(), 'Dovecot')('the spool follower killed while mail keeps changing', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw' }, { feed: {} })
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('delivers every change exactly once after the committed position when it is started again', async () => {
    const spool = d.spoolDir as string
    const dir = tmpDir('mailtime-feed-restart-')
    const storeFile = path.join(dir, 'store.db')
    const out1 = path.join(dir, 'run1.jsonl')
    const out2 = path.join(dir, 'run2.jsonl')
    let n = 0
    /** A new message for alice or bob: at least one line in the spool (the first also creates INBOX). */
    const change = () => {
      n++
      doveadm(d, ['save', '-u', n % 2 === 0 ? 'alice' : 'bob'], message(`change ${n}`))
    }
    let first: Run | undefined
    let second: Run | undefined
    try {
      first = start(spool, storeFile, out1)
      // Mail changes while the follower runs; it is killed mid-stream, after some batches.
      while (first.recorded() < 12) {
        change()
        await first.until(`record ${Math.min(n, 12)}`, () => first !== undefined && first.recorded() >= Math.min(n - 2, 12))
      }
      change()
      change()
      const exited = new Promise<void>((resolve) => first?.child.once('exit', () => resolve()))
      kill(first)
      await exited
      const committed = await committedPosition(storeFile, spool)
      // Mailtime is down: mail keeps changing.
      for (let i = 0; i < 15; i++) change()
      second = start(spool, storeFile, out2)
      for (let i = 0; i < 5; i++) change()
      // Every line written is in the spool before doveadm returns: wait until the second run has them all.
      const all = spoolLines(spool)
      const run1 = recordedBy(out1)
      const line = new Map(committed.files.map((f) => [f.name, f.line]))
      const upToCheckpoint = run1.filter((r) => r.line <= (line.get(r.file) ?? 0))
      await second.until(`${all.length - upToCheckpoint.length} records`, () => second !== undefined && second.recorded() >= all.length - upToCheckpoint.length)
      const run2 = recordedBy(out2)

      expect(upToCheckpoint.length).toBeGreaterThan(0)
      expect(run2.length).toBeGreaterThan(15)
      // What the first run committed is a prefix of what it recorded, in order.
      expect(run1.slice(0, upToCheckpoint.length)).toEqual(upToCheckpoint)
      // The committed prefix, then the second run: every line of the spool, each exactly once, in order.
      expect([...upToCheckpoint, ...run2].map(key)).toEqual(all.map(key))
      // What the first run recorded after its last commit (if the kill fell there) is delivered again.
      for (const r of run1.slice(upToCheckpoint.length)) expect(run2.map(key)).toContain(key(r))
      expect(all.length).toBeGreaterThanOrEqual(n)
    } finally {
      kill(first)
      kill(second)
    }
  })
})
