/**
 * The blob store's behaviour suite, run against every adapter: the folder store and the S3 store
 * (against s3rver on loopback). What any store must do: content addressing, dedup, verified reads,
 * missing and malformed digests as errors, listing past one page, large bodies, removal.
 */
import { randomBytes } from 'crypto'
import * as E from 'fp-ts/Either'
import { type BlobStore, sha256 } from '../../src/blobs/blobStore'

export interface BlobStoreHarness {
  /** A new, empty store. */
  open(): Promise<BlobStore> | BlobStore
  /** Replaces what the store holds for `digest` with `stored` (as the store's raw bytes), behind its back. */
  tamper(store: BlobStore, digest: string, stored: Buffer): Promise<void> | void
  /** A body large enough to take the store's large-body path (multipart for S3). */
  readonly largeBody: number
}

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected success, got ${JSON.stringify(e.left)}`)
  return e.right
}

export const blobStoreContract = (name: string, h: BlobStoreHarness): void => {
  describe(`blob store contract: ${name}`, () => {
    it('stores a body under the SHA-256 of its bytes and reads back the same bytes, small or compressible', async () => {
      const b = await h.open()
      for (const body of [Buffer.from('Subject: short\r\n\r\nhi\r\n'), Buffer.from('Subject: long\r\n\r\n' + 'hello world '.repeat(2000))]) {
        expect(b.put(body)).toEqual(E.right({ digest: sha256(body), size: body.length, written: true }))
        expect(b.get(sha256(body), body.length)).toEqual(E.right(body))
        expect(b.get(sha256(body))).toEqual(E.right(body))
      }
      expect(b.sync()).toEqual(E.right(undefined))
    })

    it('stores an empty body, and a body of every byte value, exactly', async () => {
      const b = await h.open()
      const all = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256))
      for (const body of [Buffer.alloc(0), all]) {
        const r = right(b.put(body))
        expect(b.get(r.digest)).toEqual(E.right(body))
      }
    })

    it('stores identical content once: the second put finds it and writes nothing', async () => {
      const b = await h.open()
      const body = Buffer.from('same bytes')
      right(b.put(body))
      expect(b.put(Buffer.from('same bytes'))).toEqual(E.right({ digest: sha256(body), size: body.length, written: false }))
      expect(b.list()).toEqual([sha256(body)])
    })

    it('stores a batch in order, each duplicate (in the batch or already stored) reported as not written', async () => {
      const b = await h.open()
      const a = Buffer.from('first'),
        c = Buffer.from('second'),
        old = Buffer.from('stored before')
      right(b.put(old))
      const r = right(await b.putAll([a, c, a, old]))
      expect(r).toEqual([
        { digest: sha256(a), size: a.length, written: true },
        { digest: sha256(c), size: c.length, written: true },
        { digest: sha256(a), size: a.length, written: false },
        { digest: sha256(old), size: old.length, written: false },
      ])
      expect(b.list()).toEqual([sha256(a), sha256(c), sha256(old)].sort())
    })

    it('refuses a blob whose stored bytes no longer hash to its digest, naming the digest and where it is', async () => {
      const b = await h.open()
      const { digest } = right(b.put(Buffer.from('original')))
      await h.tamper(b, digest, Buffer.from('tampered'))
      const r = b.get(digest)
      expect(r).toMatchObject(E.left({ _tag: 'BlobCorrupt', digest, reason: `content hashes to ${sha256(Buffer.from('tampered'))}` }))
      expect(E.isLeft(r) && 'path' in r.left && r.left.path.includes(digest)).toBe(true)
    })

    it('reports a missing blob as missing and a malformed digest as such, never reading outside the store', async () => {
      const b = await h.open()
      const absent = sha256(Buffer.from('never stored'))
      expect(b.get(absent)).toMatchObject(E.left({ _tag: 'BlobMissing', digest: absent }))
      expect(b.has(absent)).toBe(false)
      expect(b.stat(absent)).toBeUndefined()
      expect(b.get('../../etc/passwd')).toEqual(E.left({ _tag: 'BadDigest', digest: '../../etc/passwd' }))
      expect(b.remove('../x')).toEqual(E.left({ _tag: 'BadDigest', digest: '../x' }))
      expect(b.has('../x')).toBe(false)
    })

    it('answers has and stat for a stored blob, and removes it (removing it again is not an error)', async () => {
      const b = await h.open()
      const before = Date.now()
      const body = Buffer.from('x'.repeat(10_000))
      const { digest } = right(b.put(body))
      expect(b.has(digest)).toBe(true)
      const st = b.stat(digest)
      expect(st?.size).toBeGreaterThan(0)
      expect(st?.size).toBeLessThan(body.length)
      // S3 dates objects to the second.
      expect(st?.mtimeMs).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000)
      expect(b.remove(digest)).toEqual(E.right(true))
      expect(b.remove(digest)).toEqual(E.right(false))
      expect(b.has(digest)).toBe(false)
      expect(b.list()).toEqual([])
    })

    it('lists every stored digest, sorted, past one listing page', async () => {
      const b = await h.open()
      const bodies = Array.from({ length: 7 }, (_, i) => Buffer.from(`message ${i}`))
      right(await b.putAll(bodies))
      expect(b.list()).toEqual(bodies.map(sha256).sort())
    })

    it('stores a large body (the large-body path) and reads it back verified', async () => {
      const b = await h.open()
      const body = randomBytes(h.largeBody)
      const r = right(b.put(body))
      expect(r).toEqual({ digest: sha256(body), size: body.length, written: true })
      const back = right(b.get(r.digest, body.length))
      expect(back.equals(body)).toBe(true)
      expect(right(b.put(body)).written).toBe(false)
    })
  })
}
