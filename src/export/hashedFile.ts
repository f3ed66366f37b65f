/** A file writer that hashes and counts what it writes, for the export's manifest. */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'

export interface ManifestFile {
  readonly path: string
  readonly sha256: string
  readonly size: number
}

export type HashedFile = ReturnType<typeof hashedFile>

/**
 * Writes are gathered up to this many bytes: an export writes one timeline line and one MBOX
 * entry at a time, and a system call plus a hash update for each was a tenth of its time.
 */
const CHUNK = 64 * 1024

/**
 * Creates `<root>/<rel>` (never overwriting) and its directory. `suspend` writes what is gathered
 * and closes the descriptor (a writer with many files open keeps only some of them open); the next
 * write opens the file again to append.
 */
export const hashedFile = (root: string, rel: string) => {
  const file = path.join(root, rel)
  if (!fs.existsSync(path.dirname(file))) fs.mkdirSync(path.dirname(file), { recursive: true })
  let fd: number | undefined = fs.openSync(file, 'wx')
  const h = createHash('sha256')
  let size = 0
  let parts: (string | Buffer)[] = []
  let pending = 0
  const flush = () => {
    if (parts.length === 0) return
    const b = parts.every((p) => typeof p === 'string') ? Buffer.from(parts.join('')) : Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)))
    parts = []
    pending = 0
    fd ??= fs.openSync(file, 'a')
    for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off)
    h.update(b)
    size += b.length
  }
  return {
    write: (data: string | Buffer) => {
      parts.push(data)
      pending += data.length
      if (pending >= CHUNK) flush()
    },
    suspend: () => {
      flush()
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
    },
    close: (): ManifestFile => {
      flush()
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
      return { path: rel, sha256: h.digest('hex'), size }
    },
  }
}
