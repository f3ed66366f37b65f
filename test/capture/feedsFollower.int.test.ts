/**
 * The spool follower on a real directory (Node's fs, fs.watch), with checkpoints in memory and a
 * clock the test sets: order across hourly files, lines completed later, malformed and truncated
 * lines, the committed position across restarts, deletion of sealed files, late writes, wake-ups
 * by fs.watch and by polling, and a spool that is missing. The lines are written here as the Lua
 * script writes them; the Dovecot suite has the script write them.
 */
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as path from 'path'
import { storeCheckpoints } from '../../src/capture/feeds/checkpoints'
import { nodeSpoolFs } from '../../src/capture/feeds/nodeSpoolFs'
import { type FollowerOptions, type SpoolFollower, openSpoolFollower } from '../../src/capture/feeds/spoolFollower'
import { decodePosition } from '../../src/capture/feeds/spoolPosition'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { follow, memoryCheckpoints, waiter } from './feedsHarness'

const HOUR = 3_600_000
/** 2026-12-07 15:00 UTC: the hour of `H15`. */
const T15 = Date.UTC(2026, 11, 7, 15)
const H14 = '2026120714.jsonl'
const H15 = '2026120715.jsonl'
const H16 = '2026120716.jsonl'

const rec = (user: string, uid: number) =>
  `{"v":1,"user":"${user}","svc":"imap","ok":true,"res":1,"events":[{"e":"MessageAppend","box":"INBOX","t":${T15 + uid},"uid":${uid},"uv":7}]}\n`

/** Node's fs, counting the follower's passes (each lists the directory once) so a test can wait for passes. */
const countingFs = () => {
  const w = waiter()
  const counted = {
    passes: 0,
    fs: {
      ...nodeSpoolFs,
      list: async (dir: string) => {
        const r = await nodeSpoolFs.list(dir)
        counted.passes++
        w.poke()
        return r
      },
    },
    /** Resolves once `n` more passes have run. */
    passesMore: async (n: number) => {
      const target = counted.passes + n
      await w.until(`${n} more passes`, () => counted.passes >= target)
    },
  }
  return counted
}

interface Env {
  readonly dir: string
  readonly clock: { t: number; now(): number }
  readonly checkpoints: ReturnType<typeof memoryCheckpoints>
  open(options?: Partial<FollowerOptions>): Promise<SpoolFollower>
  append(file: string, text: string): void
}

const env = (): Env => {
  const dir = tmpDir('mailtime-spool-')
  const clock = { t: T15 + 30 * 60_000, now: () => clock.t }
  const checkpoints = memoryCheckpoints()
  return {
    dir,
    clock,
    checkpoints,
    open: async (options = {}) => {
      const f = await openSpoolFollower({ fs: nodeSpoolFs, checkpoints, clock }, { spoolDir: dir, pollMs: 60_000, ...options })
      if (E.isLeft(f)) throw new Error(JSON.stringify(f.left))
      return f.right
    },
    append: (file, text) => fs.appendFileSync(path.join(dir, file), text),
  }
}

const ids = (rs: readonly { user: string; events: readonly { uid?: number }[] }[]) => rs.map((r) => `${r.user}:${r.events[0]?.uid}`)

afterAll(cleanupTmp)

describe('the spool follower', () => {
  it('yields every record in file (hour) order, then line order, each with its file and line', async () => {
    const e = env()
    e.append(H15, rec('b', 3) + rec('b', 4))
    e.append(H14, rec('a', 1) + rec('a', 2))
    const f = follow(await e.open())
    try {
      await f.until('4 records', () => f.records.length >= 4)
      expect(ids(f.records)).toEqual(['a:1', 'a:2', 'b:3', 'b:4'])
      expect(f.records.map((r) => `${r.file}:${r.line}`)).toEqual([`${H14}:1`, `${H14}:2`, `${H15}:1`, `${H15}:2`])
    } finally {
      await f.stop()
    }
  })

  it('does not consume a line until it is complete, then yields it whole', async () => {
    const e = env()
    const line = rec('a', 1)
    e.append(H15, line.slice(0, 40))
    const c = countingFs()
    const opened = await openSpoolFollower({ fs: c.fs, checkpoints: e.checkpoints, clock: e.clock }, { spoolDir: e.dir, pollMs: 10 })
    if (E.isLeft(opened)) throw new Error('open failed')
    const f = follow(opened.right)
    try {
      // Several passes see the half line: it must stay unread, and no position is committed.
      await c.passesMore(3)
      expect(e.checkpoints.writes).toBe(0)
      expect(f.records).toHaveLength(0)
      expect(f.problems).toHaveLength(0)
      e.append(H15, line.slice(40))
      await f.until('the completed line', () => f.records.length === 1)
      expect(ids(f.records)).toEqual(['a:1'])
      expect(decodePosition(e.checkpoints.values.get(`feed:dovecot:${e.dir}`) ?? '')).toEqual(E.right({ files: [{ name: H15, offset: Buffer.byteLength(line), line: 1 }] }))
    } finally {
      await f.stop()
    }
  })

  it('reports a malformed line with its file and line and goes on with the next ones', async () => {
    const e = env()
    e.append(H15, rec('a', 1) + '{"v":1,"user":"a","svc":"imap","ok":tr\n' + 'garbage\n' + rec('a', 2))
    const f = follow(await e.open())
    try {
      await f.until('2 records', () => f.records.length === 2)
      expect(ids(f.records)).toEqual(['a:1', 'a:2'])
      expect(f.problems.map((p) => [p._tag, p.file, p.line])).toEqual([
        ['MalformedLine', H15, 2],
        ['MalformedLine', H15, 3],
      ])
    } finally {
      await f.stop()
    }
  })

  it('reports a truncated last line once its file is sealed (nobody will complete it), and consumes it', async () => {
    const e = env()
    e.append(H14, rec('a', 1) + '{"v":1,"user":"a","svc":"imap","ok":true,"res":1,"ev')
    e.append(H15, rec('b', 2))
    e.clock.t = T15 + 5 * 60_000 // H14 ended 5 minutes ago: not sealed yet (10 minutes by default)
    const f = follow(await e.open({ pollMs: 20 }))
    try {
      await f.until('2 records', () => f.records.length === 2)
      expect(f.problems).toHaveLength(0)
      e.clock.t = T15 + 11 * 60_000
      await f.until('the truncated line', () => f.problems.length === 1)
      expect(f.problems[0]).toMatchObject({ _tag: 'TruncatedLine', file: H14, line: 2 })
    } finally {
      await f.stop()
    }
  })

  it('starts after the committed position: a new follower yields exactly the records after it', async () => {
    const e = env()
    e.clock.t = T15 + 5 * 60_000 // H14 is not sealed: it stays, and may still be written to
    e.append(H14, rec('a', 1) + rec('a', 2))
    e.append(H15, rec('a', 3))
    const first = follow(await e.open())
    await first.until('3 records', () => first.records.length === 3)
    await first.stop()
    e.append(H15, rec('a', 4))
    e.append(H14, rec('a', 5)) // a late write into the earlier hour's file
    const second = follow(await e.open())
    try {
      await second.until('2 records', () => second.records.length === 2)
      expect(ids(second.records)).toEqual(['a:5', 'a:4'])
      expect(second.records.map((r) => `${r.file}:${r.line}`)).toEqual([`${H14}:3`, `${H15}:2`])
    } finally {
      await second.stop()
    }
  })

  it('yields again what was not committed (at least once)', async () => {
    const e = env()
    e.append(H15, rec('a', 1) + rec('a', 2))
    const first = follow(await e.open(), { commit: false })
    await first.until('2 records', () => first.records.length === 2)
    await first.stop()
    const second = follow(await e.open())
    try {
      await second.until('2 records', () => second.records.length === 2)
      expect(ids(second.records)).toEqual(['a:1', 'a:2'])
    } finally {
      await second.stop()
    }
  })

  it('delivers a line written late into an earlier file while it follows a later one', async () => {
    const e = env()
    e.append(H14, rec('a', 1))
    e.append(H15, rec('b', 2))
    const f = follow(await e.open({ pollMs: 20 }))
    try {
      await f.until('2 records', () => f.records.length === 2)
      e.append(H14, rec('a', 3))
      await f.until('the late record', () => f.records.length === 3)
      expect(ids(f.records)).toEqual(['a:1', 'b:2', 'a:3'])
    } finally {
      await f.stop()
    }
  })

  it('deletes a file once it is sealed and committed whole, and never the current hour, nor a file with lines not committed', async () => {
    const e = env()
    e.clock.t = T15 + HOUR + 15 * 60_000 // 16:15: H14 and H15 are sealed, H16 is the current hour
    e.append(H14, rec('a', 1))
    e.append(H15, rec('a', 2))
    e.append(H16, rec('a', 3))
    const f0 = await e.open()
    const it0 = f0.batches()[Symbol.asyncIterator]()
    const b = await it0.next()
    if (b.done === true) throw new Error('no batch')
    expect(ids(b.value.records)).toEqual(['a:1', 'a:2', 'a:3'])
    // A line lands in H15 after the batch was read: H15 must stay.
    e.append(H15, rec('a', 4))
    const c = await f0.commit(b.value.position)
    expect(c).toEqual(E.right({ deleted: [H14], failures: [] }))
    expect(fs.readdirSync(e.dir).sort()).toEqual([H15, H16])
    // The stored position no longer names the deleted file.
    expect(E.map((p: { files: readonly { name: string }[] }) => p.files.map((x) => x.name))(decodePosition(e.checkpoints.values.get(f0.checkpointName) ?? ''))).toEqual(
      E.right([H15, H16]),
    )
    const b2 = await it0.next()
    if (b2.done === true) throw new Error('no batch')
    expect(ids(b2.value.records)).toEqual(['a:4'])
    expect(E.isRight(await f0.commit(b2.value.position))).toBe(true)
    expect(fs.readdirSync(e.dir).sort()).toEqual([H16])
    f0.stop()
    await it0.return?.()
  })

  it('a file recreated after its deletion (a very late writer) is read from its start', async () => {
    const e = env()
    e.clock.t = T15 + HOUR + 15 * 60_000
    e.append(H14, rec('a', 1) + rec('a', 2))
    e.append(H16, rec('a', 3))
    const f = follow(await e.open({ pollMs: 20 }))
    try {
      await f.until('H14 to be deleted', () => f.records.length === 3 && !fs.existsSync(path.join(e.dir, H14)))
      e.append(H14, rec('a', 9))
      await f.until('the record of the recreated file', () => f.records.length === 4)
      expect(f.records[3]).toMatchObject({ file: H14, line: 1, user: 'a' })
    } finally {
      await f.stop()
    }
  })

  it('is woken by fs.watch: a line is delivered at once although the poll interval is an hour', async () => {
    const e = env()
    const f = follow(await e.open({ pollMs: HOUR }))
    try {
      e.append(H15, rec('a', 1))
      await f.until('the record', () => f.records.length === 1)
      e.append(H16, rec('a', 2))
      await f.until('the record of a new file', () => f.records.length === 2)
    } finally {
      await f.stop()
    }
  })

  it('polls when the directory cannot be watched, and says so once', async () => {
    const e = env()
    const fsNoWatch = { ...nodeSpoolFs, watch: () => E.left('inotify watch limit reached') }
    const opened = await openSpoolFollower({ fs: fsNoWatch, checkpoints: e.checkpoints, clock: e.clock }, { spoolDir: e.dir, pollMs: 30 })
    if (E.isLeft(opened)) throw new Error('open failed')
    const f = follow(opened.right)
    try {
      e.append(H15, rec('a', 1))
      await f.until('the record', () => f.records.length === 1)
      e.append(H15, rec('a', 2))
      await f.until('the second record', () => f.records.length === 2)
      expect(f.failures).toEqual([{ _tag: 'WatchUnavailable', path: e.dir, reason: 'inotify watch limit reached (polling every 30 ms)' }])
    } finally {
      await f.stop()
    }
  })

  it('reports a missing spool once, keeps polling, and follows it once it exists', async () => {
    const e = env()
    const spool = path.join(e.dir, 'not-yet')
    const c = countingFs()
    const opened = await openSpoolFollower({ fs: c.fs, checkpoints: e.checkpoints, clock: e.clock }, { spoolDir: spool, pollMs: 10 })
    if (E.isLeft(opened)) throw new Error('open failed')
    const f = follow(opened.right)
    try {
      await f.until('the failure', () => f.failures.some((x) => x._tag === 'SpoolUnreadable'))
      await c.passesMore(3)
      expect(f.failures.filter((x) => x._tag === 'SpoolUnreadable')).toHaveLength(1)
      expect(f.failures.find((x) => x._tag === 'SpoolUnreadable')?.reason).toMatch(/ENOENT/)
      fs.mkdirSync(spool)
      fs.writeFileSync(path.join(spool, H15), rec('a', 1))
      await f.until('the record', () => f.records.length === 1)
    } finally {
      await f.stop()
    }
  })

  it('reads a file that shrank (replaced under it) again from its start, and says so', async () => {
    const e = env()
    e.append(H15, rec('a', 1) + rec('a', 2))
    const first = follow(await e.open())
    await first.until('2 records', () => first.records.length === 2)
    await first.stop()
    fs.writeFileSync(path.join(e.dir, H15), rec('z', 1))
    const second = follow(await e.open())
    try {
      await second.until('the record', () => second.records.length === 1)
      expect(ids(second.records)).toEqual(['z:1'])
      expect(second.failures.map((x) => x._tag)).toEqual(['FileShrank'])
    } finally {
      await second.stop()
    }
  })

  it('splits a backlog into batches of at most maxBatchLines lines, each with the position after it', async () => {
    const e = env()
    e.append(H15, Array.from({ length: 25 }, (_, i) => rec('a', i + 1)).join(''))
    const f = follow(await e.open({ maxBatchLines: 10 }))
    try {
      await f.until('25 records', () => f.records.length === 25)
      expect(f.batches.map((b) => b.records.length)).toEqual([10, 10, 5])
      expect(f.batches.map((b) => b.position.files[0]?.line)).toEqual([10, 20, 25])
    } finally {
      await f.stop()
    }
  })

  it('reads a line longer than its read chunk whole', async () => {
    const e = env()
    const events = Array.from({ length: 3000 }, (_, i) => `{"e":"MessageExpunge","box":"Old","t":${T15},"uid":${i + 1},"uv":7}`).join(',')
    e.append(H15, `{"v":1,"user":"a","svc":"imap","ok":true,"res":1,"events":[${events}]}\n` + rec('a', 1))
    const f = follow(await e.open({ readChunkBytes: 1024 }))
    try {
      await f.until('2 records', () => f.records.length === 2)
      expect(f.records[0]?.events).toHaveLength(3000)
    } finally {
      await f.stop()
    }
  })

  it('refuses a checkpoint that is not a spool position, naming it', async () => {
    const e = env()
    e.checkpoints.values.set(`feed:dovecot:${e.dir}`, '{"v":1,"files":[{"name":"x","offset":-1,"line":0}]}')
    const f = await openSpoolFollower({ fs: nodeSpoolFs, checkpoints: e.checkpoints, clock: e.clock }, { spoolDir: e.dir })
    expect(f).toMatchObject(E.left({ _tag: 'CheckpointInvalid', name: `feed:dovecot:${e.dir}` }))
  })

  it('keeps its position as a checkpoint of the event store (SQLite)', async () => {
    const e = env()
    const h = openSqliteDatabase(path.join(e.dir, 'store.db'))
    if (E.isLeft(h)) throw new Error('no store')
    const store = sqliteEventStore(h.right)
    try {
      e.append(H15, rec('a', 1))
      const opened = await openSpoolFollower({ fs: nodeSpoolFs, checkpoints: storeCheckpoints(store), clock: e.clock }, { spoolDir: e.dir })
      if (E.isLeft(opened)) throw new Error('open failed')
      const f = follow(opened.right)
      await f.until('the record', () => f.records.length === 1)
      await f.stop()
      const stored = await store.readCheckpoint(`feed:dovecot:${e.dir}`)()
      expect(E.map((s: string | undefined) => decodePosition(s ?? ''))(stored)).toEqual(
        E.right(E.right({ files: [{ name: H15, offset: Buffer.byteLength(rec('a', 1)), line: 1 }] })),
      )
      // The checkpoint wrote no event.
      expect(await store.listStreams('account-')()).toEqual(E.right([]))
    } finally {
      await store.close()
    }
  })
})
