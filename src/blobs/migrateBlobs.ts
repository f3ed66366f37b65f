/**
 * Copying a blob store to another (folder to S3, S3 to folder, folder to folder, …) and verifying the
 * copy: every source blob is read verified, stored in the target (a blob already there is not written
 * again), then read back from the target and checked against its digest. A target blob found damaged
 * is written again. Re-running it after an interruption or a failure copies only what is missing and
 * verifies everything again.
 *
 * Guarantees: a blob counts as copied only once the target has returned bytes that hash to its
 * digest; every blob that could not be read, written or verified is listed with why. Not guaranteed:
 * blobs added to the source while it runs (listed at the start) are not copied; run it again.
 */
import * as E from 'fp-ts/Either'
import { type BlobStore, describeBlobError } from './blobStore'

export interface BlobFailure {
  readonly digest: string
  /** Which side failed: reading the source, writing the target, or verifying the target's copy. */
  readonly stage: 'read' | 'write' | 'verify'
  readonly reason: string
}

export interface MigrateBlobsReport {
  /** Blobs in the source when the copy began. */
  readonly total: number
  /** Written to the target by this run. */
  readonly copied: number
  /** Found in the target already (an earlier run, or a shared store) and not written again. */
  readonly alreadyThere: number
  /** Found damaged in the target and written again. */
  readonly repaired: number
  /** Read back from the target and found whole (copied + alreadyThere + repaired, on success). */
  readonly verified: number
  /** Bytes of the blobs written (their original size). */
  readonly bytesCopied: number
  readonly failed: readonly BlobFailure[]
  /** Stopped by a signal before the end: run it again. */
  readonly interrupted: boolean
}

export interface MigrateBlobsOptions {
  /** Blobs read and stored per batch (the target stores a batch's blobs concurrently). */
  readonly batch?: number
  readonly onProgress?: (done: number, total: number) => void
  readonly shouldStop?: () => boolean
}

/** Lets the event loop run between batches (a stop signal is only seen then). */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve))

export const migrateBlobs = async (from: BlobStore, to: BlobStore, o: MigrateBlobsOptions = {}): Promise<MigrateBlobsReport> => {
  const digests = from.list()
  const size = Math.max(1, o.batch ?? 32)
  const failed: BlobFailure[] = []
  let copied = 0
  let alreadyThere = 0
  let repaired = 0
  let verified = 0
  let bytesCopied = 0
  let done = 0
  let interrupted = false
  o.onProgress?.(0, digests.length)
  for (let i = 0; i < digests.length; i += size) {
    if (o.shouldStop?.() === true) {
      interrupted = true
      break
    }
    const read: { digest: string; bytes: Buffer }[] = []
    for (const digest of digests.slice(i, i + size)) {
      const r = from.get(digest)
      if (E.isLeft(r)) failed.push({ digest, stage: 'read', reason: describeBlobError(r.left) })
      else read.push({ digest, bytes: r.right })
    }
    // The batch at once; if that fails, blob by blob, to name the ones that fail.
    const all = await to.putAll(read.map((r) => r.bytes))
    const stored: { digest: string; bytes: Buffer; written: boolean }[] = []
    if (E.isRight(all)) read.forEach((r, k) => stored.push({ ...r, written: all.right[k]?.written === true }))
    else
      for (const r of read) {
        const one = to.put(r.bytes)
        if (E.isLeft(one)) failed.push({ digest: r.digest, stage: 'write', reason: describeBlobError(one.left) })
        else stored.push({ ...r, written: one.right.written })
      }
    const synced = to.sync()
    if (E.isLeft(synced)) for (const s of stored.splice(0)) failed.push({ digest: s.digest, stage: 'write', reason: describeBlobError(synced.left) })
    for (const s of stored) {
      let back = to.get(s.digest, s.bytes.length)
      let mended = false
      if (E.isLeft(back) && back.left._tag === 'BlobCorrupt' && !s.written) {
        // A damaged copy under the right name (an earlier copy cut short on a store without atomic writes, or bit rot): replace it.
        const removed = to.remove(s.digest)
        const again = E.isRight(removed) ? to.put(s.bytes) : removed
        const resynced = E.isRight(again) ? to.sync() : again
        back = E.isRight(resynced) ? to.get(s.digest, s.bytes.length) : resynced
        mended = true
      }
      if (E.isLeft(back)) {
        failed.push({ digest: s.digest, stage: 'verify', reason: describeBlobError(back.left) })
        continue
      }
      verified++
      if (mended) repaired++
      else if (s.written) copied++
      else alreadyThere++
      if (s.written || mended) bytesCopied += s.bytes.length
    }
    done = Math.min(digests.length, i + size)
    o.onProgress?.(done, digests.length)
    await breathe()
  }
  return { total: digests.length, copied, alreadyThere, repaired, verified, bytesCopied, failed, interrupted }
}
