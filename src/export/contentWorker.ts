/** The worker thread of `contentFiles.ts`: writes each batch it is sent, and the MBOX files at the end. */
import { parentPort, workerData } from 'worker_threads'
import type { BlobSpec } from '../blobs/blobLocation'
import { openBlobStore } from '../blobs/blobStore'
import { type WireBatch, batchDecoder } from './contentBatch'
import { contentSink } from './contentFiles'

const { blobs, dest } = workerData as { blobs: BlobSpec; dest: string }
const sink = contentSink(openBlobStore(blobs), dest)
const decode = batchDecoder()
let failed = false
parentPort?.on('message', (m: { batch?: WireBatch; end?: boolean }) => {
  if (failed) return
  try {
    if (m.batch !== undefined) parentPort?.postMessage({ batch: sink.write(decode(m.batch)) })
    if (m.end === true) parentPort?.postMessage({ mbox: sink.end() })
  } catch (e) {
    failed = true
    parentPort?.postMessage({ error: (e as Error).message })
  }
})
