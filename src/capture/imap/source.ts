/**
 * Where and how to reach the IMAP server a capture reads: host, port, TLS, and credentials that log
 * in on behalf of each user (SASL PLAIN with an authorization identity, which Dovecot master users
 * and Zimbra/Carbonio admins accept) or per-user passwords. Settings come from the config file and
 * the environment only, never from the command line.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import type { Settings } from '../../config'

export interface ImapSource {
  readonly host: string
  readonly port: number
  readonly secure: boolean
  /** The admin who acts on behalf of users. */
  readonly admin?: { readonly user: string; readonly password: string }
  /** Per-user passwords, when there is no admin. */
  readonly passwords: Readonly<Record<string, string>>
  /** Accounts to scan with doSmartScan; empty means the accounts already in the store. */
  readonly accounts: readonly string[]
  /** A display form without secrets. */
  readonly description: string
}

export type SourceError = { readonly _tag: 'NoSource'; readonly reason: string }

export const parseImapUrl = (url: string): E.Either<SourceError, { host: string; port: number; secure: boolean }> => {
  const m = /^(imaps?):\/\/([^/:@]+|\[[0-9a-f:]+\])(?::(\d{1,5}))?\/?$/i.exec(url.trim())
  if (m === null) return E.left({ _tag: 'NoSource', reason: `bad IMAP URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: use imap://host:port or imaps://host:port` })
  const secure = (m[1] ?? '').toLowerCase() === 'imaps'
  const port = m[3] === undefined ? (secure ? 993 : 143) : Number(m[3])
  return E.right({ host: (m[2] ?? '').replace(/^\[|\]$/g, ''), port, secure })
}

/**
 * The source from the settings' `imap` section (MAILTIME_IMAP_* over the config file, folded by config.ts).
 * `url` overrides the server (a restore's `target imap://…`); the credentials stay those configured.
 */
export const imapSourceOf = (s: Settings, url0?: string): E.Either<SourceError, ImapSource> => {
  const c = s.config.imap ?? {}
  const url = url0 ?? c.url
  if (url === undefined) return E.left({ _tag: 'NoSource', reason: 'no IMAP server configured: set MAILTIME_IMAP_URL (and MAILTIME_IMAP_USER, MAILTIME_IMAP_PASSWORD) or the "imap" section of the config file' })
  const where = parseImapUrl(url)
  if (E.isLeft(where)) return where
  const user = c.user
  const password = c.password
  const accounts = (c.accounts ?? []).map((a) => a.trim()).filter((a) => a.length > 0)
  const passwords = c.passwords ?? {}
  if ((user === undefined || password === undefined) && Object.keys(passwords).length === 0)
    return E.left({ _tag: 'NoSource', reason: 'no IMAP credentials: set MAILTIME_IMAP_USER and MAILTIME_IMAP_PASSWORD (an admin who logs in on behalf of users), or imap.passwords in the config file' })
  return E.right({
    ...where.right,
    ...(user !== undefined && password !== undefined && { admin: { user, password } }),
    passwords,
    accounts,
    description: `${where.right.secure ? 'imaps' : 'imap'}://${where.right.host}:${where.right.port}${user !== undefined ? ` as ${user}` : ''}`,
  })
}

export type ConnectError =
  | { readonly _tag: 'Unavailable'; readonly server: string; readonly reason: string }
  /** `code` is the server's response code (`AUTHORIZATIONFAILED`: the admin was accepted, acting for the account was not). */
  | { readonly _tag: 'AuthFailed'; readonly server: string; readonly account: string; readonly reason: string; readonly code?: string }
  | { readonly _tag: 'NoCredentials'; readonly account: string }

export const describeConnectError = (e: ConnectError): string => {
  switch (e._tag) {
    case 'Unavailable':
      return `IMAP server ${e.server} is unavailable: ${e.reason}`
    case 'AuthFailed':
      return `IMAP login for ${e.account} at ${e.server} failed: ${e.reason}`
    case 'NoCredentials':
      return `no IMAP credentials for ${e.account}: configure an admin (MAILTIME_IMAP_USER) or imap.passwords.${e.account}`
  }
}

/** Logs in as the account: as the admin on its behalf, or with its own password. */
export const connectAs = async (src: ImapSource, account: string): Promise<E.Either<ConnectError, ImapFlow>> => {
  const own = src.passwords[account]
  const auth =
    own !== undefined
      ? { user: account, pass: own }
      : src.admin !== undefined
        ? { user: src.admin.user, pass: src.admin.password, authzid: account, loginMethod: 'AUTH=PLAIN' }
        : undefined
  if (auth === undefined) return E.left({ _tag: 'NoCredentials', account })
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const { ImapFlow: Client } = require('imapflow') as typeof import('imapflow')
  const client = new Client({
    host: src.host,
    port: src.port,
    secure: src.secure,
    logger: false,
    auth,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    clientInfo: { name: 'Mailtime' },
  })
  client.on('error', () => undefined)
  try {
    await client.connect()
    return E.right(client)
  } catch (e) {
    const err = e as { authenticationFailed?: boolean; code?: string; message?: string; responseText?: string; serverResponseCode?: string }
    client.close()
    if (err.authenticationFailed === true || /auth/i.test(err.responseText ?? ''))
      return E.left({ _tag: 'AuthFailed', server: src.description, account, reason: err.responseText ?? err.message ?? 'rejected', ...(err.serverResponseCode !== undefined && { code: err.serverResponseCode }) })
    return E.left({ _tag: 'Unavailable', server: src.description, reason: err.code ?? err.message ?? String(e) })
  }
}
