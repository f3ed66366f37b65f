/**
 * A hijack for the rewind's tests, done on a real Dovecot by a plain IMAP client (imapflow used
 * directly, never our code): the account as it was (folders and messages with flags and keywords),
 * then the attacker's changes (a move, a flag, a deletion, a folder renamed) and mail that arrives
 * after; and what a mailbox holds, read over IMAP, to compare before and after.
 */
import { sha256 } from '../../src/blobs/blobStore'
import { type Dovecot, clientAs } from './dovecot'
import { message } from './imapServers'

/** A fetched message as the account readers see it. */
export interface ReadMessage {
  readonly subject: string
  readonly messageId: string
  readonly flags: string
  readonly internalDate: string
  readonly source: Buffer
}

/**
 * What a mailbox holds, read over IMAP by a session of its own (a session with a folder open from
 * before other sessions' changes keeps a stale view of it): `folder/` per selectable folder, and one
 * line per message as `line` writes it, sorted; so a message lost or written twice is a line missing
 * or repeated.
 */
export const readAccountWith = async (d: Dovecot, user: string, line: (folder: string, m: ReadMessage) => string): Promise<string[]> => {
  const c = clientAs(d, user)
  await c.connect()
  const out: string[] = []
  try {
    for (const box of await c.list()) {
      if ([...box.flags].some((f) => /noselect|nonexistent/i.test(f))) continue
      out.push(`${box.path}/`)
      const lock = await c.getMailboxLock(box.path, { readOnly: true })
      try {
        if ((c.mailbox as { exists: number }).exists > 0)
          for await (const m of c.fetch('1:*', { flags: true, internalDate: true, envelope: true, source: true }))
            out.push(
              line(box.path, {
                subject: m.envelope?.subject ?? '',
                messageId: m.envelope?.messageId ?? '(no Message-ID)',
                flags: [...(m.flags ?? [])]
                  .filter((f) => f !== '\\Recent')
                  .sort()
                  .join(' '),
                internalDate: new Date(m.internalDate ?? 0).toISOString(),
                source: m.source ?? Buffer.alloc(0),
              }),
            )
      } finally {
        lock.release()
      }
    }
  } finally {
    await c.logout().catch(() => undefined)
  }
  return out.sort()
}

/** What a mailbox holds, read over IMAP: `folder/` and `folder: subject [flags] date digest`, sorted. */
export const readAccount = (d: Dovecot, user: string): Promise<string[]> =>
  readAccountWith(d, user, (folder, m) => `${folder}: ${m.subject} [${m.flags}] ${m.internalDate} ${sha256(m.source).slice(0, 12)}`)

/** The account before the hijack: two folders besides INBOX, four messages with flags and a keyword. */
export const fillAccount = async (d: Dovecot, user: string): Promise<void> => {
  const c = clientAs(d, user)
  await c.connect()
  for (const f of ['Projects', 'Trash']) await c.mailboxCreate(f)
  await c.append('INBOX', message(user, 'Budget', `${user}1`), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
  await c.append('INBOX', message(user, 'Travel', `${user}2`), [], new Date('2026-03-02T11:00:00Z'))
  await c.append('INBOX', message(user, 'Lunch', `${user}3`), ['$Work'], new Date('2026-03-02T12:00:00Z'))
  await c.append('Projects', message(user, 'Spec', `${user}4`), ['\\Flagged'], new Date('2026-03-01T09:00:00Z'))
  await c.logout()
}

/** The hijack: Travel moved to Trash, Budget flagged, Lunch deleted, Projects renamed Stolen; then Invoice arrives. */
export const hijack = async (d: Dovecot, user: string): Promise<void> => {
  const c = clientAs(d, user)
  await c.connect()
  const lock = await c.getMailboxLock('INBOX')
  const uid: Record<string, number> = {}
  for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uid[m.envelope?.subject ?? ''] = m.uid
  await c.messageMove(String(uid.Travel), 'Trash', { uid: true })
  await c.messageFlagsSet(String(uid.Budget), ['\\Seen', '\\Flagged'], { uid: true })
  await c.messageDelete(String(uid.Lunch), { uid: true })
  lock.release()
  await c.mailboxRename('Projects', 'Stolen')
  await c.append('INBOX', message(user, 'Invoice', `${user}6`), [], new Date())
  await c.logout()
}

/** The plan's counts for that hijack (the keep-aside folder and the Invoice moved into it). */
export const HIJACK_COUNTS = { 'rename back': 1, 'move back': 1, 'come back': 1, 're-flag': 1, 'keep aside': 2 }

/** The account as it was, plus the mail that arrived since in the keep-aside folder `keep`. */
export const expectedAfter = (before: readonly string[], hijacked: readonly string[], keep: string): string[] => {
  const kept = hijacked.filter((l) => l.startsWith('INBOX: Invoice')).map((l) => l.replace(/^INBOX:/, `${keep}:`))
  return [...before, `${keep}/`, ...kept].sort()
}

/** The keep-aside folder a rewind run today makes by default (`rewind_DD_MM_YY`, in UTC). */
export const keepFolderToday = (): string => {
  const n = new Date()
  return `rewind_${String(n.getUTCDate()).padStart(2, '0')}_${String(n.getUTCMonth() + 1).padStart(2, '0')}_${String(n.getUTCFullYear() % 100).padStart(2, '0')}`
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))
