/**
 * The content-addressed blob store: message bodies and other item content, stored once each under
 * their SHA-256, and verified on every read.
 *
 * Layout: `<root>/<first two hex digits>/<sha256 hex>.gz` (gzip) or `…/<sha256 hex>` (the bytes as
 * they are). A blob is stored raw when gzip would not save a filesystem block (most bodies under
 * 4 KB): it takes the same space on disk, and every read (restore, export) skips a gunzip, which
 * costs more than the read itself for small bodies (docs/performance.md).
 *
 * Durability (docs/reliability.md): a blob is written to a temporary file in its directory, fsynced,
 * then renamed into place, so that neither a killed process nor an OS crash leaves a half-written
 * blob under a valid name (a later `put` of the same bytes would take it as stored). The rename
 * itself is durable once its directory is fsynced: `put` remembers the directories it touched and
 * `sync` fsyncs each once. A writer calls `sync` before it commits events that name the blobs, so
 * that no committed event can outlive the bytes it references.
 */
import { randomBytes } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import * as E from 'fp-ts/Either'
import type { BlobSpec } from './blobLocation'
import { BLOCK, encodeForStore, sha256 } from './encoding'
import { s3BlobStore } from './s3BlobStore'

export { sha256 }

export type BlobError =
  | { readonly _tag: 'BlobMissing'; readonly digest: string; readonly path: string }
  | { readonly _tag: 'BlobCorrupt'; readonly digest: string; readonly path: string; readonly reason: string }
  | { readonly _tag: 'BlobIOError'; readonly digest: string; readonly path: string; readonly reason: string }
  | { readonly _tag: 'BadDigest'; readonly digest: string }
  | { readonly _tag: 'BlobSyncFailed'; readonly path: string; readonly reason: string }

/** What can go wrong writing one blob. */
export type BlobWriteError = Extract<BlobError, { readonly _tag: 'BlobIOError' }>

export const describeBlobError = (e: BlobError): string => {
  switch (e._tag) {
    case 'BlobMissing':
      return `blob ${e.digest} is missing (${e.path})`
    case 'BlobCorrupt':
      return `blob ${e.digest} is corrupt (${e.path}): ${e.reason}`
    case 'BlobIOError':
      return `blob ${e.digest} could not be read or written (${e.path}): ${e.reason}`
    case 'BadDigest':
      return `not a SHA-256 digest: ${JSON.stringify(e.digest)}`
    case 'BlobSyncFailed':
      return `blob folder ${e.path} could not be flushed to disk: ${e.reason}`
  }
}

export interface PutResult {
  readonly digest: string
  readonly size: number
  /** False when the blob was already stored (deduplicated). */
  readonly written: boolean
}

export interface BlobStore {
  /** How the store is named to people: its folder, or `s3://bucket/prefix`. */
  readonly root: string
  /** What opens this store again (in another thread: `openBlobStore`); holds S3 credentials, so never print it. */
  readonly spec: BlobSpec
  /**
   * Stores a blob: its bytes are on disk when this returns (fsynced before the rename), its name
   * once `sync` has run.
   */
  put(bytes: Buffer): E.Either<BlobWriteError, PutResult>
  /** `put` of many blobs, their fsyncs overlapped; the same guarantee for each when it resolves. */
  putAll(bodies: Iterable<Buffer>): Promise<E.Either<BlobWriteError, PutResult[]>>
  /**
   * Makes every blob `put` so far durable under its name: fsyncs each directory that a `put` wrote
   * into or found its blob in (and the parents of directories it created), once, then forgets them.
   * Call it before committing events that reference those blobs.
   */
  sync(): E.Either<BlobError, void>
  /**
   * A blob's bytes, verified. `size`, when the caller knows it (events record it), lets a body too
   * small to be stored compressed be read raw at once, without asking which form the store holds.
   */
  get(digest: string, size?: number): E.Either<BlobError, Buffer>
  has(digest: string): boolean
  /** Removes a blob; removing one that is absent is not an error. */
  remove(digest: string): E.Either<BlobError, boolean>
  /** Every stored digest (for purge and verification). */
  list(): string[]
  /** Size on disk (as stored: compressed or raw) and last write (or dedup refresh) of one blob, or undefined if absent. */
  stat(digest: string): { readonly size: number; readonly mtimeMs: number } | undefined
}

const HEX64 = /^[0-9a-f]{64}$/
/** Whether a string is a blob digest (SHA-256, lowercase hex). */
export const isDigest = (s: string): boolean => HEX64.test(s)
const BLOB_FILE = /^[0-9a-f]{64}(?:\.gz)?$/
/** Blob fsyncs in flight at once in `putAll` (libuv runs four at a time by default). */
const PARALLEL_SYNCS = 8

/** A blob written to its temporary file, to be renamed into place. */
interface Pending {
  readonly digest: string
  readonly size: number
  readonly file: string
  readonly tmp: string
}

/** Removes a temporary file after a failure, which is reported on its own. */
const removeQuietly = (file: string): void => {
  try {
    fs.rmSync(file, { force: true })
  } catch {
    // A stray temporary file is ignored by every reader.
  }
}

/** Up to `max` bytes from the start of a file, fewer if it is shorter. */
const readUpTo = (fd: number, max: number): Buffer => {
  const out = Buffer.allocUnsafe(max)
  let n = 0
  while (n < max) {
    const r = fs.readSync(fd, out, n, max - n, n)
    if (r === 0) break
    n += r
  }
  return n < max ? out.subarray(0, n) : out
}

/** Where a blob of the store is, raw or compressed, or undefined when it is in neither form. */
export const storedBlobFile = (root: string, digest: string): { file: string; gzip: boolean } | undefined => {
  const raw = path.join(root, digest.slice(0, 2), digest)
  if (fs.existsSync(raw)) return { file: raw, gzip: false }
  return fs.existsSync(`${raw}.gz`) ? { file: `${raw}.gz`, gzip: true } : undefined
}

export const fsBlobStore = (root: string): BlobStore => {
  // Paths are built by concatenation: `path.join` was a tenth of an export's blob reads.
  const rawOf = (digest: string) => `${root}/${digest.slice(0, 2)}/${digest}`
  const ioError = (digest: string, file: string, e: unknown): BlobWriteError => ({ _tag: 'BlobIOError', digest, path: file, reason: (e as Error).message })
  /**
   * Reads one form of a blob, or undefined when that form is absent: asked with `stat`, which says
   * so without an exception (a thrown ENOENT per blob made reading a store of the other form 15%
   * slower), and whose size spares `readFileSync`'s own `fstat`.
   */
  const readForm = (file: string): Buffer | undefined => {
    const st = fs.statSync(file, { throwIfNoEntry: false })
    if (st === undefined) return undefined
    const fd = fs.openSync(file, 'r')
    try {
      // Blobs never change in place (they are renamed into place whole), so the stat's size holds.
      return readUpTo(fd, st.size)
    } finally {
      fs.closeSync(fd)
    }
  }
  /**
   * The raw form of a blob of a known size, in one read of size + 1 bytes (that extra byte tells a
   * longer file, which is then read whole), or undefined when the raw form is absent (only a store
   * written before small blobs were kept raw pays for the exception that says so).
   */
  const readRawOfSize = (file: string, size: number): Buffer | undefined => {
    let fd: number
    try {
      fd = fs.openSync(file, 'r')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw e
    }
    try {
      const out = readUpTo(fd, size + 1)
      return out.length <= size ? out : undefined
    } finally {
      fs.closeSync(fd)
    }
  }
  /** Directories whose entries changed (or may not be durable yet) since the last `sync`. */
  const touched = new Set<string>()
  /** Creates a blob's directory; a new directory's entry is in its parent, which then needs a sync too. */
  const ensureDir = (dir: string) => {
    const first = fs.mkdirSync(dir, { recursive: true })
    if (first === undefined) return
    for (let d = dir; d !== path.dirname(first); d = path.dirname(d)) touched.add(path.dirname(d))
  }
  const resultOf = (w: Pending | PutResult): PutResult => ('tmp' in w ? { digest: w.digest, size: w.size, written: true } : w)
  /**
   * The first half of storing a blob: found already stored (and its directory marked for the next
   * sync), or written to a temporary file beside its place, fsynced if `fsync`.
   */
  const begin = (bytes: Buffer, fsync: boolean): E.Either<BlobWriteError, Pending | PutResult> => {
    const digest = sha256(bytes)
    const stored = storedBlobFile(root, digest)
    if (stored !== undefined) {
      // Its bytes were fsynced before it got this name, but the process that renamed it may have
      // died before its directory was synced: sync it again with this batch.
      touched.add(path.dirname(stored.file))
      // Fresh again: a purge never deletes a blob a capture has just asked to store (purge.ts).
      try {
        const t = new Date()
        fs.utimesSync(stored.file, t, t)
      } catch {
        // A read-only store still deduplicates; only the purge grace period is lost.
      }
      return E.right({ digest, size: bytes.length, written: false })
    }
    const enc = encodeForStore(bytes, digest)
    const file = enc.gzip ? `${rawOf(digest)}.gz` : rawOf(digest)
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      ensureDir(path.dirname(file))
      const fd = fs.openSync(tmp, 'wx')
      try {
        const data = enc.stored
        for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off)
        // Data (and size) on disk before the name exists: an OS crash after the rename must not
        // leave an empty or short file under a valid name.
        if (fsync) fs.fsyncSync(fd)
      } finally {
        fs.closeSync(fd)
      }
      return E.right({ digest, size: bytes.length, file, tmp })
    } catch (e) {
      removeQuietly(tmp)
      return E.left(ioError(digest, file, e))
    }
  }
  /** The second half: the fsynced temporary file takes the blob's name. */
  const finish = (p: Pending): E.Either<BlobWriteError, PutResult> => {
    try {
      fs.renameSync(p.tmp, p.file)
      touched.add(path.dirname(p.file))
      return E.right(resultOf(p))
    } catch (e) {
      removeQuietly(p.tmp)
      return E.left(ioError(p.digest, p.file, e))
    }
  }
  return {
    root,
    spec: { kind: 'fs', root },
    put: (bytes) => {
      const w = begin(bytes, true)
      if (E.isLeft(w) || !('tmp' in w.right)) return E.map(resultOf)(w)
      return finish(w.right)
    },
    putAll: async (bodies) => {
      // Written first, then fsynced all at once on libuv's threads (the file system groups their
      // journal commits: about half the time of one fsync after another, measured here), then
      // renamed: the same guarantee as `put` for each.
      const out: PutResult[] = []
      const open = new Map<string, Pending>()
      try {
        for (const bytes of bodies) {
          const digest = sha256(bytes)
          const already = open.get(digest)
          if (already !== undefined) {
            out.push({ digest, size: bytes.length, written: false })
            continue
          }
          const w = begin(bytes, false)
          if (E.isLeft(w)) return w
          if ('tmp' in w.right) open.set(digest, w.right)
          out.push(resultOf(w.right))
        }
        const queue = [...open.values()]
        let failed: BlobWriteError | undefined
        const syncOne = async (): Promise<void> => {
          for (let p = queue.pop(); p !== undefined && failed === undefined; p = queue.pop()) {
            try {
              const h = await fs.promises.open(p.tmp, 'r')
              try {
                await h.sync()
              } finally {
                await h.close()
              }
            } catch (e) {
              failed ??= ioError(p.digest, p.file, e)
            }
          }
        }
        await Promise.all(Array.from({ length: PARALLEL_SYNCS }, syncOne))
        if (failed !== undefined) return E.left(failed)
        for (const p of open.values()) {
          const r = finish(p)
          if (E.isLeft(r)) return r
          open.delete(p.digest)
        }
        return E.right(out)
      } finally {
        for (const p of open.values()) removeQuietly(p.tmp)
      }
    },
    sync: () => {
      for (const dir of [...touched].sort((a, b) => b.length - a.length)) {
        try {
          const fd = fs.openSync(dir, 'r')
          try {
            fs.fsyncSync(fd)
          } finally {
            fs.closeSync(fd)
          }
        } catch (e) {
          return E.left({ _tag: 'BlobSyncFailed', path: dir, reason: (e as Error).message })
        }
        touched.delete(dir)
      }
      return E.right(undefined)
    },
    get: (digest, size) => {
      if (!isDigest(digest)) return E.left({ _tag: 'BadDigest', digest })
      const raw = rawOf(digest)
      let file = raw
      let bytes: Buffer | undefined
      try {
        bytes = size !== undefined && size <= BLOCK ? readRawOfSize(raw, size) : undefined
        bytes ??= readForm(raw)
        if (bytes === undefined) {
          file = `${raw}.gz`
          const gz = readForm(file)
          if (gz === undefined) return E.left({ _tag: 'BlobMissing', digest, path: file })
          try {
            bytes = zlib.gunzipSync(gz)
          } catch (e) {
            return E.left({ _tag: 'BlobCorrupt', digest, path: file, reason: `not valid gzip (${(e as Error).message})` })
          }
        }
      } catch (e) {
        return E.left(ioError(digest, file, e))
      }
      const actual = sha256(bytes)
      return actual === digest ? E.right(bytes) : E.left({ _tag: 'BlobCorrupt', digest, path: file, reason: `content hashes to ${actual}` })
    },
    has: (digest) => isDigest(digest) && storedBlobFile(root, digest) !== undefined,
    remove: (digest) => {
      if (!isDigest(digest)) return E.left({ _tag: 'BadDigest', digest })
      // Both forms: a blob stored raw by one version and compressed by another leaves no copy.
      let removed = false
      for (const file of [rawOf(digest), `${rawOf(digest)}.gz`]) {
        try {
          fs.unlinkSync(file)
          removed = true
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return E.left(ioError(digest, file, e))
        }
      }
      return E.right(removed)
    },
    list: () => {
      if (!fs.existsSync(root)) return []
      const digests = fs
        .readdirSync(root)
        .filter((d) => /^[0-9a-f]{2}$/.test(d))
        .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => BLOB_FILE.test(f)))
        .map((f) => f.slice(0, 64))
      return [...new Set(digests)].sort()
    },
    stat: (digest) => {
      const stored = isDigest(digest) ? storedBlobFile(root, digest) : undefined
      if (stored === undefined) return undefined
      try {
        const st = fs.statSync(stored.file)
        return { size: st.size, mtimeMs: st.mtimeMs }
      } catch {
        return undefined
      }
    },
  }
}

/** The blob store a spec names: a folder, or an S3 bucket (`s3BlobStore.ts`). */
export const openBlobStore = (spec: BlobSpec): BlobStore => (spec.kind === 'fs' ? fsBlobStore(spec.root) : s3BlobStore(spec))
