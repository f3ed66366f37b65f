/**
 * The export's buffered, hashing file writer: for any sequence of strings (multi-byte ones
 * included) and buffers (some larger than its buffer), with suspensions in between, the file holds
 * exactly what was written, and the manifest entry gives its SHA-256 and size.
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import fc from 'fast-check'
import { hashedFile } from '../../src/export/hashedFile'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const write = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\n', '"'), maxLength: 30_000 }).map((s) => ({ kind: 'string' as const, s })),
  fc.integer({ min: 0, max: 150_000 }).map((n) => ({ kind: 'buffer' as const, b: Buffer.alloc(n, n % 251) })),
  fc.constant({ kind: 'suspend' as const }),
)

describe('hashedFile', () => {
  it('writes exactly what it is given, across its buffer and suspensions, and hashes it', () => {
    const root = tmpDir()
    let n = 0
    fc.assert(
      fc.property(fc.array(write, { maxLength: 40 }), (ops) => {
        const rel = `dir/f${n++}.bin`
        const f = hashedFile(root, rel)
        const expected: Buffer[] = []
        for (const op of ops) {
          if (op.kind === 'suspend') f.suspend()
          else if (op.kind === 'string') {
            f.write(op.s)
            expected.push(Buffer.from(op.s))
          } else {
            f.write(op.b)
            expected.push(op.b)
          }
        }
        const entry = f.close()
        const onDisk = fs.readFileSync(path.join(root, rel))
        const want = Buffer.concat(expected)
        expect(onDisk.equals(want)).toBe(true)
        expect(entry).toEqual({ path: rel, sha256: createHash('sha256').update(want).digest('hex'), size: want.length })
      }),
      { numRuns: 60 },
    )
  })
})
