/**
 * Configuration: the config file's codec and the precedence that turns flags, `MAILTIME_*`
 * environment variables, the config file and defaults into settings. Nothing below the CLI reads
 * `process.env`; it receives these settings.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { describeErrors } from '../domain/decode'
import { type BlobSpec, resolveBlobSpec } from './blobs/blobLocation'
import { DavConfig } from './dav/source'

const ImapConfig = t.exact(
  t.partial({
    url: t.string,
    user: t.string,
    password: t.string,
    accounts: t.array(t.string),
    /** Per-user passwords, for servers without an admin who can log in on behalf of users. */
    passwords: t.record(t.string, t.string),
    /** At most this many IMAP connections for doSmartScan (or MAILTIME_IMAP_CONNECTIONS; src/capture/imap/source.ts). */
    connections: t.number,
  }),
)
const SmtpConfig = t.exact(
  t.partial({ host: t.string, port: t.number, secure: t.boolean, user: t.string, password: t.string, from: t.string, admin: t.string, initiator: t.string }),
)
/** How restores create a new destination account: a Dovecot passwd file, or a command template. */
const ProvisioningConfig = t.exact(t.partial({ passwdFile: t.string, command: t.string, checkCommand: t.string }))
const RetentionConfig = t.exact(t.partial({ dataDays: t.number, accountDays: t.number }))
/**
 * S3 object storage for `blobs: "s3://bucket/prefix"`: the server (MinIO, Ceph RGW, Garage; absent
 * for AWS) and credentials, which the AWS_* variables override (src/blobs/blobLocation.ts).
 */
const S3ConfigCodec = t.exact(
  t.partial({ endpoint: t.string, region: t.string, forcePathStyle: t.boolean, accessKeyId: t.string, secretAccessKey: t.string, sessionToken: t.string }),
)
/** Change feeds for `doSmartScan watch true`: the Dovecot spool directory (contrib/dovecot/), or MAILTIME_FEED_SPOOL. */
const FeedConfig = t.exact(t.partial({ spool: t.string }))
/** The web console's API token (or MAILTIME_API_TOKEN). */
const ApiConfig = t.exact(t.partial({ token: t.string }))

export const ConfigFile = t.exact(
  t.partial({
    store: t.string,
    blobs: t.string,
    index: t.string,
    timezone: t.string,
    imap: ImapConfig,
    /** CardDAV/CalDAV capture (address books, calendars, tasks): url, user, password, principal, passwords. */
    dav: DavConfig,
    smtp: SmtpConfig,
    retention: RetentionConfig,
    provisioning: ProvisioningConfig,
    api: ApiConfig,
    s3: S3ConfigCodec,
    feed: FeedConfig,
  }),
)
export type ConfigFile = t.TypeOf<typeof ConfigFile>

/**
 * Every key of `value` that `codec` does not know, at any depth, as `unknown key "imap.usr" (known:
 * url, user, …)`. io-ts's `exact` drops such keys silently, and a misspelt nested key
 * (`provisioning.passwdfile`) would otherwise surface later as a misleading error.
 */
export const unknownKeys = (codec: t.Mixed, value: unknown, at: readonly string[] = []): string[] => {
  if (codec instanceof t.ExactType) return unknownKeys(codec.type as t.Mixed, value, at)
  if (codec instanceof t.IntersectionType) {
    // A key is unknown when no member knows it (a member without a key list, such as a union, lets
    // any key through); nested keys are checked by the member that knows them.
    const members = codec.types as t.Mixed[]
    const open = members.some((c) => propsOf(c) === undefined)
    const props = members.flatMap((c) => Object.keys(propsOf(c) ?? {}))
    if (!isObject(value)) return []
    return [
      ...(open ? [] : Object.keys(value).filter((k) => !props.includes(k)).map((k) => describeUnknown([...at, k], props))),
      ...members.flatMap((c) => {
        const own = propsOf(c)
        return own === undefined ? [] : unknownKeys(c, Object.fromEntries(Object.entries(value).filter(([k]) => k in own)), at)
      }),
    ]
  }
  const props = propsOf(codec)
  if (props !== undefined) {
    if (!isObject(value)) return []
    const known = Object.keys(props)
    return Object.entries(value).flatMap(([k, v]) => {
      const sub = props[k]
      return sub === undefined ? [describeUnknown([...at, k], known)] : unknownKeys(sub, v, [...at, k])
    })
  }
  if (codec instanceof t.DictionaryType && isObject(value)) return Object.entries(value).flatMap(([k, v]) => unknownKeys(codec.codomain as t.Mixed, v, [...at, k]))
  if (codec instanceof t.ArrayType && Array.isArray(value)) return value.flatMap((v, i) => unknownKeys(codec.type as t.Mixed, v, [...at, String(i)]))
  return []
}

const propsOf = (codec: t.Mixed): Record<string, t.Mixed> | undefined =>
  codec instanceof t.ExactType
    ? propsOf(codec.type as t.Mixed)
    : codec instanceof t.PartialType || codec instanceof t.InterfaceType
      ? (codec.props as Record<string, t.Mixed>)
      : undefined

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const describeUnknown = (path: readonly string[], known: readonly string[]): string => `unknown key ${JSON.stringify(path.join('.'))} (known: ${known.join(', ')})`

export type ConfigError = { readonly _tag: 'ConfigError'; readonly file: string; readonly reason: string }

export const loadConfigFile = (file: string): E.Either<ConfigError, ConfigFile> => {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    return E.left({ _tag: 'ConfigError', file, reason: (e as Error).message })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left({ _tag: 'ConfigError', file, reason: `not valid JSON (${(e as Error).message})` })
  }
  const unknown = unknownKeys(ConfigFile, json)
  if (unknown.length > 0) return E.left({ _tag: 'ConfigError', file, reason: unknown.join('; ') })
  const r = ConfigFile.decode(json)
  return E.isLeft(r) ? E.left({ _tag: 'ConfigError', file, reason: describeErrors(r.left) }) : E.right(r.right)
}

export interface GlobalFlags {
  readonly store?: string
  readonly blobs?: string
  readonly index?: string
  readonly tz?: string
  readonly config?: string
  readonly json?: boolean
  readonly quiet?: boolean
  readonly debug?: boolean
}

export interface Settings {
  readonly store: string
  readonly blobs: string
  /** Where an EventStoreDB store's copy, temporal index and operations streams live (SQLite or PostgreSQL). */
  readonly index: string
  readonly zone: string
  readonly json: boolean
  readonly quiet: boolean
  readonly debug: boolean
  readonly config: ConfigFile
  readonly env: Readonly<Record<string, string | undefined>>
}

export const DEFAULT_STORE = 'sqlite:./mailtime-data/mailtime.db'
export const DEFAULT_ESDB_INDEX = 'sqlite:./mailtime-data/esdb-index.db'

/** The blob folder that goes with a store when none is given: beside the SQLite file. */
export const defaultBlobsFor = (store: string): string => {
  const file = store.startsWith('sqlite:') ? store.slice('sqlite:'.length) : store
  return store.includes('://') ? './mailtime-data/blobs' : path.join(path.dirname(file), 'blobs')
}

/** Flag, then environment, then config file, then default. */
export const resolveSettings = (
  flags: GlobalFlags,
  env: Readonly<Record<string, string | undefined>>,
  systemZone: string,
): E.Either<ConfigError, Settings> => {
  const configPath = flags.config ?? env.MAILTIME_CONFIG
  const loaded = configPath === undefined ? E.right<ConfigError, ConfigFile>({}) : loadConfigFile(configPath)
  if (E.isLeft(loaded)) return loaded
  const config = loaded.right
  const store = flags.store ?? env.MAILTIME_STORE ?? config.store ?? DEFAULT_STORE
  return E.right({
    store,
    blobs: flags.blobs ?? env.MAILTIME_BLOBS ?? config.blobs ?? defaultBlobsFor(store),
    index: flags.index ?? env.MAILTIME_INDEX ?? config.index ?? DEFAULT_ESDB_INDEX,
    zone: flags.tz ?? env.MAILTIME_TZ ?? config.timezone ?? systemZone,
    json: flags.json ?? false,
    quiet: flags.quiet ?? false,
    debug: flags.debug ?? false,
    config,
    env,
  })
}

/** The blob store the settings name: the `blobs` folder, or an S3 location completed from the environment and the config's `s3`. */
export const blobSpecOf = (settings: Settings): E.Either<string, BlobSpec> => resolveBlobSpec(settings.blobs, settings.env, settings.config.s3)
