/**
 * A real S3 server on loopback for the tests: s3rver (npm), run as a child process by
 * `s3rverMain.js` on a free port, with one bucket. Its limits (docs/scale.md): it does not check
 * Content-MD5 and ignores `If-None-Match` on PUT; its paginated listings need the legacy OpenSSL
 * provider, which the child is started with.
 */
import { type ChildProcess, spawn } from 'child_process'
import * as path from 'path'
import type { S3Spec, S3Tuning } from '../../src/blobs/blobLocation'
import { DEFAULT_S3_TUNING } from '../../src/blobs/blobLocation'

// The SDK's once-per-process warning that its 2027 releases want Node 22 (the CLI silences it too).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export const S3_BUCKET = 'mailtime-test'

export interface S3rver {
  readonly endpoint: string
  readonly port: number
  /** The environment a `mailtime` run needs to reach it (endpoint and credentials). */
  readonly env: Record<string, string>
  /** Object PUTs answered so far (lines `put /bucket/key`): exact once `exited` has resolved. */
  readonly puts: () => number
  /** Resolves when the server process has exited (killed, or died on its own). */
  readonly exited: Promise<void>
  spec(prefix?: string, tuning?: Partial<S3Tuning>): S3Spec
  stop(): Promise<void>
}

export interface S3rverOptions {
  /** A port to listen on (0: any free one). Restarting on the same port and directory is a server coming back. */
  readonly port?: number
  /** The process kills itself (SIGKILL) on this many object PUTs plus one, before answering it. */
  readonly dieAfterPuts?: number
  /** Answers the first N requests with 503 SlowDown (throttling). */
  readonly failFirst?: number
}

export const startS3rver = async (directory: string, o: S3rverOptions = {}): Promise<S3rver> => {
  const args = [
    '--openssl-legacy-provider',
    path.join(__dirname, 's3rverMain.js'),
    directory,
    String(o.port ?? 0),
    S3_BUCKET,
    ...(o.dieAfterPuts !== undefined || o.failFirst !== undefined ? [String(o.dieAfterPuts ?? 1e9), String(o.failFirst ?? 0)] : []),
  ]
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', S3RVER_EXIT_WITH_STDIN: '1' } })
  let puts = 0
  let out = ''
  let err = ''
  // 'close': the process has exited and all its output has been read (so `puts` is final).
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8')
      const lines = out.split('\n')
      out = lines.pop() ?? ''
      for (const l of lines) {
        const m = /^port (\d+)$/.exec(l)
        if (m !== null) resolve(Number(m[1]))
        if (l.startsWith('put ')) puts++
      }
    })
    child.stderr?.on('data', (b: Buffer) => (err += b.toString('utf8')))
    void exited.then(() => reject(new Error(`s3rver exited before listening: ${err}`)))
  })
  const endpoint = `http://127.0.0.1:${port}`
  return {
    endpoint,
    port,
    env: { MAILTIME_S3_ENDPOINT: endpoint, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' },
    puts: () => puts,
    exited,
    spec: (prefix = '', tuning = {}) => ({
      kind: 's3',
      bucket: S3_BUCKET,
      prefix,
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      tuning: { ...DEFAULT_S3_TUNING, ...tuning },
    }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
