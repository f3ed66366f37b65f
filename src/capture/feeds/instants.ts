/**
 * The instants a change feed gives, for the scan that records the changes (issue 20, item 4): a
 * change the Dovecot spool reported is dated at the spool's instant, not at the end of the scan's
 * window. Pure.
 *
 * Guarantees:
 * 1. Only instants the feed knows are given: the spool's, to the millisecond (`exact`: the interval
 *    is that one instant) or to the second (`second`: the change happened within the 1000 ms from
 *    `at`). A NOTIFY signal is dated when it was heard, which bounds nothing the scan does not
 *    already bound, and a signal without a UID names no message: neither dates anything.
 * 2. A message is matched by folder, UID and UIDVALIDITY (a signal without UIDVALIDITY matches any):
 *    a UID reused under a new UIDVALIDITY is not dated by the old one's signal. One exception, a
 *    Dovecot quirk (services.md): the first message saved into a folder whose status nobody read
 *    yet is reported with a UIDVALIDITY that Dovecot then replaces with one less; a signal whose
 *    UIDVALIDITY is the folder's plus one matches too (seen here: the instant was lost without it).
 * 3. A scan records a message's or folder's state as it finds it, so the instant it is given is that
 *    of the last change of the kind (the last flag change makes the flags it reads); a message's
 *    arrival and expunge happen once per UID, their first signal is taken.
 * 4. The scan checks that the instant falls within its own window (after the previous scan, not
 *    after this one) and ignores it otherwise (`scanner.ts`): a feed never dates a change outside
 *    what the scan bounds.
 */
import type { ChangeKind, ChangeSignal } from './signals'

/** When a change happened: within [from, to] (from === to: exactly then). Milliseconds since 1970. */
export interface FeedInterval {
  readonly from: number
  readonly to: number
}

export interface FeedInstants {
  /** The message with this UID was added to the folder (delivered, appended, copied or moved in). */
  added(mailbox: string, uidValidity: number, uid: number): FeedInterval | undefined
  expunged(mailbox: string, uidValidity: number, uid: number): FeedInterval | undefined
  /** The last change of the message's flags or keywords. */
  flagsChanged(mailbox: string, uidValidity: number, uid: number): FeedInterval | undefined
  folderCreated(mailbox: string): FeedInterval | undefined
  /** The folder was renamed (or moved in the tree) to this name. */
  folderRenamed(mailbox: string): FeedInterval | undefined
  folderDeleted(mailbox: string): FeedInterval | undefined
}

export const noInstants: FeedInstants = {
  added: () => undefined,
  expunged: () => undefined,
  flagsChanged: () => undefined,
  folderCreated: () => undefined,
  folderRenamed: () => undefined,
  folderDeleted: () => undefined,
}

const intervalOf = (s: ChangeSignal): FeedInterval | undefined =>
  s.atPrecision === 'exact' ? { from: s.at, to: s.at } : s.atPrecision === 'second' ? { from: s.at, to: s.at + 999 } : undefined

const key = (...parts: readonly (string | number)[]): string => JSON.stringify(parts)

/** The instants of these signals (of one account), in feed order. */
export const feedInstants = (signals: readonly ChangeSignal[]): FeedInstants => {
  // Per kind and (folder, UID): the signals in feed order, with their UIDVALIDITY.
  const messages = new Map<string, { uidValidity: number | undefined; interval: FeedInterval }[]>()
  const folders = new Map<string, FeedInterval[]>()
  for (const s of signals) {
    const interval = intervalOf(s)
    if (interval === undefined) continue
    if (s.uid !== undefined) {
      const k = key(s.kind, s.mailbox, s.uid)
      const list = messages.get(k) ?? []
      list.push({ uidValidity: s.uidValidity, interval })
      messages.set(k, list)
    } else if (s.kind === 'mailboxCreated' || s.kind === 'mailboxRenamed' || s.kind === 'mailboxDeleted') {
      const k = key(s.kind, s.mailbox)
      const list = folders.get(k) ?? []
      list.push(interval)
      folders.set(k, list)
    }
  }
  const message =
    (kind: ChangeKind, last: boolean) =>
    (mailbox: string, uidValidity: number, uid: number): FeedInterval | undefined => {
      const found = (messages.get(key(kind, mailbox, uid)) ?? []).filter((x) => x.uidValidity === undefined || x.uidValidity === uidValidity || x.uidValidity === uidValidity + 1)
      return (last ? found[found.length - 1] : found[0])?.interval
    }
  // A folder's name may be created, deleted and created again: the scan sees the last of each.
  const folder = (kind: ChangeKind) => (mailbox: string) => {
    const list = folders.get(key(kind, mailbox)) ?? []
    return list[list.length - 1]
  }
  return {
    added: message('messageNew', false),
    expunged: message('messageExpunged', false),
    flagsChanged: message('flagsChanged', true),
    folderCreated: folder('mailboxCreated'),
    folderRenamed: folder('mailboxRenamed'),
    folderDeleted: folder('mailboxDeleted'),
  }
}
