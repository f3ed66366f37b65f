/**
 * Where and how to reach the IMAP server a capture reads, from the settings: host, port, TLS, and
 * credentials that log in on behalf of each user or per-user passwords (see src/imap/connection.ts).
 * Settings come from the config file and the environment only, never from the command line.
 */
import * as E from 'fp-ts/Either'
import { MAX_IMAP_CONNECTIONS, type Settings } from '../../config'
import type { ImapServer } from '../../imap/connection'

export interface ImapSource extends ImapServer {
  /** Accounts to scan with doSmartScan; empty means the accounts already in the store. */
  readonly accounts: readonly string[]
}

export type SourceError = { readonly _tag: 'NoSource'; readonly reason: string }

export const parseImapUrl = (url: string): E.Either<SourceError, { host: string; port: number; secure: boolean }> => {
  const m = /^(imaps?):\/\/([^/:@]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?\/?$/i.exec(url.trim())
  if (m === null) return E.left({ _tag: 'NoSource', reason: `bad IMAP URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: use imap://host:port or imaps://host:port` })
  const secure = (m[1] ?? '').toLowerCase() === 'imaps'
  const port = m[3] === undefined ? (secure ? 993 : 143) : Number(m[3])
  // A port no server can listen on is a mistyped URL, not an unreachable server: say so before connecting.
  if (port < 1 || port > 65535)
    return E.left({ _tag: 'NoSource', reason: `bad IMAP URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: port ${m[3] ?? port} is not between 1 and 65535` })
  return E.right({ host: (m[2] ?? '').replace(/^\[|\]$/g, ''), port, secure })
}

/**
 * The source from the settings' `imap` section (MAILTIME_IMAP_* over the config file, folded by config.ts).
 * `url` overrides the server (a restore's `target imap://…`); the credentials stay those configured.
 */
export const imapSourceOf = (s: Settings, url0?: string): E.Either<SourceError, ImapSource> => {
  const c = s.config.imap ?? {}
  const url = url0 ?? c.url
  if (url === undefined)
    return E.left({
      _tag: 'NoSource',
      reason: 'no IMAP server configured: set MAILTIME_IMAP_URL (and MAILTIME_IMAP_USER, MAILTIME_IMAP_PASSWORD) or the "imap" section of the config file',
    })
  const where = parseImapUrl(url)
  if (E.isLeft(where)) return where
  const user = c.user
  const password = c.password
  const accounts = (c.accounts ?? []).map((a) => a.trim()).filter((a) => a.length > 0)
  const passwords = c.passwords ?? {}
  if ((user === undefined || password === undefined) && Object.keys(passwords).length === 0)
    return E.left({
      _tag: 'NoSource',
      reason: 'no IMAP credentials: set MAILTIME_IMAP_USER and MAILTIME_IMAP_PASSWORD (an admin who logs in on behalf of users), or imap.passwords in the config file',
    })
  return E.right({
    ...where.right,
    ...(user !== undefined && password !== undefined && { admin: { user, password } }),
    passwords,
    accounts,
    description: `${where.right.secure ? 'imaps' : 'imap'}://${where.right.host}:${where.right.port}${user !== undefined ? ` as ${user}` : ''}`,
  })
}

/** A number of connections as the `connections` attribute gives it. Pure. */
export const parseConnections = (raw: string, where: string): E.Either<string, number> => {
  const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN
  return Number.isInteger(n) && n >= 1 && n <= MAX_IMAP_CONNECTIONS
    ? E.right(n)
    : E.left(`${where}: ${JSON.stringify(raw)} is not a whole number of connections from 1 to ${MAX_IMAP_CONNECTIONS}`)
}

/**
 * At most how many IMAP connections site-wide capture opens (and how many accounts it captures at
 * once): the attribute (`connections N`), else the settings' (MAILTIME_IMAP_CONNECTIONS, then
 * `imap.connections` in the config file, then 4: src/config.ts).
 */
export const imapConnectionsOf = (s: Settings, attribute?: string): E.Either<string, number> =>
  attribute !== undefined ? parseConnections(attribute, 'connections') : E.right(s.scan.connections)
