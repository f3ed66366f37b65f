/**
 * The blob store in an S3 bucket (AWS, MinIO, Ceph RGW, Garage, …): the folder store's layout as keys
 * (`<prefix>/<first two hex digits>/<sha256 hex>`, gzip or not by the same rule, said by the object's
 * `mailtime-encoding` metadata), with the same guarantees:
 *
 * 1. Content addressing: a blob's key is the SHA-256 of its bytes.
 * 2. Dedup: a HEAD before each PUT; two writers racing write the same bytes, never different ones.
 * 3. Verified reads: every `get` hashes what it read (after gunzip) and refuses a mismatch.
 * 4. Durability order: `put` returns once the server has acknowledged the whole object (S3 makes an
 *    object durable before it answers a PUT or a multipart completion), so a writer that commits its
 *    events after `put` and `sync` never commits an event whose blob is not stored. `sync` has
 *    nothing left to do.
 * 5. Large bodies go up in parts, several at once; a batch (`putAll`) stores up to
 *    `tuning.concurrency` blobs at once; each request is retried with exponential backoff on 5xx,
 *    throttling and dropped connections, then fails with the server's answer.
 *
 * Not guaranteed: a HEAD and a PUT are two requests, so a purge that deletes a blob between a
 * capture's HEAD and its event commit would leave that event without its blob; as with the folder
 * store, the purge spares blobs dated within its grace period, and a HEAD that finds a blob older than
 * ten minutes dates it anew (a copy onto itself).
 *
 * The `BlobStore` interface is synchronous (it began on the filesystem, and its callers, capture,
 * restores, exports, coherency checks, read blobs in synchronous code). So the S3 client runs on a
 * worker thread (`s3Worker.ts`) and this thread waits for each answer with `Atomics.wait`: a request
 * blocks its caller as a file read does, only longer.
 */
import * as fs from 'fs'
import * as path from 'path'
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'worker_threads'
import * as E from 'fp-ts/Either'
import { StoreErrorRaised } from '../../projections/errors'
import { type S3Spec, blobKey, describeBlobSpec } from './blobLocation'
import type { BlobError, BlobStore, BlobWriteError, PutResult } from './blobStore'
import type { S3Reply, S3Request } from './s3Protocol'

const HEX64 = /^[0-9a-f]{64}$/

/**
 * The worker's compiled file: beside this one when built, or in `dist/` when this module runs from
 * its TypeScript source (under the test runner, whose setup builds `dist/` first).
 */
const workerFile = (): string | undefined =>
  [path.join(__dirname, 's3Worker.js'), path.join(__dirname, '..', '..', 'dist', 'src', 'blobs', 's3Worker.js')].find((f) => fs.existsSync(f))

/**
 * The longest one request may take before the store gives up on the worker: far beyond what the
 * client's own timeouts and retries allow (10 s to connect, 120 s of silence, 5 tries), so it only
 * fires if the worker itself is gone.
 */
const CALL_LIMIT_MS = 30 * 60 * 1000

interface Bridge {
  call(req: S3Request): S3Reply
}

const startBridge = (spec: S3Spec): Bridge | string => {
  const file = workerFile()
  if (file === undefined) return `the S3 client's worker (s3Worker.js) is missing beside ${__dirname}: run npm run build`
  const signal = new SharedArrayBuffer(4)
  const flag = new Int32Array(signal)
  const { port1, port2 } = new MessageChannel()
  const worker = new Worker(file, { workerData: { spec, signal, port: port2 }, transferList: [port2 as MessagePort] })
  // Neither keeps the process alive: every request is answered before its call returns.
  worker.unref()
  port1.unref()
  return {
    call: (req) => {
      const seen = Atomics.load(flag, 0)
      port1.postMessage(req)
      const deadline = Date.now() + CALL_LIMIT_MS
      for (;;) {
        const m = receiveMessageOnPort(port1)
        if (m !== undefined) return m.message as S3Reply
        if (Date.now() > deadline) return { _tag: 'Failed', key: describeBlobSpec(spec), reason: `the S3 client thread did not answer within ${CALL_LIMIT_MS / 60000} minutes` }
        Atomics.wait(flag, 0, seen, 1000)
      }
    },
  }
}

export const s3BlobStore = (spec: S3Spec): BlobStore => {
  const root = describeBlobSpec(spec)
  let bridge: Bridge | undefined
  const call = (req: S3Request): S3Reply => {
    if (bridge === undefined) {
      const b = startBridge(spec)
      if (typeof b === 'string') return { _tag: 'Failed', key: root, reason: b }
      bridge = b
    }
    return bridge.call(req)
  }
  const where = (digest: string) => `s3://${spec.bucket}/${blobKey(spec.prefix, digest)}`
  const unexpected = (r: S3Reply) => `unexpected answer ${r._tag} from the S3 client thread`
  /**
   * A failure where the interface has no error channel (has, list, stat): a store error raised, which
   * the CLI reports as such (exit 4), never as an absent blob.
   */
  const raise = (r: S3Reply): never => {
    throw new StoreErrorRaised({ _tag: 'StoreFailure', store: root, reason: r._tag === 'Failed' ? `${r.key}: ${r.reason}` : unexpected(r) })
  }
  const store = (bodies: readonly Buffer[]): E.Either<BlobWriteError, PutResult[]> => {
    if (bodies.length === 0) return E.right([])
    const r = call({ op: 'store', bodies })
    if (r._tag === 'Stored') return E.right([...r.results])
    const key = r._tag === 'Failed' ? r.key : root
    return E.left({ _tag: 'BlobIOError', digest: /[0-9a-f]{64}$/.exec(key)?.[0] ?? '', path: key, reason: r._tag === 'Failed' ? r.reason : unexpected(r) })
  }
  return {
    root,
    spec,
    put: (bytes) => E.map((rs: PutResult[]) => rs[0] as PutResult)(store([bytes])),
    putAll: async (bodies) => store([...bodies]),
    sync: () => E.right(undefined),
    get: (digest) => {
      if (!HEX64.test(digest)) return E.left({ _tag: 'BadDigest', digest })
      const r = call({ op: 'get', digest })
      switch (r._tag) {
        case 'Bytes':
          return E.right(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength))
        case 'Missing':
          return E.left({ _tag: 'BlobMissing', digest, path: r.key })
        case 'Corrupt':
          return E.left({ _tag: 'BlobCorrupt', digest, path: r.key, reason: r.reason })
        case 'Failed':
          return E.left({ _tag: 'BlobIOError', digest, path: r.key, reason: r.reason })
        default:
          return E.left({ _tag: 'BlobIOError', digest, path: where(digest), reason: unexpected(r) } satisfies BlobError)
      }
    },
    has: (digest) => {
      if (!HEX64.test(digest)) return false
      const r = call({ op: 'head', digest })
      return r._tag === 'Head' ? true : r._tag === 'Missing' ? false : raise(r)
    },
    remove: (digest) => {
      if (!HEX64.test(digest)) return E.left({ _tag: 'BadDigest', digest })
      const r = call({ op: 'remove', digest })
      if (r._tag === 'Removed') return E.right(r.removed)
      return E.left({ _tag: 'BlobIOError', digest, path: r._tag === 'Failed' ? r.key : where(digest), reason: r._tag === 'Failed' ? r.reason : unexpected(r) })
    },
    list: () => {
      const r = call({ op: 'list' })
      return r._tag === 'Listed' ? [...r.digests] : raise(r)
    },
    stat: (digest) => {
      if (!HEX64.test(digest)) return undefined
      const r = call({ op: 'head', digest })
      return r._tag === 'Head' ? { size: r.size, mtimeMs: r.mtimeMs } : r._tag === 'Missing' ? undefined : raise(r)
    },
  }
}
