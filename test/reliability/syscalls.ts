/**
 * Reading an `strace -f -y` log of a Mailtime process, and checking from it the order in which a
 * write becomes durable (docs/reliability.md): for every committed transaction, each blob it names
 * was fsynced, renamed into place, and had its directory fsynced before the transaction's first
 * write to the SQLite WAL, and the transaction ended with an fsync of the WAL.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'

export const STRACE = '/usr/bin/strace'
export const straceAvailable = (): boolean => fs.existsSync(STRACE)

/** One completed system call of interest, in the order the log gives (completion order). */
export type Call =
  | { readonly kind: 'sync'; readonly path: string }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  | { readonly kind: 'mkdir'; readonly path: string }
  | { readonly kind: 'pwrite'; readonly path: string; readonly data: string }

/** Runs a command under strace and returns its exit status and the log. */
export const traced = (argv: readonly string[], env: Record<string, string>, log: string): { status: number | null; stderr: string; calls: Call[] } => {
  const r = spawnSync(
    STRACE,
    // -s: whole WAL pages (4 KB, escaped), so that the events a commit writes can be read in it.
    ['-f', '-y', '-qq', '-s', '16384', '-o', log, '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,pwrite64', ...argv],
    { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  if (r.error !== undefined) throw r.error
  return { status: r.status, stderr: r.stderr, calls: parseStrace(fs.readFileSync(log, 'utf8')) }
}

/** A C string as strace prints it (only the escapes that matter for paths and ASCII text). */
const unquote = (s: string): string => s.replace(/\\(["\\])/g, '$1')

/** The path strace's `-y` gives for a descriptor argument: `22</tmp/x/blobs/ab>`. */
const fdPath = (args: string): string | undefined => /^\d+<([^>]*)>/.exec(args)?.[1]

/**
 * The successful calls of a log, each at the line where it completed: a call interrupted by
 * another thread's (`<unfinished ...>`) is joined with its `<... resumed>` line.
 */
export const parseStrace = (log: string): Call[] => {
  const pending = new Map<string, string>()
  const out: Call[] = []
  for (const raw of log.split('\n')) {
    const m = /^(\d+)\s+(.*)$/.exec(raw)
    if (m === null) continue
    const [, pid = '', rest0 = ''] = m
    let rest = rest0
    if (rest.endsWith('<unfinished ...>')) {
      pending.set(pid, rest.slice(0, -'<unfinished ...>'.length))
      continue
    }
    const resumed = /^<\.\.\. \w+ resumed>(.*)$/.exec(rest)
    if (resumed !== null) {
      rest = (pending.get(pid) ?? '') + (resumed[1] ?? '')
      pending.delete(pid)
    }
    const call = /^(\w+)\((.*)\)\s+=\s+(-?\d+)/.exec(rest)
    if (call === null) continue
    const [, name = '', args = '', ret = ''] = call
    if (Number(ret) < 0) continue
    const strings = [...args.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => unquote(s[1] ?? ''))
    switch (name) {
      case 'fsync':
      case 'fdatasync': {
        const p = fdPath(args)
        if (p !== undefined) out.push({ kind: 'sync', path: p })
        break
      }
      case 'rename':
      case 'renameat':
      case 'renameat2':
        if (strings.length >= 2) out.push({ kind: 'rename', from: strings[0] ?? '', to: strings[1] ?? '' })
        break
      case 'mkdir':
      case 'mkdirat':
        if (strings.length >= 1) out.push({ kind: 'mkdir', path: strings[0] ?? '' })
        break
      case 'pwrite64': {
        const p = fdPath(args)
        if (p !== undefined) out.push({ kind: 'pwrite', path: p, data: strings[0] ?? '' })
        break
      }
    }
  }
  return out
}

const HEX64 = /(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])/g

/** A transaction as the WAL shows it: its writes, up to and including the fsync of the WAL that ends it. */
export interface Commit {
  /** Index in the calls of its first WAL write. */
  readonly start: number
  /** Index of the WAL fsync that made it durable, or undefined for writes that no fsync followed. */
  readonly synced: number | undefined
  /** The blob digests (of `known`) that its WAL pages hold. */
  readonly digests: ReadonlySet<string>
}

/** The WAL's writes of a database file, cut at each fsync of the WAL. */
export const commitsOf = (calls: readonly Call[], dbFile: string, known: ReadonlySet<string>): Commit[] => {
  const wal = `${dbFile}-wal`
  const out: Commit[] = []
  let start: number | undefined
  let digests = new Set<string>()
  calls.forEach((c, i) => {
    if (c.kind === 'pwrite' && c.path === wal) {
      start ??= i
      for (const d of c.data.match(HEX64) ?? []) if (known.has(d)) digests.add(d)
    }
    if (c.kind === 'sync' && c.path === wal && start !== undefined) {
      out.push({ start, synced: i, digests })
      start = undefined
      digests = new Set()
    }
  })
  if (start !== undefined) out.push({ start, synced: undefined, digests })
  return out
}

/**
 * Where in the calls each blob written under `blobsRoot` became durable (the last of: its file's
 * fsync, its rename, its directory's fsync after the rename, and the fsyncs of the parents of the
 * directories created for it), or a reason why it never did.
 */
export const blobDurability = (calls: readonly Call[], blobsRoot: string): Map<string, number | string> => {
  const out = new Map<string, number | string>()
  const syncedAfter = (p: string, after: number): number | undefined => {
    for (let i = after + 1; i < calls.length; i++) {
      const c = calls[i]
      if (c?.kind === 'sync' && c.path === p) return i
    }
    return undefined
  }
  const made = new Map<string, number>()
  calls.forEach((c, i) => {
    if (c.kind === 'mkdir') made.set(c.path, i)
  })
  /** Where the blob renamed by call `i` became durable, or why it did not. */
  const durableAt = (c: Extract<Call, { kind: 'rename' }>, i: number): number | string => {
    const dataSynced = calls.findIndex((x, j) => j < i && x.kind === 'sync' && x.path === c.from)
    if (dataSynced < 0) return `${c.from} was renamed to ${c.to} without an fsync of its data first`
    const dir = path.dirname(c.to)
    const dirSynced = syncedAfter(dir, i)
    if (dirSynced === undefined) return `${dir} was never fsynced after ${c.to} was renamed into it`
    let last = dirSynced
    // Directories created for the blob: each one's entry is in its parent.
    for (let d = dir; made.has(d); d = path.dirname(d)) {
      const parent = syncedAfter(path.dirname(d), made.get(d) ?? 0)
      if (parent === undefined) return `${path.dirname(d)} was never fsynced after ${d} was created in it`
      last = Math.max(last, parent)
    }
    return last
  }
  calls.forEach((c, i) => {
    if (c.kind === 'rename' && path.dirname(path.dirname(c.to)) === blobsRoot) out.set(path.basename(c.to).slice(0, 64), durableAt(c, i))
  })
  return out
}
