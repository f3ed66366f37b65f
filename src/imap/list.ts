/**
 * LIST with STATUS: every folder the server lists, with what tells whether it changed since it was
 * last read (UIDVALIDITY, UIDNEXT, message count, HIGHESTMODSEQ), parents before children; levels of
 * the hierarchy that are not mailboxes included. IMAP failures are thrown (see failure.ts).
 */
import { mailboxIdOf, mailboxIdsByName } from './objectId'
import type { ImapFlow, ListResponse } from 'imapflow'
import { doesNotExist } from './failure'
import { openReadOnly } from './mailbox'

/** A folder as the server lists it. */
export interface ServerFolder {
  readonly path: string
  readonly name: string
  readonly parentPath: string
  readonly delimiter: string
  readonly specialUse: string | undefined
  /** False for a level of the hierarchy that is not a mailbox (`\Noselect`, `\NonExistent`). */
  readonly selectable: boolean
  /** 0 when the server gave no STATUS (a level that is not a mailbox, or a folder it cannot open). */
  readonly uidValidity: number
  readonly uidNext: number
  readonly messages: number
  readonly highestModseq: string | undefined
  /** Its MAILBOXID (OBJECTID, RFC 8474), when the server offers one. */
  readonly mailboxId?: string
}

/** The names our system folders have (and a restore writes them under). */
const SYSTEM_NAMES: Readonly<Record<string, string>> = { '\\Sent': 'sent', '\\Drafts': 'drafts', '\\Trash': 'trash', '\\Junk': 'junk' }

/**
 * A folder's special use, as far as it is safe to map it to a system folder. imapflow also guesses
 * one from localized names ("Entwürfe" for Drafts); such a folder would come back from a restore
 * as "Drafts", so a guess counts only when the name is already the system folder's.
 */
const specialUseOf = (l: ListResponse): string | undefined =>
  l.specialUse === undefined || l.specialUseSource !== 'name' || SYSTEM_NAMES[l.specialUse] === l.name.toLowerCase() ? l.specialUse : undefined

const NOT_SELECTABLE = /^\\(noselect|nonexistent)$/i

/** Every folder the server lists, with its STATUS, parents before children; levels that are not mailboxes included. */
export const listWithStatus = async (client: ImapFlow): Promise<ServerFolder[]> => {
  const list: ListResponse[] = await client.list({ statusQuery: { uidValidity: true, uidNext: true, messages: true, highestModseq: true } })
  const ids = await mailboxIdsByName(client)
  return list
    .map(
      (l): ServerFolder => ({
        path: l.path,
        name: l.name,
        parentPath: l.parentPath,
        delimiter: l.delimiter,
        specialUse: specialUseOf(l),
        selectable: ![...l.flags].some((f) => NOT_SELECTABLE.test(f)),
        uidValidity: Number(l.status?.uidValidity ?? 0),
        uidNext: l.status?.uidNext ?? 0,
        messages: l.status?.messages ?? 0,
        highestModseq: l.status?.highestModseq === undefined ? undefined : String(l.status.highestModseq),
        ...(mailboxIdOf(ids, l.path) !== undefined && { mailboxId: mailboxIdOf(ids, l.path) as string }),
      }),
    )
    .sort((a, b) => a.path.split(a.delimiter).length - b.path.split(b.delimiter).length || (a.path < b.path ? -1 : 1))
}

/**
 * Levels of the hierarchy that the server lists as if they were mailboxes. Dovecot's Maildir++ keeps
 * listing a mailbox deleted while it had children, without `\Noselect` and without STATUS, and
 * answers that it does not exist when it is opened. Only folders the listing gave no STATUS for are
 * asked; a folder that cannot be opened for another reason stays a mailbox (reading it says why).
 */
export const withLevelsFound = async (client: ImapFlow, server: readonly ServerFolder[]): Promise<ServerFolder[]> => {
  const out: ServerFolder[] = []
  for (const f of server) {
    if (!f.selectable || f.uidValidity !== 0) {
      out.push(f)
      continue
    }
    let level = false
    try {
      const lock = await openReadOnly(client, f.path)
      lock.release()
    } catch (e) {
      level = doesNotExist(e)
    }
    out.push(level ? { ...f, selectable: false } : f)
  }
  return out
}
