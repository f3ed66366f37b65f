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
  // One buffer per open file, filled in place (joining parts and converting each string allocated
  // as much again as was written); a suspended file gives its buffer back.
  let buf: Buffer | undefined
  let len = 0
  const put = (b: Buffer) => {
    fd ??= fs.openSync(file, 'a')
    for (let off = 0; off < b.length; ) off += fs.writeSync(fd, b, off)
    h.update(b)
    size += b.length
  }
  const flush = () => {
    if (buf === undefined || len === 0) return
    put(buf.subarray(0, len))
    len = 0
  }
  return {
    write: (data: string | Buffer) => {
      // A string takes at most three bytes per UTF-16 unit; what cannot fit even alone goes as it is.
      const most = typeof data === 'string' ? data.length * 3 : data.length
      if (len + most > CHUNK) flush()
      if (most > CHUNK) return put(typeof data === 'string' ? Buffer.from(data) : data)
      buf ??= Buffer.allocUnsafe(CHUNK)
      len += typeof data === 'string' ? buf.write(data, len) : data.copy(buf, len)
    },
    suspend: () => {
      flush()
      buf = undefined
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
    },
    close: (): ManifestFile => {
      flush()
      buf = undefined
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
      return { path: rel, sha256: h.digest('hex'), size }
    },
  }
}
