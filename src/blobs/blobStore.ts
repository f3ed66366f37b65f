/**
 * The content-addressed blob store: message bodies and other item content, stored once each under
 * their SHA-256, gzip-compressed, and verified on every read.
 *
 * Layout: `<root>/<first two hex digits>/<sha256 hex>.gz`. Writes go to a temporary file in the
 * same directory and are renamed into place, so a crash never leaves a half-written blob under a
 * valid name.
 */
import { createHash, randomBytes } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import * as E from 'fp-ts/Either'

export type BlobError =
  | { readonly _tag: 'BlobMissing'; readonly digest: string; readonly path: string }
  | { readonly _tag: 'BlobCorrupt'; readonly digest: string; readonly path: string; readonly reason: string }
  | { readonly _tag: 'BlobIOError'; readonly digest: string; readonly path: string; readonly reason: string }
  | { readonly _tag: 'BadDigest'; readonly digest: string }

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
  }
}

export interface PutResult {
  readonly digest: string
  readonly size: number
  /** False when the blob was already stored (deduplicated). */
  readonly written: boolean
}

export interface BlobStore {
  readonly root: string
  put(bytes: Buffer): E.Either<BlobError, PutResult>
  get(digest: string): E.Either<BlobError, Buffer>
  has(digest: string): boolean
  /** Removes a blob; removing one that is absent is not an error. */
  remove(digest: string): E.Either<BlobError, boolean>
  /** Every stored digest (for purge and verification). */
  list(): string[]
  /** Size on disk (compressed) and last write (or dedup refresh) of one blob, or undefined if absent. */
  stat(digest: string): { readonly size: number; readonly mtimeMs: number } | undefined
}

const HEX64 = /^[0-9a-f]{64}$/

export const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex')

export const fsBlobStore = (root: string): BlobStore => {
  const fileOf = (digest: string) => path.join(root, digest.slice(0, 2), `${digest}.gz`)
  return {
    root,
    put: (bytes) => {
      const digest = sha256(bytes)
      const file = fileOf(digest)
      if (fs.existsSync(file)) {
        // Fresh again: a purge never deletes a blob a capture has just asked to store (purge.ts).
        try {
          const t = new Date()
          fs.utimesSync(file, t, t)
        } catch {
          // A read-only store still deduplicates; only the purge grace period is lost.
        }
        return E.right({ digest, size: bytes.length, written: false })
      }
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true })
        const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
        fs.writeFileSync(tmp, zlib.gzipSync(bytes, { level: 6 }))
        fs.renameSync(tmp, file)
        return E.right({ digest, size: bytes.length, written: true })
      } catch (e) {
        return E.left({ _tag: 'BlobIOError', digest, path: file, reason: (e as Error).message })
      }
    },
    get: (digest) => {
      if (!HEX64.test(digest)) return E.left({ _tag: 'BadDigest', digest })
      const file = fileOf(digest)
      let raw: Buffer
      try {
        raw = fs.readFileSync(file)
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        return code === 'ENOENT'
          ? E.left({ _tag: 'BlobMissing', digest, path: file })
          : E.left({ _tag: 'BlobIOError', digest, path: file, reason: (e as Error).message })
      }
      let bytes: Buffer
      try {
        bytes = zlib.gunzipSync(raw)
      } catch (e) {
        return E.left({ _tag: 'BlobCorrupt', digest, path: file, reason: `not valid gzip (${(e as Error).message})` })
      }
      const actual = sha256(bytes)
      return actual === digest
        ? E.right(bytes)
        : E.left({ _tag: 'BlobCorrupt', digest, path: file, reason: `content hashes to ${actual}` })
    },
    has: (digest) => HEX64.test(digest) && fs.existsSync(fileOf(digest)),
    remove: (digest) => {
      if (!HEX64.test(digest)) return E.left({ _tag: 'BadDigest', digest })
      const file = fileOf(digest)
      try {
        fs.unlinkSync(file)
        return E.right(true)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return E.right(false)
        return E.left({ _tag: 'BlobIOError', digest, path: file, reason: (e as Error).message })
      }
    },
    list: () => {
      if (!fs.existsSync(root)) return []
      return fs
        .readdirSync(root)
        .filter((d) => /^[0-9a-f]{2}$/.test(d))
        .flatMap((d) => fs.readdirSync(path.join(root, d)).filter((f) => /^[0-9a-f]{64}\.gz$/.test(f)))
        .map((f) => f.slice(0, 64))
        .sort()
    },
    stat: (digest) => {
      try {
        const st = fs.statSync(fileOf(digest))
        return { size: st.size, mtimeMs: st.mtimeMs }
      } catch {
        return undefined
      }
    },
  }
}
