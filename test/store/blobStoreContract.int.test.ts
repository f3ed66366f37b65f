/**
 * The blob store contract (test/contract/blobStoreContract.ts) against the folder store and against
 * the S3 store on a real S3 server (s3rver on loopback, started here and stopped in afterAll), and
 * the S3 store's own failure behaviour: throttling retried, a server gone or a bad key reported.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { type S3Spec, blobKey, resolveBlobSpec } from '../../src/blobs/blobLocation'
import { type BlobStore, fsBlobStore, sha256 } from '../../src/blobs/blobStore'
import { s3BlobStore } from '../../src/blobs/s3BlobStore'
import { blobStoreContract } from '../contract/blobStoreContract'
import { type S3rver, S3_BUCKET, startS3rver } from '../support/s3rver'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

blobStoreContract('folder', {
  open: () => fsBlobStore(tmpDir()),
  tamper: (b, digest, stored) => {
    const raw = path.join(b.root, digest.slice(0, 2), digest)
    fs.rmSync(`${raw}.gz`, { force: true })
    fs.writeFileSync(raw, stored)
  },
  largeBody: 12 * 1024 * 1024,
})

describe('S3 blob store on s3rver', () => {
  let s3: S3rver
  let prefixes = 0
  beforeAll(async () => {
    s3 = await startS3rver(tmpDir())
  })
  afterAll(async () => {
    await s3?.stop()
  })

  // Each store its own prefix in the one bucket: a store sees only the blobs under its prefix.
  const openS3 = (): BlobStore => s3BlobStore(s3.spec(`t${++prefixes}/blobs`, { listPageSize: 2, multipartThreshold: 5 * 1024 * 1024, partSize: 5 * 1024 * 1024 }))

  blobStoreContract('S3 (s3rver)', {
    open: () => openS3(),
    tamper: async (b, digest, stored) => {
      const spec = b.spec
      if (spec.kind !== 's3') throw new Error('not an S3 store')
      const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
      await client.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: blobKey(spec.prefix, digest), Body: stored, Metadata: { 'mailtime-encoding': 'identity' } }))
      client.destroy()
    },
    largeBody: 11 * 1024 * 1024,
  })

  it('keeps the blobs of two prefixes apart', () => {
    const a = openS3()
    const b = openS3()
    const { digest } = (a.put(Buffer.from('only in a')) as E.Right<{ digest: string }>).right
    expect(b.has(digest)).toBe(false)
    expect(b.list()).toEqual([])
    expect(a.list()).toEqual([digest])
  })

  it('names the store as s3://bucket/prefix and never shows its credentials', () => {
    const b = openS3()
    expect(b.root).toMatch(new RegExp(`^s3://${S3_BUCKET}/t\\d+/blobs$`))
    const r = b.get(sha256(Buffer.from('absent')))
    expect(JSON.stringify(r)).not.toContain('S3RVER')
  })
})

describe('S3 blob store faults', () => {
  afterAll(cleanupTmp)

  it('retries a throttled request (503 SlowDown) with backoff and then stores the blob', async () => {
    const s3 = await startS3rver(tmpDir(), { failFirst: 3 })
    try {
      const b = s3BlobStore(s3.spec('p', { maxAttempts: 5 }))
      const body = Buffer.from('throttled, then stored')
      expect(b.put(body)).toEqual(E.right({ digest: sha256(body), size: body.length, written: true }))
      expect(b.get(sha256(body))).toEqual(E.right(body))
    } finally {
      await s3.stop()
    }
  })

  it("gives up after its tries on a server that keeps throttling, with the server's answer", async () => {
    const s3 = await startS3rver(tmpDir(), { failFirst: 1000 })
    try {
      const b = s3BlobStore(s3.spec('p', { maxAttempts: 2 }))
      const r = b.put(Buffer.from('never stored'))
      expect(r).toMatchObject(E.left({ _tag: 'BlobIOError' }))
      expect(E.isLeft(r) && r.left.reason).toMatch(/Service Unavailable \(HTTP 503\) after 2 tries/)
    } finally {
      await s3.stop()
    }
  })

  it('reports a server that is gone as an error naming the key, for writes and reads', async () => {
    const s3 = await startS3rver(tmpDir())
    const b = s3BlobStore(s3.spec('p', { maxAttempts: 2 }))
    const body = Buffer.from('stored before the server died')
    const { digest } = (b.put(body) as E.Right<{ digest: string }>).right
    await s3.stop()
    const w = b.put(Buffer.from('after'))
    expect(w).toMatchObject(E.left({ _tag: 'BlobIOError' }))
    expect(E.isLeft(w) && w.left.reason).toMatch(/ECONNREFUSED/)
    const r = b.get(digest)
    expect(r).toMatchObject(E.left({ _tag: 'BlobIOError', digest, path: `s3://${S3_BUCKET}/p/${digest.slice(0, 2)}/${digest}` }))
    expect(() => b.has(digest)).toThrow(/ECONNREFUSED/)
  })

  it('reports a bucket that does not exist as such, never as blobs missing from it', async () => {
    const s3 = await startS3rver(tmpDir())
    try {
      const b = s3BlobStore({ ...s3.spec('p', { maxAttempts: 1 }), bucket: 'no-such-bucket' })
      const digest = sha256(Buffer.from('x'))
      const r = b.get(digest)
      expect(r).toMatchObject(E.left({ _tag: 'BlobIOError', digest }))
      expect(E.isLeft(r) && r.left._tag === 'BlobIOError' && r.left.reason).toBe(
        `the bucket no-such-bucket does not exist on ${s3.endpoint} (HTTP 404); Mailtime never creates one`,
      )
      expect(() => b.has(digest)).toThrow(/the bucket no-such-bucket does not exist/)
      expect(b.put(Buffer.from('x'))).toMatchObject(E.left({ _tag: 'BlobIOError' }))
    } finally {
      await s3.stop()
    }
  })

  // s3rver does not check SigV4 signatures, only that it knows the access key.
  it('reports credentials the server refuses, without showing them', async () => {
    const s3 = await startS3rver(tmpDir())
    try {
      const spec = { ...s3.spec('p', { maxAttempts: 1 }), credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'wrong-secret-xyz' } }
      const r = s3BlobStore(spec).put(Buffer.from('x'))
      expect(r).toMatchObject(E.left({ _tag: 'BlobIOError' }))
      expect(E.isLeft(r) && r.left.reason).toMatch(/Forbidden \(HTTP 403\) \(access denied: check the credentials/)
      expect(JSON.stringify(r)).not.toContain('wrong-secret-xyz')
    } finally {
      await s3.stop()
    }
  })
})

/**
 * The same contract against your own S3 server (MinIO, Ceph RGW, Garage, AWS), when
 * MAILTIME_S3_CONTRACT_LOCATION names a bucket and prefix to use (s3://bucket/prefix; each case
 * writes under its own sub-prefix and leaves its blobs there), with MAILTIME_S3_ENDPOINT and the
 * AWS_* credentials as for the CLI. CI has no such server: there it says that it skipped.
 */
const own = process.env.MAILTIME_S3_CONTRACT_LOCATION
if (own === undefined) {
  describe.skip('blob store contract: your S3 server (set MAILTIME_S3_CONTRACT_LOCATION)', () => undefined)
} else {
  const resolved = resolveBlobSpec(own, process.env)
  if (E.isLeft(resolved) || resolved.right.kind !== 's3') throw new Error(`MAILTIME_S3_CONTRACT_LOCATION: ${E.isLeft(resolved) ? resolved.left : 'not an s3:// location'}`)
  const base: S3Spec = resolved.right
  const run = `run-${Date.now()}`
  let n = 0
  blobStoreContract(`S3 (${own})`, {
    open: () => s3BlobStore({ ...base, prefix: `${base.prefix === '' ? '' : `${base.prefix}/`}${run}/${++n}` }),
    tamper: async (b, digest, stored) => {
      const spec = b.spec as S3Spec
      const client = new S3Client({
        region: spec.region,
        forcePathStyle: spec.forcePathStyle,
        ...(spec.endpoint !== undefined && { endpoint: spec.endpoint }),
        ...(spec.credentials !== undefined && { credentials: spec.credentials }),
        requestChecksumCalculation: 'WHEN_REQUIRED',
      })
      await client.send(new PutObjectCommand({ Bucket: spec.bucket, Key: blobKey(spec.prefix, digest), Body: stored, Metadata: { 'mailtime-encoding': 'identity' } }))
      client.destroy()
    },
    largeBody: 20 * 1024 * 1024,
  })
}
