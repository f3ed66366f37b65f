/**
 * Change signals: what a change feed (the Dovecot spool, IMAP NOTIFY) tells capture, namely which
 * account and folder changed, how, and when, and their coalescing into one trigger per account and
 * folder (a targeted capture of that folder). Pure.
 *
 * A signal is a hint, never the truth: the targeted capture it triggers reads the folder itself.
 * Extra signals cost a capture that finds nothing; a missing one would cost a change missed until
 * the next polling round. So the mapping keeps every signal it can name, even of a transaction
 * Dovecot rolled back.
 */
import type { FeedEvent, FeedEventName, SpoolRecord } from './spoolLine'

// Model ------------------------------------------------------------------------------------------

export type ChangeKind =
  | 'messageNew'
  | 'messageExpunged'
  | 'flagsChanged'
  | 'mailboxCreated'
  | 'mailboxDeleted'
  | 'mailboxRenamed'
  | 'subscriptionChanged'
  /** Something changed in the folder, the feed cannot say what (NOTIFY's STATUS without an earlier one to compare with). */
  | 'mailboxChanged'

/** Kinds that change the account's folder list: the capture must list the folders again. */
export const FOLDER_LIST_KINDS: ReadonlySet<ChangeKind> = new Set<ChangeKind>(['mailboxCreated', 'mailboxDeleted', 'mailboxRenamed', 'subscriptionChanged'])

/**
 * How `at` was known:
 * - `exact`: the feed's instant, to the millisecond (the spool with LuaSocket);
 * - `second`: the start of the second it happened in, so it happened within [at, at + 999] (the
 *   spool without LuaSocket);
 * - `received`: when the watcher heard of it (NOTIFY): it happened at or before `at`.
 */
export type AtPrecision = 'exact' | 'second' | 'received'

export interface ChangeSignal {
  readonly source: 'dovecot-spool' | 'imap-notify'
  /** The login name whose mailbox changed (Dovecot's user name). */
  readonly account: string
  /** The folder, in UTF-8, with the server's hierarchy separator; for a rename, the new name. */
  readonly mailbox: string
  readonly kind: ChangeKind
  readonly uid?: number
  readonly uidValidity?: number
  /** mailboxRenamed: the former name. */
  readonly oldMailbox?: string
  /** Milliseconds since 1970 (see `atPrecision`). */
  readonly at: number
  readonly atPrecision: AtPrecision
}

/** Every signal about one folder of one account, for one targeted capture. */
export interface FolderTrigger {
  readonly account: string
  readonly mailbox: string
  /** The distinct kinds, in the order of `ChangeKind`. */
  readonly kinds: readonly ChangeKind[]
  /** Whether the account's folder list must be read again (a folder created, deleted, renamed, (un)subscribed). */
  readonly relist: boolean
  /** The signals in feed order: their instants date what the capture records. */
  readonly signals: readonly ChangeSignal[]
  readonly first: number
  readonly last: number
}

export interface SpoolSignalOptions {
  /** Folders whose changes are not signalled, e.g. lazy_expunge's `EXPUNGED`. */
  readonly ignoreMailboxes?: readonly string[]
}

// Operations -------------------------------------------------------------------------------------

const KIND_OF: Record<FeedEventName, ChangeKind> = {
  MessageNew: 'messageNew',
  MessageAppend: 'messageNew',
  MessageExpunge: 'messageExpunged',
  // \Deleted set, \Seen set, flags or keywords set or cleared.
  MessageTrash: 'flagsChanged',
  MessageRead: 'flagsChanged',
  FlagsSet: 'flagsChanged',
  FlagsClear: 'flagsChanged',
  MailboxCreate: 'mailboxCreated',
  MailboxDelete: 'mailboxDeleted',
  MailboxRename: 'mailboxRenamed',
  MailboxSubscribe: 'subscriptionChanged',
  MailboxUnsubscribe: 'subscriptionChanged',
}

const KIND_ORDER: readonly ChangeKind[] = [
  'messageNew',
  'messageExpunged',
  'flagsChanged',
  'mailboxCreated',
  'mailboxDeleted',
  'mailboxRenamed',
  'subscriptionChanged',
  'mailboxChanged',
]

const signalOfEvent = (record: SpoolRecord, e: FeedEvent): ChangeSignal => ({
  source: 'dovecot-spool',
  account: record.user,
  mailbox: e.mailbox,
  kind: KIND_OF[e.name],
  ...(e.uid !== undefined && { uid: e.uid }),
  ...(e.uidValidity !== undefined && { uidValidity: e.uidValidity }),
  ...(e.oldMailbox !== undefined && { oldMailbox: e.oldMailbox }),
  at: e.at,
  atPrecision: record.resolutionMs === 1 ? 'exact' : 'second',
})

const changeKey = (s: ChangeSignal): string => JSON.stringify([s.kind, s.mailbox, s.uid ?? null, s.uidValidity ?? null, s.oldMailbox ?? null])

/**
 * The signals of one spool record, one per change: a flag change that Dovecot reports as
 * FlagsClear + FlagsSet + MessageRead of one message is one `flagsChanged` (the earliest instant).
 */
export const signalsOfRecord = (record: SpoolRecord, options: SpoolSignalOptions = {}): ChangeSignal[] => {
  const ignore = new Set(options.ignoreMailboxes ?? [])
  const seen = new Set<string>()
  const out: ChangeSignal[] = []
  for (const e of record.events) {
    if (ignore.has(e.mailbox)) continue
    const s = signalOfEvent(record, e)
    const key = changeKey(s)
    if (seen.has(key)) continue
    seen.add(key)
    out.push(s)
  }
  return out
}

/** One trigger per account and folder, in the order each was first signalled. */
export const coalesce = (signals: readonly ChangeSignal[]): FolderTrigger[] => {
  const byKey = new Map<string, ChangeSignal[]>()
  for (const s of signals) {
    const key = JSON.stringify([s.account, s.mailbox])
    const list = byKey.get(key)
    if (list === undefined) byKey.set(key, [s])
    else list.push(s)
  }
  return [...byKey.values()].map((list) => {
    const head = list[0] as ChangeSignal
    const kinds = new Set(list.map((s) => s.kind))
    return {
      account: head.account,
      mailbox: head.mailbox,
      kinds: KIND_ORDER.filter((k) => kinds.has(k)),
      relist: [...kinds].some((k) => FOLDER_LIST_KINDS.has(k)),
      signals: list,
      first: list.reduce((m, s) => Math.min(m, s.at), head.at),
      last: list.reduce((m, s) => Math.max(m, s.at), head.at),
    }
  })
}
