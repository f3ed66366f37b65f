/**
 * How a blob is stored: gzip when that saves a filesystem block (4 KB), the bytes as they are
 * otherwise (most bodies under 4 KB), so that a read of a small body skips a gunzip
 * (docs/performance.md). The folder store and the S3 store use the same rule.
 */
import { hash } from 'crypto'
import * as zlib from 'zlib'

/** The allocation unit that compression has to save for a blob to be stored compressed. */
export const BLOCK = 4096

const blocks = (n: number) => Math.ceil(n / BLOCK)

export const sha256 = (bytes: Buffer): string => hash('sha256', bytes, 'hex')

export interface Encoded {
  readonly digest: string
  /** The bytes to store: gzip, or the blob itself. */
  readonly stored: Buffer
  readonly gzip: boolean
}

export const encodeForStore = (bytes: Buffer, digest: string = sha256(bytes)): Encoded => {
  const gz = zlib.gzipSync(bytes, { level: 6 })
  const gzip = blocks(gz.length) < blocks(bytes.length)
  return { digest, stored: gzip ? gz : bytes, gzip }
}
