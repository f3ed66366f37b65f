/**
 * What a refused IMAP login means to a restore, and when trying again can help. Pure: the target's
 * `connect` asks these, so the policy is tested without a server.
 */

/** Whether a refused login says the account is not on the server (src/imap/connection.ts, shared with capture). */
export { accountMissing } from '../../imap/connection'

/**
 * How many logins to try. Only an account this run has just created may still be unknown to the
 * server for a moment (Dovecot refused about one login in three within the same second as the passwd
 * file's new line; a directory server may take a moment to replicate), so only then is it tried
 * again, for about two seconds. Any other refusal is final at once: each refused login costs seconds
 * of the server's penalty (2, 6, 10, 17 s from Dovecot 2.3 here), and five of them took 22 s.
 */
export const loginAttempts = (justCreated: boolean): number => (justCreated ? 5 : 1)

/** The pause between two logins for a just-created account. */
export const LOGIN_RETRY_MS = 500
