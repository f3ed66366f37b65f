/** The worker thread of `contentFiles.ts`: writes each batch it is sent, and the MBOX files at the end. */
import { parentPort, workerData } from 'worker_threads'
import { fsBlobStore } from '../blobs/blobStore'
import { type ContentJob, contentSink } from './contentFiles'

const { blobs, dest } = workerData as { blobs: string; dest: string }
const sink = contentSink(fsBlobStore(blobs), dest)
let failed = false
parentPort?.on('message', (m: { jobs?: ContentJob[]; end?: boolean }) => {
  if (failed) return
  try {
    if (m.jobs !== undefined) parentPort?.postMessage({ batch: sink.write(m.jobs) })
    if (m.end === true) parentPort?.postMessage({ mbox: sink.end() })
  } catch (e) {
    failed = true
    parentPort?.postMessage({ error: (e as Error).message })
  }
})
