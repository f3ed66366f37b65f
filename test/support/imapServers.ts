/**
 * The real IMAP servers the capture and restore behaviour suites run against, behind one face
 * (issue 23): each suite is written once and run by `describe.each(IMAP_SERVERS)` against Dovecot
 * (Maildir++, separator `.`, no OBJECTID) and Cyrus (separator `/`, OBJECTID), as the store contract
 * suites run against every store. One server per suite: starting one costs a second or less.
 *
 * Both are reached as a backup reaches them: an admin logs in on behalf of each user (SASL PLAIN
 * with an authorization identity: Dovecot's master user, Cyrus's `proxyservers` admin). Tests change
 * mailboxes through `clientAs` (a plain imapflow client), never through Mailtime's own code.
 */
import type { ImapFlow } from 'imapflow'
import { type Cyrus, cyrusAvailable, removeCyrus, startCyrus } from './cyrus'
import { type Dovecot, clientAs as dovecotClientAs, dovecotAvailable, removeDovecot, startDovecot } from './dovecot'

export interface MailServer {
  readonly kind: 'dovecot' | 'cyrus'
  readonly port: number
  readonly url: string
  readonly admin: { readonly user: string; readonly password: string }
  /** The hierarchy separator of mailbox names. */
  readonly separator: '.' | '/'
  /** Whether it offers OBJECTID (RFC 8474): EMAILID per message, MAILBOXID per folder. */
  readonly objectId: boolean
  /** A plain IMAP client logged in as the admin on behalf of `user` (connect it before use). */
  clientAs(user: string): ImapFlow
  /** Creates an account (before the test logs in as it). */
  createUser(name: string): Promise<void>
  /** The product's `provisioning` config section that creates accounts on this server. */
  provisioning(): Record<string, unknown>
  /** The server's mailbox name of a folder path, levels as an array (`['Projects', 'Alpha']`). */
  mailbox(levels: readonly string[]): string
  remove(): Promise<void>
  /** The server itself, for what only it can do. */
  readonly dovecot?: Dovecot
  readonly cyrus?: Cyrus
}

export interface ServerKind {
  readonly name: string
  available(): boolean
  start(users: readonly string[]): Promise<MailServer>
}

const dovecotServer: ServerKind = {
  name: 'Dovecot',
  available: dovecotAvailable,
  start: async (users) => {
    const d = await startDovecot(Object.fromEntries(users.map((u) => [u, `${u}pw`])))
    return {
      kind: 'dovecot',
      port: d.port,
      url: d.url,
      admin: d.admin,
      separator: '.',
      objectId: false,
      clientAs: (u) => dovecotClientAs(d, u),
      createUser: async (u) => d.addUser(u, `${u}pw`),
      provisioning: () => ({ passwdFile: d.usersFile }),
      mailbox: (levels) => levels.join('.'),
      remove: () => removeDovecot(d),
      dovecot: d,
    }
  },
}

const cyrusServer: ServerKind = {
  name: 'Cyrus',
  available: cyrusAvailable,
  start: async (users) => {
    const c = await startCyrus(users)
    return {
      kind: 'cyrus',
      port: c.port,
      url: c.url,
      admin: c.admin,
      separator: '/',
      objectId: true,
      clientAs: (u) => c.clientAs(u),
      createUser: (u) => c.createUser(u),
      provisioning: () => c.provisioning(),
      mailbox: (levels) => levels.join('/'),
      remove: () => removeCyrus(c),
      cyrus: c,
    }
  },
}

export const IMAP_SERVERS: readonly ServerKind[] = [dovecotServer, cyrusServer]

/** Runs `f` with a connected client on behalf of `user`; a refused command says which and what the server answered. */
export const asUser = async <A>(s: MailServer, user: string, f: (c: ImapFlow) => Promise<A>): Promise<A> => {
  const c = s.clientAs(user)
  await c.connect()
  try {
    return await f(c)
  } catch (e) {
    // imapflow says only "Command failed"; the command and the server's answer say what.
    const x = e as { executedCommand?: string; response?: string }
    throw new Error(`${String(e)}: ${x.executedCommand ?? ''} -> ${x.response ?? ''}`)
  } finally {
    await c.logout()
  }
}

/** UIDs of a folder's messages by subject. */
export const uidsBySubject = async (c: ImapFlow, folder: string): Promise<Record<string, number>> => {
  const lock = await c.getMailboxLock(folder)
  try {
    const uids: Record<string, number> = {}
    for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uids[m.envelope?.subject ?? ''] = m.uid
    return uids
  } finally {
    lock.release()
  }
}
