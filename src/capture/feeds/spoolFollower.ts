/**
 * A follower of a Dovecot change-feed spool directory (`contrib/dovecot/`): it reads the hourly
 * files the mail server appends to and yields their transactions in order, from a durable position.
 * The file system, the checkpoint store and the clock are ports passed in.
 *
 * Guarantees:
 * 1. At least once, and exactly once after the committed position: `batches()` starts at the
 *    position last passed to `commit`, so the records yielded after a restart are exactly those
 *    after it. Commit a batch's position only once what its records triggered is recorded.
 * 2. Order: within a file, records come in the order they were written; files are read in name
 *    (hour) order. A line written late into an earlier hour's file (a mail process that took the
 *    name just before the hour turned) comes after lines already read from later files.
 * 3. A line is consumed only once complete (ends with a newline). A line that will never be
 *    completed (its file is sealed, see 6) and a line that does not decode are reported in the
 *    batch's `problems` with file and line, and consumed: they never stop the follower.
 * 4. Woken by fs.watch when the directory can be watched, and by polling every `pollMs` in any case
 *    (fs.watch can miss events, fail on network file systems, or die with its directory).
 * 5. A spool that cannot be read (missing, no permission) is reported once in a batch's `failures`
 *    and retried at every poll; the follower does not end.
 * 6. A file is sealed once its hour has ended `sealAfterMs` ago (no mail process still holds its
 *    name). `commit` deletes a sealed file whose committed offset is its size, and only then.
 * 7. One follower per spool directory and checkpoint name: two would each deliver every line.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../../projections/errors'
import { type SpoolProblem, type SpoolRecord, decodeSpoolLine, ignoredProblems, truncatedLine } from './spoolLine'
import { type FileCursor, type SpoolPosition, decodePosition, encodePosition, hourEndOf, isSpoolFile, positionOf, withoutFiles } from './spoolPosition'

// Ports ------------------------------------------------------------------------------------------

/** What the follower needs of a file system; Left carries a reason to report. */
export interface SpoolFs {
  list(dir: string): Promise<E.Either<string, readonly string[]>>
  /** A file's size in bytes, or undefined when it does not exist. */
  size(file: string): Promise<E.Either<string, number | undefined>>
  read(file: string, offset: number, length: number): Promise<E.Either<string, Buffer>>
  remove(file: string): Promise<E.Either<string, void>>
  /** Calls `onChange` when the directory's content may have changed; Left when it cannot be watched. */
  watch(dir: string, onChange: () => void, onError: (reason: string) => void): E.Either<string, { close(): void }>
  join(dir: string, name: string): string
}

/** Named checkpoints (an event store's, see `checkpoints.ts`). */
export interface CheckpointPort {
  read(name: string): TE.TaskEither<StoreError, string | undefined>
  write(name: string, value: string): TE.TaskEither<StoreError, void>
}

export interface Clock {
  now(): number
}

export interface FollowerDeps {
  readonly fs: SpoolFs
  readonly checkpoints: CheckpointPort
  readonly clock: Clock
}

// Model ------------------------------------------------------------------------------------------

export interface FollowerOptions {
  readonly spoolDir: string
  /** Default `feed:dovecot:<spoolDir>`. */
  readonly checkpointName?: string
  /** Polling interval, also when fs.watch works (default 2000 ms). */
  readonly pollMs?: number
  /** Lines per batch at most, records and problems (default 1000). */
  readonly maxBatchLines?: number
  /** How long after its hour ends a file may still be written to (default 10 minutes). */
  readonly sealAfterMs?: number
  /** Bytes read at once (default 1 MiB); a longer line is read whole anyway. */
  readonly readChunkBytes?: number
  /**
   * How long after its instant a transaction is yielded at the earliest (default 0): when the newest
   * line read is younger, the follower waits that long and reads once more, so that a change the
   * server writes as two transactions (a MOVE: the copy, then the expunge) comes in one batch.
   */
  readonly settleMs?: number
  /** Called each time a pass finds nothing more to read: every line written so far was yielded. */
  readonly onCaughtUp?: () => void
}

/** Something about the spool as a whole that went wrong; reported once until it is resolved. */
export interface SpoolFailure {
  readonly _tag: 'SpoolUnreadable' | 'WatchUnavailable' | 'FileShrank' | 'DeleteFailed'
  readonly path: string
  readonly reason: string
}

export interface SpoolBatch {
  readonly records: readonly SpoolRecord[]
  readonly problems: readonly SpoolProblem[]
  readonly failures: readonly SpoolFailure[]
  /** The position after this batch: pass it to `commit` once its records are dealt with. */
  readonly position: SpoolPosition
}

export interface CommitResult {
  /** Sealed files deleted because everything in them is committed. */
  readonly deleted: readonly string[]
  readonly failures: readonly SpoolFailure[]
}

export type FollowerError =
  | { readonly _tag: 'CheckpointUnreadable'; readonly name: string; readonly error: StoreError }
  | { readonly _tag: 'CheckpointInvalid'; readonly name: string; readonly reason: string }
  | { readonly _tag: 'CheckpointUnwritable'; readonly name: string; readonly error: StoreError }

export interface SpoolFollower {
  readonly checkpointName: string
  /** The committed position the follower started from. */
  readonly startedAt: SpoolPosition
  /** Batches in spool order until `stop()`; a batch is never empty (records, problems or failures). */
  batches(): AsyncIterable<SpoolBatch>
  /** Records `position` as processed, then deletes the sealed files it covers whole. */
  commit(position: SpoolPosition): Promise<E.Either<FollowerError, CommitResult>>
  stop(): void
}

export const defaultCheckpointName = (spoolDir: string): string => `feed:dovecot:${spoolDir}`

// Operations -------------------------------------------------------------------------------------

/** Reads the committed position and returns a follower that starts there. */
export const openSpoolFollower = async (deps: FollowerDeps, options: FollowerOptions): Promise<E.Either<FollowerError, SpoolFollower>> => {
  const name = options.checkpointName ?? defaultCheckpointName(options.spoolDir)
  const stored = await deps.checkpoints.read(name)()
  if (E.isLeft(stored)) return E.left({ _tag: 'CheckpointUnreadable', name, error: stored.left })
  let start: SpoolPosition = { files: [] }
  if (stored.right !== undefined) {
    const p = decodePosition(stored.right)
    if (E.isLeft(p)) return E.left({ _tag: 'CheckpointInvalid', name, reason: `checkpoint ${name} is not a spool position: ${p.left}` })
    start = p.right
  }
  return E.right(follower(deps, options, name, start))
}

const follower = (deps: FollowerDeps, options: FollowerOptions, checkpointName: string, start: SpoolPosition): SpoolFollower => {
  const { fs, clock } = deps
  const dir = options.spoolDir
  const pollMs = options.pollMs ?? 2000
  const maxLines = options.maxBatchLines ?? 1000
  const sealAfterMs = options.sealAfterMs ?? 10 * 60_000
  const chunkBytes = options.readChunkBytes ?? 1 << 20
  const settleMs = options.settleMs ?? 0

  /** The read cursor: ahead of the committed position by what was yielded and not committed yet. */
  const cursors = new Map<string, FileCursor>(start.files.map((f) => [f.name, f]))
  let stopped = false
  let watcher: { close(): void } | undefined
  /** Failures reported and not resolved since, by kind and path, so that each is said once. */
  const reported = new Set<string>()

  // Wake-ups: a change seen while a pass runs makes the next wait return at once.
  let pending = true
  let wakeNow: (() => void) | undefined
  const wake = () => {
    pending = true
    wakeNow?.()
  }
  const waitForWake = (): Promise<void> =>
    new Promise((resolve) => {
      if (pending || stopped) return resolve()
      const done = () => {
        clearTimeout(timer)
        wakeNow = undefined
        resolve()
      }
      const timer = setTimeout(done, pollMs)
      wakeNow = done
    })

  // A pass and a commit never interleave (a commit deletes files and their cursors).
  let lock: Promise<unknown> = Promise.resolve()
  const serially = <A>(f: () => Promise<A>): Promise<A> => {
    const run = lock.then(f, f)
    lock = run.catch(() => undefined)
    return run
  }

  const sealed = (name: string): boolean => {
    const end = hourEndOf(name)
    return end !== undefined && clock.now() >= end + sealAfterMs
  }

  const fail = (out: SpoolFailure[], f: SpoolFailure): void => {
    const key = `${f._tag} ${f.path}`
    if (reported.has(key)) return
    reported.add(key)
    out.push(f)
  }
  const resolved = (tag: SpoolFailure['_tag'], path: string): void => {
    reported.delete(`${tag} ${path}`)
  }

  /** Failures seen outside a pass (the watch dying), for the next batch. */
  const pendingFailures: SpoolFailure[] = []
  const ensureWatch = (failures: SpoolFailure[]): void => {
    if (watcher !== undefined || stopped) return
    const w = fs.watch(dir, wake, (reason) => {
      // The watch died (its directory was removed, …): poll until it can be set up again.
      watcher?.close()
      watcher = undefined
      pendingFailures.push({ _tag: 'WatchUnavailable', path: dir, reason })
      wake()
    })
    if (E.isLeft(w)) fail(failures, { _tag: 'WatchUnavailable', path: dir, reason: `${w.left} (polling every ${pollMs} ms)` })
    else {
      watcher = w.right
      resolved('WatchUnavailable', dir)
    }
  }
  /** Reads what is complete in one file from its cursor, until `room` lines are taken. */
  const readFile = async (name: string, room: number, records: SpoolRecord[], problems: SpoolProblem[], failures: SpoolFailure[]): Promise<void> => {
    const path = fs.join(dir, name)
    let c = cursors.get(name) ?? { name, offset: 0, line: 0 }
    const size = await fs.size(path)
    if (E.isLeft(size)) return fail(failures, { _tag: 'SpoolUnreadable', path, reason: size.left })
    resolved('SpoolUnreadable', path)
    if (size.right === undefined) return
    if (size.right < c.offset) {
      // Truncated or replaced under us: what it holds now was not read.
      failures.push({ _tag: 'FileShrank', path, reason: `the file is ${size.right} bytes, but ${c.offset} had been read: reading it again from its start` })
      c = { name, offset: 0, line: 0 }
    }
    let taken = 0
    let want = chunkBytes
    while (c.offset < size.right && taken < room) {
      const rest = size.right - c.offset
      const buf = await fs.read(path, c.offset, Math.min(want, rest))
      if (E.isLeft(buf)) {
        fail(failures, { _tag: 'SpoolUnreadable', path, reason: buf.left })
        break
      }
      let used = 0
      let line = c.line
      while (taken < room) {
        const nl = buf.right.indexOf(0x0a, used)
        if (nl < 0) break
        const text = buf.right.subarray(used, nl).toString('utf8')
        used = nl + 1
        line++
        if (text.trim() === '') continue
        const r = decodeSpoolLine(text, { file: name, line })
        if (E.isLeft(r)) problems.push(r.left)
        else {
          records.push(r.right)
          problems.push(...ignoredProblems(r.right, text))
        }
        taken++
      }
      if (used > 0) {
        c = { name, offset: c.offset + used, line }
        continue
      }
      // No newline in what was read.
      if (buf.right.length < rest) {
        want *= 2 // a line longer than the chunk: read more of it
        continue
      }
      if (sealed(name)) {
        // Nobody will complete it: report it and move past it.
        problems.push(truncatedLine(buf.right.toString('utf8'), { file: name, line: c.line + 1 }))
        c = { name, offset: size.right, line: c.line + 1 }
      }
      break // a line being written: wait for its end
    }
    cursors.set(name, c)
  }

  const pass = async (): Promise<SpoolBatch | undefined> => {
    pending = false
    const records: SpoolRecord[] = []
    const problems: SpoolProblem[] = []
    const failures: SpoolFailure[] = pendingFailures.splice(0)
    ensureWatch(failures)
    const listed = await fs.list(dir)
    if (E.isLeft(listed)) fail(failures, { _tag: 'SpoolUnreadable', path: dir, reason: listed.left })
    else {
      resolved('SpoolUnreadable', dir)
      const names = listed.right.filter(isSpoolFile).sort()
      const present = new Set(names)
      for (const n of [...cursors.keys()]) if (!present.has(n)) cursors.delete(n)
      for (const n of names) {
        const room = maxLines - records.length - problems.length
        if (room <= 0) break
        await readFile(n, room, records, problems, failures)
      }
      // A full batch may leave more to read: look again at once.
      if (records.length + problems.length >= maxLines) pending = true
    }
    if (records.length === 0 && problems.length === 0 && failures.length === 0) return undefined
    return { records, problems, failures, position: positionOf(cursors.values()) }
  }

  async function* batches(): AsyncGenerator<SpoolBatch> {
    try {
      while (!stopped) {
        let b = await serially(pass)
        if (b !== undefined && settleMs > 0 && b.records.length > 0 && !stopped) {
          const newest = b.records.reduce((m, r) => r.events.reduce((n, e) => Math.max(n, e.at + r.resolutionMs - 1), m), 0)
          const wait = Math.min(newest + settleMs - clock.now(), settleMs)
          if (wait > 0) {
            await new Promise((resolve) => setTimeout(resolve, wait))
            const more = await serially(pass)
            if (more !== undefined)
              b = { records: [...b.records, ...more.records], problems: [...b.problems, ...more.problems], failures: [...b.failures, ...more.failures], position: more.position }
          }
        }
        if (b === undefined) options.onCaughtUp?.()
        else if (!stopped) yield b
        await waitForWake()
      }
    } finally {
      watcher?.close()
      watcher = undefined
    }
  }

  const commit = (position: SpoolPosition): Promise<E.Either<FollowerError, CommitResult>> =>
    serially(async () => {
      const w = await deps.checkpoints.write(checkpointName, encodePosition(position))()
      if (E.isLeft(w)) return E.left({ _tag: 'CheckpointUnwritable', name: checkpointName, error: w.left })
      const deleted = new Set<string>()
      const failures: SpoolFailure[] = []
      for (const f of position.files) {
        if (!sealed(f.name)) continue
        const path = fs.join(dir, f.name)
        const size = await fs.size(path)
        if (E.isLeft(size) || size.right !== f.offset) continue
        const r = await fs.remove(path)
        if (E.isLeft(r)) fail(failures, { _tag: 'DeleteFailed', path, reason: r.left })
        else {
          resolved('DeleteFailed', path)
          deleted.add(f.name)
          cursors.delete(f.name)
        }
      }
      // A crash before this write leaves cursors of deleted files, which the next start drops.
      if (deleted.size > 0) {
        const w2 = await deps.checkpoints.write(checkpointName, encodePosition(withoutFiles(position, deleted)))()
        if (E.isLeft(w2)) return E.left({ _tag: 'CheckpointUnwritable', name: checkpointName, error: w2.left })
      }
      return E.right({ deleted: [...deleted], failures })
    })

  return {
    checkpointName,
    startedAt: start,
    batches,
    commit,
    stop: () => {
      stopped = true
      wakeNow?.()
    },
  }
}
