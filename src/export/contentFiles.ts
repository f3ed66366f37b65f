/**
 * Writing an export's files that hold message bodies: the content files (`messages/<sha256>.eml`,
 * …) and the MBOX of each folder. Each blob is read once, for both. This runs on two worker threads
 * when they can be started: creating 100,000 small files is mostly kernel time, which then runs on
 * both cores while the main thread writes the timeline and the states (docs/performance.md).
 * Where no worker can be started (the TypeScript sources run directly, as under a test runner), the
 * same code runs on the calling thread.
 */
import * as fs from 'fs'
import * as path from 'path'
import { Worker } from 'worker_threads'
import * as E from 'fp-ts/Either'
import { type BlobStore, describeBlobError, isDigest } from '../blobs/blobStore'
import { type WireBatch, batchEncoder } from './contentBatch'
import { type HashedFile, type ManifestFile, hashedFile } from './hashedFile'
import { mboxEntry } from './mbox'

/** One blob to write: to its content file, to an MBOX, or both. */
export interface ContentJob {
  /** The blob's digest: 64 hex digits (the writer reports any other as missing without sending it). */
  readonly digest: string
  /**
   * The content's size, as its event records it: its content file's size in the manifest (unless
   * the blob turns out otherwise), and what lets a small body be read without a stat.
   */
  readonly size: number
  /** The content file (`<dir>/<digest>.<ext>`), when this is the first job of the digest. */
  readonly rel?: string | undefined
  /** The MBOX to append the message to (jobs come in each MBOX's order) and its `From ` date. */
  readonly mbox?: { readonly rel: string; readonly date: number }
}

/**
 * What writing one batch gave: the blobs that could not be read and why, and the content files
 * whose size is not the one their job gave (the manifest takes a file's size from its job).
 */
export interface BatchResult {
  readonly missing: { digest: string; reason: string }[]
  readonly resized: { digest: string; size: number }[]
}

/** MBOX files kept open at once; the others are closed until their next message (an account can have thousands of folders). */
const OPEN_MBOXES = 32

/** Writes batches of jobs as they come; `end` closes the MBOX files and lists them. */
export const contentSink = (blobs: BlobStore, dest: string) => {
  const mboxes = new Map<string, HashedFile>()
  /** The MBOX files open now, least recently written first. */
  const open = new Map<string, HashedFile>()
  const mboxFile = (rel: string): HashedFile => {
    let f = open.get(rel)
    if (f !== undefined) {
      open.delete(rel)
    } else {
      f = mboxes.get(rel)
      if (f === undefined) mboxes.set(rel, (f = hashedFile(dest, rel)))
      if (open.size >= OPEN_MBOXES) {
        const [oldest, g] = open.entries().next().value as [string, HashedFile]
        g.suspend()
        open.delete(oldest)
      }
    }
    open.set(rel, f)
    return f
  }
  return {
    write: (jobs: readonly ContentJob[]): BatchResult => {
      const out: BatchResult = { missing: [], resized: [] }
      for (const j of jobs) {
        const bytes = blobs.get(j.digest, j.size)
        if (E.isLeft(bytes)) {
          out.missing.push({ digest: j.digest, reason: describeBlobError(bytes.left) })
          continue
        }
        if (j.rel !== undefined && bytes.right.length !== j.size) out.resized.push({ digest: j.digest, size: bytes.right.length })
        if (j.rel !== undefined) fs.writeFileSync(`${dest}/${j.rel}`, bytes.right, { flag: 'wx' })
        if (j.mbox !== undefined) {
          const f = mboxFile(j.mbox.rel)
          for (const part of mboxEntry(bytes.right, j.mbox.date)) f.write(part)
        }
      }
      return out
    },
    end: (): ManifestFile[] => {
      const files = [...mboxes.values()].map((f) => f.close())
      mboxes.clear()
      open.clear()
      return files
    },
  }
}

export interface ContentResult {
  /** The content files (`<dir>/<digest>.<ext>`), in the order they were queued. */
  readonly contents: ManifestFile[]
  readonly mbox: ManifestFile[]
  readonly missing: { digest: string; reason: string }[]
}

export interface ContentWriter {
  /** Queues a batch of jobs; batches are written in the order they were queued. */
  submit(jobs: readonly ContentJob[]): void
  /**
   * Lets the workers' replies in and, if jobs were submitted since the last call, waits while a
   * worker has many batches queued: a caller that can wait (the timeline) then adds no more than
   * that, whatever the account's size. A caller that added nothing does not wait: what the states
   * queued drains at the workers' pace either way.
   */
  ready(): Promise<void>
  finish(): Promise<ContentResult>
  /** Stops the writer after a failure elsewhere (its thread would otherwise keep the process alive). */
  abort(): Promise<void>
}

const WORKER = path.join(__dirname, 'contentWorker.js')
/** Batches handed to a worker and not yet written: enough to keep it busy, few enough to stay small. */
const IN_FLIGHT = 32
/** Batches queued for a worker beyond which `ready` waits (about 100 bytes a job, 1,000 jobs a batch). */
const QUEUED = 64
/**
 * Content worker threads. Two, with the main thread's own work, keep both cores of a small machine
 * busy to the end: with one, the worker (file creation, mostly kernel time) was still writing when
 * the main thread had finished (docs/performance.md).
 */
const WORKERS = 2

/** Starts the writer; `onDone` hears how many jobs have been written so far. */
export const contentWriter = (blobs: BlobStore, dest: string, onDone?: (done: number) => void): ContentWriter => {
  // A content file's manifest entry is its path, its digest (checked when the blob is read) and the
  // size its job gives, recorded when it is queued; the workers report only what differs from
  // that: blobs that could not be read, and sizes that were not the recorded ones.
  const files: ManifestFile[] = []
  const missing = new Map<string, string>()
  const resized = new Map<string, number>()
  let done = 0
  const record = (jobs: number, r: BatchResult) => {
    for (const m of r.missing) missing.set(m.digest, m.reason)
    for (const m of r.resized) resized.set(m.digest, m.size)
    done += jobs
    onDone?.(done)
  }
  /** The jobs to send: a digest that is not one names no blob, and is reported as missing here. */
  const accept = (jobs: readonly ContentJob[]): ContentJob[] => {
    const ok: ContentJob[] = []
    for (const j of jobs) {
      if (!isDigest(j.digest)) {
        missing.set(j.digest, describeBlobError({ _tag: 'BadDigest', digest: j.digest }))
        done++
        continue
      }
      if (j.rel !== undefined) files.push({ path: j.rel, sha256: j.digest, size: j.size })
      ok.push(j)
    }
    return ok
  }
  const result = (mbox: ManifestFile[]): ContentResult => ({
    contents: missing.size === 0 && resized.size === 0 ? files : files.filter((f) => !missing.has(f.sha256)).map((f) => ({ ...f, size: resized.get(f.sha256) ?? f.size })),
    mbox,
    missing: [...missing].map(([digest, reason]) => ({ digest, reason })),
  })

  if (!fs.existsSync(WORKER)) {
    const sink = contentSink(blobs, dest)
    return {
      submit: (jobs) => {
        const ok = accept(jobs)
        record(ok.length, sink.write(ok))
      },
      ready: () => new Promise((resolve) => setImmediate(resolve)),
      finish: async () => result(sink.end()),
      abort: async () => void sink.end(),
    }
  }
  const lanes = Array.from({ length: WORKERS }, () => lane(blobs, dest))
  let failure: Error | undefined
  let wake: (() => void) | undefined
  const stop = (e: Error | undefined) => {
    failure ??= e
    wake?.()
  }
  for (const l of lanes) {
    l.worker.on('message', (m: { batch?: BatchResult; mbox?: ManifestFile[]; error?: string }) => {
      if (m.error !== undefined) return stop(new Error(m.error))
      if (m.batch !== undefined) {
        record(l.inFlight.shift() ?? 0, m.batch)
        l.pump()
        wake?.()
      }
      if (m.mbox !== undefined) {
        l.ended = m.mbox
        wake?.()
      }
    })
    l.worker.on('error', (e) => stop(e))
    l.worker.on('exit', () => stop(l.ended === undefined ? new Error('the content writer stopped before it finished') : undefined))
  }
  // Each MBOX file belongs to one worker (its entries must stay in order): the one with the fewest
  // jobs so far when the file first appears; a job without an MBOX goes to the one with the fewest.
  const laneOfMbox = new Map<string, Lane>()
  const lightest = () => lanes.reduce((a, b) => (b.assigned < a.assigned ? b : a))
  let added = false
  const until = async (ready: () => boolean) => {
    while (!ready() && failure === undefined) await new Promise<void>((resolve) => (wake = resolve))
  }
  const idle = () => lanes.every((l) => l.queue.length === 0 && l.inFlight.length === 0)
  return {
    submit: (jobs) => {
      const split = new Map<Lane, ContentJob[]>()
      for (const j of accept(jobs)) {
        let l = j.mbox === undefined ? undefined : laneOfMbox.get(j.mbox.rel)
        if (l === undefined) {
          l = lightest()
          if (j.mbox !== undefined) laneOfMbox.set(j.mbox.rel, l)
        }
        l.assigned++
        const batch = split.get(l)
        if (batch === undefined) split.set(l, [j])
        else batch.push(j)
      }
      for (const [l, batch] of split) {
        l.queue.push(l.encode(batch))
        l.pump()
      }
      added ||= split.size > 0
    },
    ready: async () => {
      await new Promise((resolve) => setImmediate(resolve))
      if (added) await until(() => lanes.every((l) => l.queue.length <= QUEUED))
      added = false
      if (failure !== undefined) throw failure
    },
    finish: async () => {
      await until(idle)
      if (failure === undefined) for (const l of lanes) l.worker.postMessage({ end: true })
      await until(() => lanes.every((l) => l.ended !== undefined))
      await Promise.all(lanes.map((l) => l.worker.terminate()))
      const ended = lanes.flatMap((l) => l.ended ?? [])
      if (failure !== undefined || lanes.some((l) => l.ended === undefined)) throw failure ?? new Error('the content writer stopped before it finished')
      return result(ended)
    },
    abort: async () => {
      await Promise.all(lanes.map((l) => l.worker.terminate()))
    },
  }
}

type Lane = ReturnType<typeof lane>

/** One worker thread, the batches queued for it and the job counts of those handed to it. */
const lane = (blobs: BlobStore, dest: string) => {
  const worker = new Worker(WORKER, { workerData: { blobs: blobs.spec, dest }, resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 96 } })
  const queue: WireBatch[] = []
  const inFlight: number[] = []
  return {
    worker,
    queue,
    inFlight,
    encode: batchEncoder(),
    assigned: 0,
    ended: undefined as ManifestFile[] | undefined,
    pump: () => {
      while (inFlight.length < IN_FLIGHT) {
        const batch = queue.shift()
        if (batch === undefined) return
        inFlight.push(batch.jobs)
        worker.postMessage({ batch })
      }
    },
  }
}
