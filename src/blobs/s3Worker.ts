/**
 * The entry of the S3 blob store's worker thread. The client is loaded here, inside a try, so that a
 * client that cannot load (a broken install) answers every request with why, instead of leaving the
 * waiting thread without an answer.
 */
import { workerData } from 'worker_threads'
import type { WorkerData } from './s3Client'
import type { S3Reply } from './s3Protocol'

// The SDK warns on stderr, once per process, that its releases from 2027 on want Node 22: that is
// for whoever upgrades it (package.json pins the range), not for the user of a command.
// biome-ignore lint/style/noProcessEnv: this sets a switch of the SDK in the worker's own copy of the environment; it reads no setting
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

const data = workerData as WorkerData
try {
  ;(require('./s3Client') as typeof import('./s3Client')).serve(data)
} catch (e) {
  const flag = new Int32Array(data.signal)
  const reply: S3Reply = { _tag: 'Failed', key: `s3://${data.spec.bucket}`, reason: `the S3 client could not be loaded: ${(e as Error).message}` }
  data.port.on('message', () => {
    data.port.postMessage(reply)
    Atomics.add(flag, 0, 1)
    Atomics.notify(flag, 0)
  })
}
