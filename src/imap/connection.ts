/**
 * An IMAP connection logged in as one account: as an admin on its behalf (SASL PLAIN with an
 * authorization identity, which Dovecot master users and Zimbra/Carbonio admins accept) or with the
 * account's own password. Shared by capture (the scanner) and restore (the IMAP target).
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'

/** Where an IMAP server is, and the credentials that act for its accounts. */
export interface ImapServer {
  readonly host: string
  readonly port: number
  readonly secure: boolean
  /** The admin who acts on behalf of users. */
  readonly admin?: { readonly user: string; readonly password: string }
  /** Per-user passwords, when there is no admin. */
  readonly passwords: Readonly<Record<string, string>>
  /** A display form without secrets. */
  readonly description: string
}

export type ConnectError =
  | { readonly _tag: 'Unavailable'; readonly server: string; readonly reason: string }
  /** `code` is the server's response code (`AUTHORIZATIONFAILED`: the admin was accepted, acting for the account was not). */
  | { readonly _tag: 'AuthFailed'; readonly server: string; readonly account: string; readonly reason: string; readonly code?: string }
  | { readonly _tag: 'NoCredentials'; readonly account: string }
  /** The admin's login was accepted and acting for the account was refused (`accountMissing`): the server has no such account. */
  | { readonly _tag: 'NoSuchAccount'; readonly server: string; readonly account: string; readonly admin: string; readonly reason: string }

/**
 * Whether a refused login says the account is not on the server: the admin's own credentials were
 * accepted (a wrong password is `AUTHENTICATIONFAILED`) and only acting for the account was refused.
 * Dovecot answers `NO [AUTHORIZATIONFAILED]` for a master-user login on behalf of an unknown user.
 * A login with the account's own password cannot tell a missing account from a wrong password.
 */
export const accountMissing = (refusal: { readonly code?: string }, onBehalf: boolean): boolean => onBehalf && refusal.code === 'AUTHORIZATIONFAILED'

export const describeConnectError = (e: ConnectError): string => {
  switch (e._tag) {
    case 'Unavailable':
      return `IMAP server ${e.server} is unavailable: ${e.reason}`
    case 'AuthFailed':
      return `IMAP login for ${e.account} at ${e.server} failed: ${e.reason}`
    case 'NoCredentials':
      return `no IMAP credentials for ${e.account}: configure an admin (MAILTIME_IMAP_USER) or imap.passwords.${e.account}`
    case 'NoSuchAccount':
      return `account ${e.account} does not exist on ${e.server} (the server accepted ${e.admin}'s login but refused to act for ${e.account}: ${e.reason})`
  }
}

/** The server's URL, without the login (`imap://host:port`). */
export const serverUrl = (s: Pick<ImapServer, 'host' | 'port' | 'secure'>): string => `${s.secure ? 'imaps' : 'imap'}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`

/** The login that acts for an account: its own password first, else the admin on its behalf (`authzid`); none without either. */
export const credentialsFor = (server: ImapServer, account: string): { readonly user: string; readonly pass: string; readonly authzid?: string } | undefined => {
  const own = server.passwords[account]
  if (own !== undefined) return { user: account, pass: own }
  return server.admin === undefined ? undefined : { user: server.admin.user, pass: server.admin.password, authzid: account }
}

/** Logs in as the account: as the admin on its behalf, or with its own password. */
export const connectAs = async (server: ImapServer, account: string): Promise<E.Either<ConnectError, ImapFlow>> => {
  const login = credentialsFor(server, account)
  if (login === undefined) return E.left({ _tag: 'NoCredentials', account })
  const auth = login.authzid === undefined ? { user: login.user, pass: login.pass } : { user: login.user, pass: login.pass, authzid: login.authzid, loginMethod: 'AUTH=PLAIN' }
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const { ImapFlow: Client } = require('imapflow') as typeof import('imapflow')
  const client = new Client({
    host: server.host,
    port: server.port,
    secure: server.secure,
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
    if (
      (err.authenticationFailed === true || /auth/i.test(err.responseText ?? '')) &&
      accountMissing({ ...(err.serverResponseCode !== undefined && { code: err.serverResponseCode }) }, login.authzid !== undefined)
    )
      return E.left({ _tag: 'NoSuchAccount', server: serverUrl(server), account, admin: login.user, reason: err.responseText ?? err.message ?? 'rejected' })
    if (err.authenticationFailed === true || /auth/i.test(err.responseText ?? ''))
      return E.left({
        _tag: 'AuthFailed',
        server: server.description,
        account,
        reason: err.responseText ?? err.message ?? 'rejected',
        ...(err.serverResponseCode !== undefined && { code: err.serverResponseCode }),
      })
    return E.left({ _tag: 'Unavailable', server: server.description, reason: err.code ?? err.message ?? String(e) })
  }
}
