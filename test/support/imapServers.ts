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
import * as fs from 'fs'
import * as path from 'path'
import type { ImapFlow, ListResponse } from 'imapflow'
import { sha256 } from '../../src/blobs/blobStore'
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
export const asUser = <A>(s: MailServer, user: string, f: (c: ImapFlow) => Promise<A>): Promise<A> => withClient(s.clientAs(user), f)

/** Runs `f` with `c` connected, then logs out; a refused command says which and what the server answered. */
export const withClient = async <A>(c: ImapFlow, f: (c: ImapFlow) => Promise<A>): Promise<A> => {
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

/**
 * A test message as a mail client would deliver it (CRLF lines), to `to`@example.com. Its bytes
 * depend only on the arguments, so that a digest read back says whether a restore kept them.
 */
export const message = (to: string, subject: string, id: string, body = 'Hello', date = 'Mon, 02 Mar 2026 10:00:00 +0000'): Buffer =>
  Buffer.from(`From: Marco <marco@example.org>\r\nTo: ${to}@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nDate: ${date}\r\n\r\n${body}\r\n`)

/** A message as a plain IMAP client reads it back: where, its subject, flags and keywords (sorted), INTERNALDATE and the bytes' digest. */
export interface Seen {
  folder: string
  subject: string
  flags: string[]
  date: number
  digest: string
}

/** A message item as `getAccountState --json` lists it (the fields the restore tests compare). */
export interface Item {
  itemId: number
  folderPath: string
  subject: string
  flags: string[]
  tags: string[]
  digest: string
  internalDate: string
  /** When the item was first recorded. */
  createdAt: string
}

const bySeenPlace = (a: Seen, b: Seen) => (a.folder + a.subject < b.folder + b.subject ? -1 : 1)

/** Whether a listed mailbox cannot be selected (a level of the hierarchy only): it holds no messages. */
const notSelectable = (box: ListResponse): boolean => [...box.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f))

/** A folder named by its levels joined with `/`, INBOX as `INBOX` (the same on every server, whatever its separator). */
export const byLevels = (box: ListResponse): string => (box.path.toUpperCase() === 'INBOX' ? 'INBOX' : box.path.split(box.delimiter).join('/'))

/** Every message of the account `c` is logged in to, read over IMAP, sorted by folder and subject; `folderName` names each folder (default: the server's mailbox name). */
export const readMessages = async (c: ImapFlow, folderName: (box: ListResponse) => string = (box) => box.path): Promise<Seen[]> => {
  const out: Seen[] = []
  for (const box of await c.list()) {
    if (notSelectable(box)) continue
    const folder = folderName(box)
    const lock = await c.getMailboxLock(box.path, { readOnly: true })
    try {
      if ((c.mailbox as { exists: number }).exists > 0)
        for await (const m of c.fetch('1:*', { flags: true, internalDate: true, envelope: true, source: true }))
          out.push({
            folder,
            subject: m.envelope?.subject ?? '',
            flags: [...(m.flags ?? [])].filter((f) => f !== '\\Recent').sort(),
            date: new Date(m.internalDate ?? 0).getTime(),
            digest: sha256(m.source ?? Buffer.alloc(0)),
          })
    } finally {
      lock.release()
    }
  }
  return out.sort(bySeenPlace)
}

/** The account as the store says it was (`\Deleted` left out, keywords and `extraTags` as flags), in the shape `readMessages` reads; `folderOf` names a backup path's folder as the reader does. */
export const expectedMessages = (items: readonly Item[], folderOf: (folderPath: string) => string, extraTags: readonly string[] = []): Seen[] =>
  items
    .map((i) => ({
      folder: folderOf(i.folderPath),
      subject: i.subject,
      flags: [...i.flags.filter((f) => f !== '\\Deleted'), ...i.tags, ...extraTags].sort(),
      date: Date.parse(i.internalDate),
      digest: i.digest,
    }))
    .sort(bySeenPlace)

/** Folder → the subjects of its messages (sorted), as the server serves the account `c` is logged in to. */
export const subjectsByFolder = async (c: ImapFlow): Promise<Record<string, string[]>> => {
  const out: Record<string, string[]> = {}
  for (const box of await c.list()) {
    const lock = await c.getMailboxLock(box.path, { readOnly: true })
    try {
      const subjects: string[] = []
      if ((c.mailbox as { exists: number }).exists > 0) for await (const m of c.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '')
      out[box.path] = subjects.sort()
    } finally {
      lock.release()
    }
  }
  return out
}

/** Writes the product's config file `name` in `dir` (JSON) and returns its path. */
export const writeConfig = (dir: string, content: unknown, name = 'mailtime.json'): string => {
  const f = path.join(dir, name)
  fs.writeFileSync(f, JSON.stringify(content))
  return f
}

/** The environment of a CLI run that reaches `server` as its admin (on behalf of each user), with the config file `config`. */
export const adminEnv = (server: { readonly url: string; readonly admin: { readonly user: string; readonly password: string } }, config: string): Record<string, string> => ({
  MAILTIME_IMAP_URL: server.url,
  MAILTIME_IMAP_USER: server.admin.user,
  MAILTIME_IMAP_PASSWORD: server.admin.password,
  MAILTIME_CONFIG: config,
})
