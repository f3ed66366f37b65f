/**
 * Where blobs live: a folder (the default) or an S3 bucket and key prefix (`s3://bucket/prefix`),
 * and everything an S3 client needs besides, resolved from the environment and the config file.
 * Pure: the CLI passes its settings in; nothing here reads `process.env`.
 *
 * Credentials never come from the location itself (a `s3://key:secret@bucket` is refused, since a
 * location is typed on command lines, which other users of the machine can read): they come from
 * `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN`), else the config file's
 * `s3` section, else the AWS SDK's own chain (`AWS_PROFILE`, `~/.aws`, instance roles).
 */
import * as E from 'fp-ts/Either'

// model

export interface S3Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** How hard the S3 store works: sizes and counts, fixed in use, smaller in the tests. */
export interface S3Tuning {
  /** Bodies (as stored) of at least this many bytes go up in parts. S3 wants parts of 5 MiB at least. */
  readonly multipartThreshold: number
  readonly partSize: number
  /** Requests in flight at once (blobs of a batch, parts of an upload). */
  readonly concurrency: number
  /** Tries of one request (the SDK's standard retry: exponential backoff on 5xx, throttling, dropped connections). */
  readonly maxAttempts: number
  /** Keys per listing page (S3's maximum is 1000). */
  readonly listPageSize: number
  /** A stored blob found by a new capture is re-dated (copied onto itself) when older than this, so a purge's grace period protects it. */
  readonly refreshAfterMs: number
}

export interface S3Spec {
  readonly kind: 's3'
  readonly bucket: string
  /** Key prefix without leading or trailing slash; empty for the bucket's root. */
  readonly prefix: string
  /** `http(s)://host:port` of an S3-compatible server; absent for AWS itself. */
  readonly endpoint?: string
  readonly region: string
  readonly forcePathStyle: boolean
  /** Absent: the AWS SDK's default credential chain. */
  readonly credentials?: S3Credentials
  readonly tuning: S3Tuning
}

export interface FsSpec {
  readonly kind: 'fs'
  readonly root: string
}

export type BlobSpec = FsSpec | S3Spec

/** The `s3` section of the config file (decoded by `config.ts`). */
export interface S3Config {
  readonly endpoint?: string
  readonly region?: string
  readonly forcePathStyle?: boolean
  readonly accessKeyId?: string
  readonly secretAccessKey?: string
  readonly sessionToken?: string
}

export const DEFAULT_S3_TUNING: S3Tuning = {
  multipartThreshold: 16 * 1024 * 1024,
  partSize: 8 * 1024 * 1024,
  concurrency: 8,
  maxAttempts: 5,
  listPageSize: 1000,
  refreshAfterMs: 10 * 60 * 1000,
}

// operations

export const isS3Location = (raw: string): boolean => /^s3:\/\//i.test(raw)

/** S3's bucket naming rules (the DNS-compatible ones every S3-compatible server accepts). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/** The bucket and prefix of `s3://bucket/prefix`, or why it is not one. */
export const parseS3Location = (raw: string): E.Either<string, { bucket: string; prefix: string }> => {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/i.exec(raw)
  if (m === null) return E.left(`${JSON.stringify(raw)} is not an S3 location (s3://bucket or s3://bucket/prefix, without ? or #)`)
  const bucket = m[1] ?? ''
  if (bucket.includes('@') || bucket.includes(':'))
    return E.left(
      "credentials or a port do not go in the S3 location: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or the config file's s3 section), and MAILTIME_S3_ENDPOINT for the server",
    )
  if (!BUCKET.test(bucket) || bucket.includes('..')) return E.left(`${JSON.stringify(bucket)} is not a valid bucket name (3 to 63 lowercase letters, digits, dots and hyphens)`)
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '')
  if (prefix !== '' && prefix.split('/').some((s) => s === '' || s === '.' || s === '..'))
    return E.left(`the key prefix ${JSON.stringify(prefix)} has an empty, "." or ".." segment`)
  return E.right({ bucket, prefix })
}

const truthy = (name: string, v: string): E.Either<string, boolean> => {
  if (/^(1|true|yes)$/i.test(v)) return E.right(true)
  if (/^(0|false|no)$/i.test(v)) return E.right(false)
  return E.left(`${name} must be true or false, got ${JSON.stringify(v)}`)
}

/**
 * The blob store a `--blobs` value names: a folder, or an S3 location completed from the environment
 * (`MAILTIME_S3_ENDPOINT`, `MAILTIME_S3_PATH_STYLE`, `AWS_REGION`, `AWS_*` credentials) and the
 * config file's `s3` section, in that order. Path-style addressing (`http://host/bucket/key`) is the
 * default with an endpoint (MinIO, Ceph RGW and Garage are usually reached so), virtual-hosted
 * (`http://bucket.host/key`) without one (AWS).
 */
export const resolveBlobSpec = (
  raw: string,
  env: Readonly<Record<string, string | undefined>>,
  config: S3Config = {},
  tuning: S3Tuning = DEFAULT_S3_TUNING,
): E.Either<string, BlobSpec> => {
  if (!isS3Location(raw)) return raw.includes('://') ? E.left(`--blobs ${JSON.stringify(raw)}: a blob store is a folder or s3://bucket/prefix`) : E.right({ kind: 'fs', root: raw })
  const loc = parseS3Location(raw)
  if (E.isLeft(loc)) return E.left(`--blobs: ${loc.left}`)
  const endpoint = env.MAILTIME_S3_ENDPOINT ?? config.endpoint
  if (endpoint !== undefined) {
    let u: URL
    try {
      u = new URL(endpoint)
    } catch {
      return E.left(`MAILTIME_S3_ENDPOINT ${JSON.stringify(endpoint)} is not a URL (http://host:port or https://host)`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return E.left(`MAILTIME_S3_ENDPOINT must be http:// or https://, got ${u.protocol}`)
    if (u.username !== '' || u.password !== '') return E.left('MAILTIME_S3_ENDPOINT must not carry credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY')
  }
  let forcePathStyle = config.forcePathStyle ?? endpoint !== undefined
  if (env.MAILTIME_S3_PATH_STYLE !== undefined) {
    const p = truthy('MAILTIME_S3_PATH_STYLE', env.MAILTIME_S3_PATH_STYLE)
    if (E.isLeft(p)) return p
    forcePathStyle = p.right
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config.region ?? 'us-east-1'
  const fromEnv = env.AWS_ACCESS_KEY_ID !== undefined || env.AWS_SECRET_ACCESS_KEY !== undefined
  const id = fromEnv ? env.AWS_ACCESS_KEY_ID : config.accessKeyId
  const secret = fromEnv ? env.AWS_SECRET_ACCESS_KEY : config.secretAccessKey
  const token = fromEnv ? env.AWS_SESSION_TOKEN : config.sessionToken
  if ((id === undefined) !== (secret === undefined))
    return E.left(
      `${fromEnv ? 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' : "the config file's s3.accessKeyId and s3.secretAccessKey"} go together: one is set without the other`,
    )
  return E.right({
    kind: 's3',
    ...loc.right,
    ...(endpoint !== undefined && { endpoint: endpoint.replace(/\/+$/, '') }),
    region,
    forcePathStyle,
    ...(id !== undefined && secret !== undefined && { credentials: { accessKeyId: id, secretAccessKey: secret, ...(token !== undefined && { sessionToken: token }) } }),
    tuning,
  })
}

/** How a blob store is named to people: its folder, or `s3://bucket/prefix` (never credentials). */
export const describeBlobSpec = (s: BlobSpec): string => (s.kind === 'fs' ? s.root : `s3://${s.bucket}${s.prefix === '' ? '' : `/${s.prefix}`}`)

/** The key of a blob under a prefix: `<prefix>/<first two hex digits>/<sha256 hex>`, the folder layout's. */
export const blobKey = (prefix: string, digest: string): string => `${prefix === '' ? '' : `${prefix}/`}${digest.slice(0, 2)}/${digest}`

/** The digest a key names, or undefined for a key that is not a blob of this layout. */
export const digestOfKey = (prefix: string, key: string): string | undefined => {
  const head = prefix === '' ? '' : `${prefix}/`
  if (!key.startsWith(head)) return undefined
  const m = /^([0-9a-f]{2})\/([0-9a-f]{64})$/.exec(key.slice(head.length))
  return m !== null && m[2]?.startsWith(m[1] ?? '') === true ? m[2] : undefined
}
