/**
 * The IMAP target's server: how it logs in for an account, through the connection capture uses
 * (src/imap/connection.ts), with the restore's login policy (login.ts): a just-created account is
 * tried again for a moment, and a refusal to act for an account says the account is missing.
 */
import * as E from 'fp-ts/Either'
import { type ImapServer, connectAs, credentialsFor, describeConnectError } from '../../imap/connection'
import type { ImapTargetServer } from './imapTarget'
import { LOGIN_RETRY_MS, loginAttempts } from './login'

/** `justCreated` tells whether this run has just created the account (a refused login is then tried again). */
export const imapTargetServer = (s: ImapServer, justCreated?: (account: string) => boolean): ImapTargetServer => {
  return {
    host: s.host,
    port: s.port,
    secure: s.secure,
    description: s.description,
    loginFor: (account) => credentialsFor(s, account),
    connect: async (account) => {
      // Only an account this run has just created is tried again (login.ts says why).
      const attempts = loginAttempts(justCreated?.(account) ?? false)
      for (let attempt = 1; ; attempt++) {
        const c = await connectAs(s, account)
        if (E.isRight(c)) return E.right(c.right)
        if ((c.left._tag === 'AuthFailed' || c.left._tag === 'NoSuchAccount') && attempt < attempts) {
          await new Promise((resolve) => setTimeout(resolve, LOGIN_RETRY_MS))
          continue
        }
        if (c.left._tag === 'NoSuchAccount') return E.left({ _tag: 'NoSuchAccount', reason: describeConnectError(c.left) })
        return E.left({ _tag: 'Failure', reason: describeConnectError(c.left) })
      }
    },
  }
}
