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

/** Creates `<root>/<rel>` (never overwriting) and its directory. */
export const hashedFile = (root: string, rel: string) => {
  const file = path.join(root, rel)
  if (!fs.existsSync(path.dirname(file))) fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, 'wx')
  const h = createHash('sha256')
  let size = 0
  return {
    write: (data: string | Buffer) => {
      const b = typeof data === 'string' ? Buffer.from(data) : data
      fs.writeSync(fd, b)
      h.update(b)
      size += b.length
    },
    close: (): ManifestFile => {
      fs.closeSync(fd)
      return { path: rel, sha256: h.digest('hex'), size }
    },
  }
}

