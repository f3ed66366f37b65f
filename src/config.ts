/**
 * Configuration: the config file's codec, the environment's codec (every `MAILTIME_*` variable the
 * program knows), and the precedence that turns flags, environment, config file and defaults into
 * one typed `Settings` value, decoded once at start-up. Only `src/cli/main.ts` reads `process.env`
 * and hands it here; everything else receives these settings (no raw environment travels further).
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
      ...(open
        ? []
        : Object.keys(value)
            .filter((k) => !props.includes(k))
            .map((k) => describeUnknown([...at, k], props))),
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

/** `file` is the config file's path, or `ENVIRONMENT` for a bad environment variable (the reason names it). */
export type ConfigError = { readonly _tag: 'ConfigError'; readonly file: string; readonly reason: string }
export const ENVIRONMENT = 'environment'

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
  /** The config file, with the environment's overrides folded in (imap.*, dav.*, feed.spool, smtp.password, api.token). */
  readonly config: ConfigFile
  /** Whether `config.api.token` came from MAILTIME_API_TOKEN (for the start-up line). */
  readonly apiTokenFromEnv: boolean
  /** Who runs operations: MAILTIME_INITIATOR, the config's smtp.initiator, or the OS user. */
  readonly operator: string
  /** MAILTIME_ESDB_PASSWORD: the password an esdb:// URL with a user gets. */
  readonly esdbPassword?: string
  /** MAILTIME_NEW_ACCOUNT_PASSWORD: the password of accounts a provisioner creates (random otherwise). */
  readonly newAccountPassword?: string
  /** MAILTIME_RESTORE_BATCH_SIZE (1-1000, default 50) and MAILTIME_RESTORE_CONNECTIONS (1-16, default 2). */
  readonly restore: { readonly batchSize: number; readonly connections: number }
  /**
   * MAILTIME_SCAN_BATCH_SIZE (default 1000); `connections`: at most how many IMAP connections
   * doSmartScan opens, MAILTIME_IMAP_CONNECTIONS, else the config's imap.connections, else 4 (1-100;
   * its `connections` attribute overrides it: src/capture/imap/source.ts).
   */
  readonly scan: { readonly batchSize: number; readonly connections: number }
  /**
   * The variables that complete an `s3://` blob location (MAILTIME_S3_ENDPOINT, MAILTIME_S3_PATH_STYLE,
   * AWS_REGION, AWS_DEFAULT_REGION and the AWS_* credentials): kept apart because `migrateBlobs` resolves
   * locations other than `blobs` with them (src/blobs/blobLocation.ts).
   */
  readonly s3Env: S3Env
  /** The test-only switches, once the test marker let them act (src/cli/testSwitches.ts). */
  readonly test: { readonly fault?: string; readonly bug?: string; readonly now?: string }
}

/** Every environment variable the program reads, as text; anything else in the environment is ignored. */
export const EnvVars = t.partial({
  MAILTIME_CONFIG: t.string,
  MAILTIME_STORE: t.string,
  MAILTIME_BLOBS: t.string,
  MAILTIME_INDEX: t.string,
  MAILTIME_TZ: t.string,
  MAILTIME_IMAP_URL: t.string,
  MAILTIME_IMAP_USER: t.string,
  MAILTIME_IMAP_PASSWORD: t.string,
  MAILTIME_IMAP_ACCOUNTS: t.string,
  MAILTIME_IMAP_CONNECTIONS: t.string,
  MAILTIME_SMTP_PASSWORD: t.string,
  MAILTIME_API_TOKEN: t.string,
  MAILTIME_INITIATOR: t.string,
  MAILTIME_ESDB_PASSWORD: t.string,
  MAILTIME_NEW_ACCOUNT_PASSWORD: t.string,
  MAILTIME_RESTORE_BATCH_SIZE: t.string,
  MAILTIME_RESTORE_CONNECTIONS: t.string,
  MAILTIME_SCAN_BATCH_SIZE: t.string,
  MAILTIME_FAULT: t.string,
  MAILTIME_TEST_BUG: t.string,
  MAILTIME_NOW: t.string,
  MAILTIME_DAV_URL: t.string,
  MAILTIME_DAV_USER: t.string,
  MAILTIME_DAV_PASSWORD: t.string,
  MAILTIME_DAV_PRINCIPAL: t.string,
  MAILTIME_FEED_SPOOL: t.string,
  MAILTIME_S3_ENDPOINT: t.string,
  MAILTIME_S3_PATH_STYLE: t.string,
  AWS_REGION: t.string,
  AWS_DEFAULT_REGION: t.string,
  AWS_ACCESS_KEY_ID: t.string,
  AWS_SECRET_ACCESS_KEY: t.string,
  AWS_SESSION_TOKEN: t.string,
})
export type EnvVars = t.TypeOf<typeof EnvVars>

const S3_ENV_KEYS = [
  'MAILTIME_S3_ENDPOINT',
  'MAILTIME_S3_PATH_STYLE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
] as const
export type S3Env = Readonly<Partial<Record<(typeof S3_ENV_KEYS)[number], string>>>
const s3EnvOf = (env: EnvVars): S3Env => Object.fromEntries(S3_ENV_KEYS.flatMap((k) => (env[k] === undefined ? [] : [[k, env[k]]])))

/** A whole number in [min, max] from an environment variable, or the error that names it. */
const wholeFrom = (name: string, raw: string | undefined, dflt: number, min: number, max: number, wording: string): E.Either<ConfigError, number> => {
  if (raw === undefined) return E.right(dflt)
  const n = Number(raw)
  return Number.isInteger(n) && n >= min && n <= max ? E.right(n) : E.left({ _tag: 'ConfigError', file: ENVIRONMENT, reason: `${name} must be ${wording}` })
}

/** The IMAP connections doSmartScan uses at most when nothing says otherwise, and the most a setting may ask for. */
export const DEFAULT_IMAP_CONNECTIONS = 4
export const MAX_IMAP_CONNECTIONS = 100

export const DEFAULT_STORE = 'sqlite:./mailtime-data/mailtime.db'
export const DEFAULT_ESDB_INDEX = 'sqlite:./mailtime-data/esdb-index.db'

/** The blob folder that goes with a store when none is given: beside the SQLite file. */
export const defaultBlobsFor = (store: string): string => {
  const file = store.startsWith('sqlite:') ? store.slice('sqlite:'.length) : store
  return store.includes('://') ? './mailtime-data/blobs' : path.join(path.dirname(file), 'blobs')
}

/** The environment overrides folded into the config file's sections: one place says what wins. */
const withEnv = (file: ConfigFile, env: EnvVars): ConfigFile => {
  const imap = {
    ...file.imap,
    ...(env.MAILTIME_IMAP_URL !== undefined && { url: env.MAILTIME_IMAP_URL }),
    ...(env.MAILTIME_IMAP_USER !== undefined && { user: env.MAILTIME_IMAP_USER }),
    ...(env.MAILTIME_IMAP_PASSWORD !== undefined && { password: env.MAILTIME_IMAP_PASSWORD }),
    ...(env.MAILTIME_IMAP_ACCOUNTS !== undefined && { accounts: env.MAILTIME_IMAP_ACCOUNTS.split(',') }),
  }
  const smtp =
    file.smtp === undefined && env.MAILTIME_SMTP_PASSWORD === undefined
      ? undefined
      : { ...file.smtp, ...(env.MAILTIME_SMTP_PASSWORD !== undefined && { password: env.MAILTIME_SMTP_PASSWORD }) }
  const api =
    file.api === undefined && env.MAILTIME_API_TOKEN === undefined ? undefined : { ...file.api, ...(env.MAILTIME_API_TOKEN !== undefined && { token: env.MAILTIME_API_TOKEN }) }
  const dav = {
    ...file.dav,
    ...(env.MAILTIME_DAV_URL !== undefined && { url: env.MAILTIME_DAV_URL }),
    ...(env.MAILTIME_DAV_USER !== undefined && { user: env.MAILTIME_DAV_USER }),
    ...(env.MAILTIME_DAV_PASSWORD !== undefined && { password: env.MAILTIME_DAV_PASSWORD }),
    ...(env.MAILTIME_DAV_PRINCIPAL !== undefined && { principal: env.MAILTIME_DAV_PRINCIPAL }),
  }
  const feed = { ...file.feed, ...(env.MAILTIME_FEED_SPOOL !== undefined && { spool: env.MAILTIME_FEED_SPOOL }) }
  return {
    ...file,
    ...(Object.keys(imap).length > 0 && { imap }),
    ...(smtp !== undefined && { smtp }),
    ...(api !== undefined && { api }),
    ...(Object.keys(dav).length > 0 && { dav }),
    ...(Object.keys(feed).length > 0 && { feed }),
  }
}

/**
 * Flag, then environment, then config file, then default. `rawEnv` is the process's environment
 * (after the test switches were gated); it is decoded here and goes no further.
 */
export const resolveSettings = (
  flags: GlobalFlags,
  rawEnv: Readonly<Record<string, string | undefined>>,
  systemZone: string,
  systemUser: () => string = () => 'unknown',
): E.Either<ConfigError, Settings> => {
  const decoded = EnvVars.decode(Object.fromEntries(Object.entries(rawEnv).filter(([k, v]) => k in EnvVars.props && v !== undefined)))
  if (E.isLeft(decoded)) return E.left({ _tag: 'ConfigError', file: ENVIRONMENT, reason: describeErrors(decoded.left) })
  const env = decoded.right
  const configPath = flags.config ?? env.MAILTIME_CONFIG
  const loaded = configPath === undefined ? E.right<ConfigError, ConfigFile>({}) : loadConfigFile(configPath)
  if (E.isLeft(loaded)) return loaded
  const config = withEnv(loaded.right, env)
  const restoreBatch = wholeFrom('MAILTIME_RESTORE_BATCH_SIZE', env.MAILTIME_RESTORE_BATCH_SIZE, 50, 1, 1000, 'a whole number from 1 to 1000')
  if (E.isLeft(restoreBatch)) return restoreBatch
  const connections = wholeFrom('MAILTIME_RESTORE_CONNECTIONS', env.MAILTIME_RESTORE_CONNECTIONS, 2, 1, 16, 'a whole number from 1 to 16')
  if (E.isLeft(connections)) return connections
  const scanBatch = wholeFrom('MAILTIME_SCAN_BATCH_SIZE', env.MAILTIME_SCAN_BATCH_SIZE, 1000, 1, Number.MAX_SAFE_INTEGER, 'a positive whole number')
  if (E.isLeft(scanBatch)) return scanBatch
  const fileConnections = loaded.right.imap?.connections
  const imapConnections =
    env.MAILTIME_IMAP_CONNECTIONS !== undefined
      ? wholeFrom('MAILTIME_IMAP_CONNECTIONS', env.MAILTIME_IMAP_CONNECTIONS, DEFAULT_IMAP_CONNECTIONS, 1, MAX_IMAP_CONNECTIONS, `a whole number from 1 to ${MAX_IMAP_CONNECTIONS}`)
      : fileConnections === undefined || (Number.isInteger(fileConnections) && fileConnections >= 1 && fileConnections <= MAX_IMAP_CONNECTIONS)
        ? E.right(fileConnections ?? DEFAULT_IMAP_CONNECTIONS)
        : E.left<ConfigError, number>({
            _tag: 'ConfigError',
            file: configPath ?? ENVIRONMENT,
            reason: `imap.connections must be a whole number from 1 to ${MAX_IMAP_CONNECTIONS}, not ${fileConnections}`,
          })
  if (E.isLeft(imapConnections)) return imapConnections
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
    apiTokenFromEnv: env.MAILTIME_API_TOKEN !== undefined,
    operator: env.MAILTIME_INITIATOR ?? config.smtp?.initiator ?? systemUser(),
    ...(env.MAILTIME_ESDB_PASSWORD !== undefined && { esdbPassword: env.MAILTIME_ESDB_PASSWORD }),
    ...(env.MAILTIME_NEW_ACCOUNT_PASSWORD !== undefined && { newAccountPassword: env.MAILTIME_NEW_ACCOUNT_PASSWORD }),
    restore: { batchSize: restoreBatch.right, connections: connections.right },
    scan: { batchSize: scanBatch.right, connections: imapConnections.right },
    s3Env: s3EnvOf(env),
    test: {
      ...(env.MAILTIME_FAULT !== undefined && { fault: env.MAILTIME_FAULT }),
      ...(env.MAILTIME_TEST_BUG !== undefined && { bug: env.MAILTIME_TEST_BUG }),
      ...(env.MAILTIME_NOW !== undefined && { now: env.MAILTIME_NOW }),
    },
  })
}

/** The blob store the settings name: the `blobs` folder, or an S3 location completed from the environment and the config's `s3`. */
export const blobSpecOf = (settings: Settings): E.Either<string, BlobSpec> => resolveBlobSpec(settings.blobs, settings.s3Env, settings.config.s3)
