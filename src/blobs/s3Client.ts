/**
 * The S3 side of the S3 blob store (`s3BlobStore.ts`), run on its worker thread: the one place that talks to S3. The
 * calling thread sends one request at a time and waits for its answer (the blob store's interface is
 * synchronous, like the filesystem it began as); this thread does the work of a request, hashing,
 * compressing and verifying included, with up to `tuning.concurrency` S3 requests in flight.
 */
import { createHash } from 'crypto'
import { STATUS_CODES } from 'http'
import type { MessagePort } from 'worker_threads'
import * as zlib from 'zlib'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { type S3Spec, blobKey, digestOfKey } from './blobLocation'
import type { S3Reply, S3Request, StoredBlob } from './s3Protocol'
import { encodeForStore } from './encoding'

export interface WorkerData {
  readonly spec: S3Spec
  readonly signal: SharedArrayBuffer
  readonly port: MessagePort
}

/** Answers the store's requests on `port`, waking the waiting thread through `signal` after each. */
export const serve = ({ spec, signal, port }: WorkerData): void => {
  const flag = new Int32Array(signal)

  const client = new S3Client({
    region: spec.region,
    forcePathStyle: spec.forcePathStyle,
    ...(spec.endpoint !== undefined && { endpoint: spec.endpoint }),
    ...(spec.credentials !== undefined && { credentials: spec.credentials }),
    maxAttempts: spec.tuning.maxAttempts,
    retryMode: 'standard',
    // Checksums only where S3 requires them: MinIO, Ceph RGW, Garage and s3rver do not all read the
    // SDK's newer trailing checksums. Each upload carries a Content-MD5 instead, which they check
    // (s3rver does not), and every read is verified against the digest anyway.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: 10_000,
      requestTimeout: 120_000,
      httpAgent: { keepAlive: true, maxSockets: spec.tuning.concurrency },
      httpsAgent: { keepAlive: true, maxSockets: spec.tuning.concurrency },
    },
  })

  const where = (key: string) => `s3://${spec.bucket}/${key}`
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64')
  const ENCODING = 'mailtime-encoding'

  /**
   * An S3 failure in a few words: its code (for a HEAD, whose answer has no body, the HTTP status
   * alone), a hint for the usual causes, and the tries; never the request itself (it is signed).
   */
  const reasonOf = (e: unknown): string => {
    const err = e as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } }
    const status = err.$metadata?.httpStatusCode
    const attempts = err.$metadata?.attempts
    const named = err.code ?? err.name
    const what = named === undefined || /^Unknown/.test(named) ? (status !== undefined ? (STATUS_CODES[status] ?? 'Error') : 'Error') : named
    const msg = err.message !== undefined && err.message !== '' && err.message !== what && !/^Unknown/.test(err.message) ? `: ${err.message}` : ''
    const hint = status === 403 ? ' (access denied: check the credentials and the bucket policy)' : ''
    return `${what}${msg}${status !== undefined ? ` (HTTP ${status})` : ''}${hint}${attempts !== undefined && attempts > 1 ? ` after ${attempts} tries` : ''}`
  }

  const isNotFound = (e: unknown): boolean => {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number } }
    return err.$metadata?.httpStatusCode === 404 || err.name === 'NotFound' || err.name === 'NoSuchKey'
  }

  class Failure extends Error {
    constructor(
      readonly key: string,
      readonly reason: string,
    ) {
      super(reason)
    }
  }

  /** Runs `f` on every item with at most `n` at once, in order of the results. */
  const mapLimit = async <A, B>(items: readonly A[], n: number, f: (a: A, i: number) => Promise<B>): Promise<B[]> => {
    const out = new Array<B>(items.length)
    let next = 0
    let failed: unknown
    const lane = async () => {
      while (failed === undefined && next < items.length) {
        const i = next++
        try {
          out[i] = await f(items[i] as A, i)
        } catch (e) {
          failed ??= e
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane))
    if (failed !== undefined) throw failed
    return out
  }

  const head = async (key: string): Promise<{ size: number; mtimeMs: number; encoding: string | undefined } | undefined> => {
    try {
      const h = await client.send(new HeadObjectCommand({ Bucket: spec.bucket, Key: key }))
      return { size: h.ContentLength ?? 0, mtimeMs: h.LastModified?.getTime() ?? 0, encoding: h.Metadata?.[ENCODING] }
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw new Failure(key, reasonOf(e))
    }
  }

  /** Uploads one body, in parts when large; a failed multipart upload is aborted so no parts are left to pay for. */
  const upload = async (key: string, body: Buffer, encoding: string): Promise<void> => {
    const { multipartThreshold, partSize, concurrency } = spec.tuning
    const Metadata = { [ENCODING]: encoding }
    try {
      if (body.length < multipartThreshold) {
        await client.send(new PutObjectCommand({ Bucket: spec.bucket, Key: key, Body: body, ContentMD5: md5(body), ContentType: 'application/octet-stream', Metadata }))
        return
      }
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: spec.bucket, Key: key, ContentType: 'application/octet-stream', Metadata }))
      const UploadId = created.UploadId
      if (UploadId === undefined) throw new Failure(key, 'the server started a multipart upload without an upload id')
      try {
        const count = Math.ceil(body.length / partSize)
        const parts = await mapLimit(
          Array.from({ length: count }, (_, i) => i),
          Math.max(1, Math.min(4, concurrency)),
          async (i) => {
            const part = body.subarray(i * partSize, Math.min(body.length, (i + 1) * partSize))
            const r = await client.send(new UploadPartCommand({ Bucket: spec.bucket, Key: key, UploadId, PartNumber: i + 1, Body: part, ContentMD5: md5(part) }))
            return { ETag: r.ETag, PartNumber: i + 1 }
          },
        )
        await client.send(new CompleteMultipartUploadCommand({ Bucket: spec.bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }))
      } catch (e) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: spec.bucket, Key: key, UploadId })).catch(() => undefined)
        throw e
      }
    } catch (e) {
      throw e instanceof Failure ? e : new Failure(key, reasonOf(e))
    }
  }

  /**
   * Stores one blob unless its key already holds it: the key is the content's digest, so a blob found
   * there is this one (a read verifies it), and two writers racing write the same bytes twice, never
   * different ones. One found old is copied onto itself to date it anew, as the folder store touches
   * its file: a purge never deletes a blob a capture has just asked to store (purge.ts).
   */
  const store = async (bytes: Buffer, digest: string): Promise<StoredBlob> => {
    const enc = encodeForStore(bytes, digest)
    const key = blobKey(spec.prefix, enc.digest)
    const found = await head(key)
    if (found !== undefined) {
      if (Date.now() - found.mtimeMs > spec.tuning.refreshAfterMs) {
        try {
          await client.send(
            new CopyObjectCommand({
              Bucket: spec.bucket,
              Key: key,
              CopySource: `${spec.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`,
              MetadataDirective: 'REPLACE',
              ContentType: 'application/octet-stream',
              Metadata: { [ENCODING]: found.encoding ?? 'identity' },
            }),
          )
        } catch {
          // A read-only bucket still deduplicates; only the purge grace period is lost.
        }
      }
      return { digest: enc.digest, size: bytes.length, written: false }
    }
    await upload(key, enc.stored, enc.gzip ? 'gzip' : 'identity')
    return { digest: enc.digest, size: bytes.length, written: true }
  }

  const fetchBlob = async (digest: string): Promise<S3Reply> => {
    const key = blobKey(spec.prefix, digest)
    let stored: Buffer
    let encoding: string | undefined
    try {
      const r = await client.send(new GetObjectCommand({ Bucket: spec.bucket, Key: key }))
      encoding = r.Metadata?.[ENCODING]
      stored = Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array())
    } catch (e) {
      if (isNotFound(e)) return { _tag: 'Missing', key: where(key) }
      return { _tag: 'Failed', key: where(key), reason: reasonOf(e) }
    }
    let bytes = stored
    if (encoding === 'gzip') {
      try {
        bytes = zlib.gunzipSync(stored)
      } catch (e) {
        return { _tag: 'Corrupt', key: where(key), reason: `not valid gzip (${(e as Error).message})` }
      }
    } else if (encoding !== undefined && encoding !== 'identity') return { _tag: 'Corrupt', key: where(key), reason: `unknown encoding ${JSON.stringify(encoding)}` }
    const actual = createHash('sha256').update(bytes).digest('hex')
    if (actual !== digest) return { _tag: 'Corrupt', key: where(key), reason: `content hashes to ${actual}` }
    return { _tag: 'Bytes', bytes }
  }

  const list = async (): Promise<string[]> => {
    const out = new Set<string>()
    const Prefix = spec.prefix === '' ? '' : `${spec.prefix}/`
    let ContinuationToken: string | undefined
    do {
      const r = await client.send(
        new ListObjectsV2Command({ Bucket: spec.bucket, Prefix, MaxKeys: spec.tuning.listPageSize, ...(ContinuationToken !== undefined && { ContinuationToken }) }),
      )
      for (const o of r.Contents ?? []) {
        const d = o.Key === undefined ? undefined : digestOfKey(spec.prefix, o.Key)
        if (d !== undefined) out.add(d)
      }
      ContinuationToken = r.IsTruncated === true ? r.NextContinuationToken : undefined
    } while (ContinuationToken !== undefined)
    return [...out].sort()
  }

  /**
   * Whether the bucket is there, asked once before the first request: a HEAD of a blob answers 404
   * alike for a missing blob and a missing bucket, and a misspelt bucket must not read as a backup
   * whose every blob is missing. A failure is not remembered (the server may be back next time).
   */
  let bucketSeen = false
  const checkBucket = async (): Promise<void> => {
    if (bucketSeen) return
    try {
      await client.send(new HeadBucketCommand({ Bucket: spec.bucket }))
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
      throw new Failure(
        '',
        status === 404
          ? `the bucket ${spec.bucket} does not exist${spec.endpoint !== undefined ? ` on ${spec.endpoint}` : ''} (HTTP 404); Mailtime never creates one`
          : `the bucket ${spec.bucket} cannot be reached: ${reasonOf(e)}`,
      )
    }
    bucketSeen = true
  }

  const handle = async (req: S3Request): Promise<S3Reply> => {
    try {
      await checkBucket()
      switch (req.op) {
        case 'store': {
          // A body twice in one batch is stored once: two concurrent HEADs would both miss it.
          const firsts = new Map<string, number>()
          const encoded = req.bodies.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))
          const digests = encoded.map((b, i) => {
            const d = createHash('sha256').update(b).digest('hex')
            if (!firsts.has(d)) firsts.set(d, i)
            return d
          })
          const stored = await mapLimit([...firsts.values()], spec.tuning.concurrency, (i) => store(encoded[i] as Buffer, digests[i] as string))
          const byDigest = new Map(stored.map((r) => [r.digest, r]))
          return {
            _tag: 'Stored',
            results: digests.map((d, i) => (firsts.get(d) === i ? (byDigest.get(d) as StoredBlob) : { digest: d, size: (encoded[i] as Buffer).length, written: false })),
          }
        }
        case 'get':
          return await fetchBlob(req.digest)
        case 'head': {
          const h = await head(blobKey(spec.prefix, req.digest))
          return h === undefined ? { _tag: 'Missing', key: where(blobKey(spec.prefix, req.digest)) } : { _tag: 'Head', size: h.size, mtimeMs: h.mtimeMs }
        }
        case 'remove': {
          const key = blobKey(spec.prefix, req.digest)
          const h = await head(key)
          if (h === undefined) return { _tag: 'Removed', removed: false }
          try {
            await client.send(new DeleteObjectCommand({ Bucket: spec.bucket, Key: key }))
          } catch (e) {
            return { _tag: 'Failed', key: where(key), reason: reasonOf(e) }
          }
          return { _tag: 'Removed', removed: true }
        }
        case 'list':
          return { _tag: 'Listed', digests: await list() }
      }
    } catch (e) {
      if (e instanceof Failure) {
        // A failure before any blob was named (the bucket check) is reported at the blob asked for.
        const first = req.op === 'store' ? req.bodies[0] : undefined
        const digest = 'digest' in req ? req.digest : first !== undefined ? createHash('sha256').update(first).digest('hex') : undefined
        return { _tag: 'Failed', key: where(e.key !== '' || digest === undefined ? e.key : blobKey(spec.prefix, digest)), reason: e.reason }
      }
      const prefix = spec.prefix === '' ? '' : `${spec.prefix}/`
      return { _tag: 'Failed', key: `s3://${spec.bucket}/${prefix}`, reason: reasonOf(e) }
    }
  }

  /** Hands an answer back and wakes the calling thread, which waits on `flag`. */
  const answer = (reply: S3Reply) => {
    port.postMessage(reply)
    Atomics.add(flag, 0, 1)
    Atomics.notify(flag, 0)
  }

  port.on('message', (req: S3Request) => {
    handle(req).then(answer, (e: unknown) => answer({ _tag: 'Failed', key: `s3://${spec.bucket}`, reason: (e as Error).message }))
  })
}
