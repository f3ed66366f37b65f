/**
 * One line of a Dovecot change-feed spool file: the JSON that `contrib/dovecot/mailtime-feed.lua`
 * appends for each mail transaction, its io-ts codec, and its decoder. Pure.
 *
 *   {"v":1,"user":"alice","svc":"imap","ok":true,"res":1,
 *    "events":[{"e":"MessageAppend","box":"INBOX","t":1796657405472,"uid":1,"uv":1796657406}]}
 *
 * Guarantees:
 * 1. A line is decoded whole or reported as a `SpoolProblem` naming its file and line; the decoder
 *    never throws.
 * 2. An event of a name this version does not know (a newer script) is left out of the record and
 *    listed in `ignored`; the line's other events are kept.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { describeErrors } from '../../../domain/decode'

// Model ------------------------------------------------------------------------------------------

/** The events Dovecot's push_notification plugin reports (its Lua driver's names). */
export const FeedEventName = t.keyof({
  MessageNew: null,
  MessageAppend: null,
  MessageExpunge: null,
  MessageTrash: null,
  MessageRead: null,
  FlagsSet: null,
  FlagsClear: null,
  MailboxCreate: null,
  MailboxDelete: null,
  MailboxRename: null,
  MailboxSubscribe: null,
  MailboxUnsubscribe: null,
})
export type FeedEventName = t.TypeOf<typeof FeedEventName>

export interface FeedEvent {
  readonly name: FeedEventName
  /** The mailbox, in UTF-8, with the user's hierarchy separator (`Archive.2026`, `Éléments envoyés`). */
  readonly mailbox: string
  /** When the script saw it, ms since 1970 (see `SpoolRecord.resolutionMs`). */
  readonly at: number
  readonly uid?: number
  /** Beware: the first message saved into a brand-new Maildir may carry a UIDVALIDITY that Dovecot replaces (README). */
  readonly uidValidity?: number
  /** MailboxRename: the mailbox's former name. */
  readonly oldMailbox?: string
}

/** Where a line is: the spool file's name and its 1-based line number. */
export interface LineRef {
  readonly file: string
  readonly line: number
}

/** One mail transaction of one user. */
export interface SpoolRecord extends LineRef {
  /** The Dovecot user (login name) whose mailboxes changed. */
  readonly user: string
  /** The Dovecot service that made the change: imap, lmtp, lda, doveadm, … */
  readonly service: string
  /** Whether the transaction was committed (false: Dovecot rolled it back). */
  readonly ok: boolean
  /** 1 when instants are to the millisecond (LuaSocket); 1000 when each is the start of the second it happened in. */
  readonly resolutionMs: number
  readonly events: readonly FeedEvent[]
  /** Events left out: their position in the line and why. */
  readonly ignored: readonly { readonly index: number; readonly reason: string }[]
}

export interface SpoolProblem extends LineRef {
  readonly _tag: 'MalformedLine' | 'TruncatedLine' | 'IgnoredEvent'
  readonly reason: string
  /** The start of the offending text, for the report. */
  readonly excerpt: string
}

// Codecs -----------------------------------------------------------------------------------------

const NonNegativeInt = t.refinement(t.Int, (n) => n >= 0, 'NonNegativeInt')
const PositiveInt = t.refinement(t.Int, (n) => n > 0, 'PositiveInt')

const EventCodec = t.intersection([t.type({ e: FeedEventName, box: t.string, t: NonNegativeInt }), t.partial({ uid: PositiveInt, uv: PositiveInt, old: t.string })])

export const SpoolLineCodec = t.type({
  v: t.literal(1),
  user: t.string,
  svc: t.string,
  ok: t.boolean,
  res: t.union([t.literal(1), t.literal(1000)]),
  events: t.array(t.unknown),
})

// Operations -------------------------------------------------------------------------------------

const EXCERPT = 200
const excerptOf = (text: string): string => (text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…` : text)

const problem = (tag: SpoolProblem['_tag'], where: LineRef, reason: string, text: string): SpoolProblem => ({
  _tag: tag,
  file: where.file,
  line: where.line,
  reason,
  excerpt: excerptOf(text),
})

/** Decodes one complete line (without its newline). */
export const decodeSpoolLine = (text: string, where: LineRef): E.Either<SpoolProblem, SpoolRecord> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(problem('MalformedLine', where, `not JSON (${(e as Error).message})`, text))
  }
  const line = SpoolLineCodec.decode(json)
  if (E.isLeft(line)) {
    const version = typeof json === 'object' && json !== null ? (json as { v?: unknown }).v : undefined
    const reason = typeof version === 'number' && version > 1 ? `format version ${version} is newer than this Mailtime reads (1)` : describeErrors(line.left)
    return E.left(problem('MalformedLine', where, reason, text))
  }
  const events: FeedEvent[] = []
  const ignored: { index: number; reason: string }[] = []
  line.right.events.forEach((raw, index) => {
    const ev = EventCodec.decode(raw)
    if (E.isLeft(ev)) {
      ignored.push({ index, reason: describeErrors(ev.left) })
      return
    }
    const { e, box, t: at, uid, uv, old } = ev.right
    events.push({ name: e, mailbox: box, at, ...(uid !== undefined && { uid }), ...(uv !== undefined && { uidValidity: uv }), ...(old !== undefined && { oldMailbox: old }) })
  })
  const { user, svc, ok, res } = line.right
  return E.right({ file: where.file, line: where.line, user, service: svc, ok, resolutionMs: res, events, ignored })
}

/** The problems to report for a record's ignored events. */
export const ignoredProblems = (record: SpoolRecord, text: string): SpoolProblem[] =>
  record.ignored.map((i) => problem('IgnoredEvent', record, `event ${i.index}: ${i.reason}`, text))

/** A line that will never be completed (its file is sealed and ends without a newline). */
export const truncatedLine = (text: string, where: LineRef): SpoolProblem =>
  problem('TruncatedLine', where, 'the file ends in the middle of this line (a write that failed, e.g. on a full disk)', text)

export const describeSpoolProblem = (p: SpoolProblem): string => `${p.file}:${p.line}: ${p.reason}: ${p.excerpt}`
