/**
 * A NOTIFY (RFC 5465) watcher for one account: one IMAP connection that hears about changes in
 * every folder of the account (new mail, expunges, flag changes, folders created, renamed, deleted,
 * subscribed), for servers that advertise NOTIFY when no server-side feed is configured. It turns
 * what the server says into the same change signals as the Dovecot spool (`capture/feeds/signals`).
 *
 * Why hand-rolled: imapflow (2.10, what capture uses) has no NOTIFY command, and outside a command
 * it dispatches only OK, BYE, CAPABILITY, EXISTS, EXPUNGE and FETCH: the unsolicited STATUS and LIST
 * responses NOTIFY sends are dropped. Its modified UTF-7 helper is internal (it needs a connection
 * object). So this module speaks the few commands it needs itself (STARTTLS, AUTHENTICATE PLAIN,
 * CAPABILITY, NOTIFY SET, NOOP, LOGOUT) with a minimal response reader (lines and literals)
 * and tokenizer (atoms, quoted strings, literals, parenthesized lists).
 *
 * Guarantees and limits:
 * 1. Errors are values: a failure is reported as a `Failed` event with the delay before the next
 *    attempt, and the watcher reconnects with exponential backoff until `stop()`. A server without
 *    NOTIFY is reported once as `Unsupported`, and the watcher ends.
 * 2. After every (re)connection, `Watching` says that changes made before it were not heard: the
 *    consumer should capture the account (a catch-up round). A response the watcher cannot parse,
 *    or the server's NOTIFICATIONOVERFLOW, ends the connection, so a reconnection and a catch-up
 *    follow: nothing is skipped silently.
 * 3. The password is sent only inside the AUTHENTICATE command; no event or error carries it.
 * 4. Signals are hints dated when received (`atPrecision: 'received'`). No folder is selected
 *    (see `NOTIFY_SET`): for every folder, INBOX included, the server sends STATUS (Dovecot: about
 *    0.5 s after the change, several changes in one), without UIDs; the kind is inferred from the
 *    previous STATUS of that folder: `messageNew` when UIDNEXT grew, `messageExpunged` when there are fewer messages than
 *    that explains, else `flagsChanged` (`mailboxChanged` without an earlier STATUS to compare with).
 * 5. Dovecot 2.3.19 sends names in NOTIFY's STATUS and LIST responses in UTF-8, where its LIST
 *    command sends modified UTF-7. A name is read as modified UTF-7 only when it is ASCII and valid
 *    modified UTF-7, else as UTF-8: a name that is both (e.g. `Tom &- Jerry` typed as such) is misread.
 * 6. Dovecot reports a folder rename only with the next change it notifies (services.md): the
 *    polling round (or the spool feed) is the safety net. (The FETCH and EXPUNGE responses of a
 *    selected folder are still read, for a server that sends them anyway.)
 */
import * as net from 'net'
import * as tls from 'tls'
import type { ChangeKind, ChangeSignal } from '../capture/feeds/signals'

// Model ------------------------------------------------------------------------------------------

export interface NotifyWatchOptions {
  readonly host: string
  readonly port: number
  /** Implicit TLS (imaps://); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean
  /** TLS options (e.g. `ca`, `rejectUnauthorized`). */
  readonly tls?: tls.ConnectionOptions
  /** The account to watch (its login name). */
  readonly account: string
  /** An admin logging in on behalf of the account (SASL PLAIN authzid), or the account itself. */
  readonly login: { readonly user: string; readonly password: string; readonly onBehalf: boolean }
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number }
  /** A NOOP after this long without traffic, so that idle connections are not dropped (default 4 min). */
  readonly keepaliveMs?: number
  /** How long to wait for the server's answer to a command, and to connect (default 30 s). */
  readonly timeoutMs?: number
  readonly clock?: { now(): number }
}

export type NotifyError =
  | { readonly _tag: 'Unreachable'; readonly server: string; readonly reason: string }
  | { readonly _tag: 'AuthFailed'; readonly server: string; readonly reason: string }
  | { readonly _tag: 'Rejected'; readonly server: string; readonly command: string; readonly reason: string }
  | { readonly _tag: 'Disconnected'; readonly server: string; readonly reason: string }
  | { readonly _tag: 'Timeout'; readonly server: string; readonly waitingFor: string }
  | { readonly _tag: 'ProtocolError'; readonly server: string; readonly reason: string }

export type WatchEvent =
  /** NOTIFY is set: changes from now on are signalled; those before were not heard (catch up). */
  | { readonly _tag: 'Watching'; readonly account: string; readonly folders: number }
  | { readonly _tag: 'Signal'; readonly signal: ChangeSignal }
  | { readonly _tag: 'Failed'; readonly account: string; readonly error: NotifyError; readonly retryInMs: number }
  /** The server does not offer NOTIFY: the watcher has ended. */
  | { readonly _tag: 'Unsupported'; readonly account: string; readonly reason: string }
  | { readonly _tag: 'Stopped'; readonly account: string }

export interface NotifyWatcher {
  /** Logs out and ends the watcher; resolves once it has ended. */
  stop(): Promise<void>
}

export const describeNotifyError = (e: NotifyError): string => {
  switch (e._tag) {
    case 'Unreachable':
      return `cannot reach ${e.server}: ${e.reason}`
    case 'AuthFailed':
      return `login at ${e.server} failed: ${e.reason}`
    case 'Rejected':
      return `${e.server} refused ${e.command}: ${e.reason}`
    case 'Disconnected':
      return `${e.server} closed the connection: ${e.reason}`
    case 'Timeout':
      return `${e.server} did not answer ${e.waitingFor} in time`
    case 'ProtocolError':
      return `${e.server} sent what this watcher cannot read: ${e.reason}`
  }
}

/**
 * The NOTIFY events asked for (RFC 5465): every personal folder, INBOX included, with no folder
 * selected. Dovecot re-arms a selected folder's watch only 1 s after the last command, so a change
 * made within that second (right after NOTIFY SET, or after a keepalive NOOP) was reported only with
 * the next change (seen here); the STATUS of a folder not selected has no such gap.
 */
export const NOTIFY_SET = 'NOTIFY SET STATUS (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))'

// Response reader and tokenizer ------------------------------------------------------------------

/** Literals in the responses watched are mailbox names: anything larger is not one. */
const MAX_LITERAL = 1 << 20

/** Splits the server's bytes into whole responses (a line, with its literals inside). */
export const responseReader = () => {
  let buf: Buffer = Buffer.alloc(0)
  let scan = 0
  let literal = 0
  return (chunk: Buffer): Buffer[] => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk])
    const out: Buffer[] = []
    for (;;) {
      if (literal > 0) {
        if (buf.length - scan < literal) break
        scan += literal
        literal = 0
      }
      const crlf = buf.indexOf('\r\n', scan)
      if (crlf < 0) break
      const tail = /\{(\d{1,10})\+?\}$/.exec(buf.subarray(Math.max(scan, crlf - 16), crlf).toString('latin1'))
      if (tail !== null) {
        literal = Number(tail[1])
        if (literal > MAX_LITERAL) throw new Error(`a literal of ${literal} bytes`)
        scan = crlf + 2
        continue
      }
      out.push(Buffer.from(buf.subarray(0, crlf)))
      buf = buf.subarray(crlf + 2)
      scan = 0
    }
    return out
  }
}

export type Token = { readonly t: 'atom'; readonly v: string } | { readonly t: 'string'; readonly v: Buffer } | { readonly t: 'list'; readonly v: Token[] }

/** The tokens of one response; throws on what it cannot read (an unclosed quote, list or literal). */
export const tokenize = (r: Buffer): Token[] => {
  const stack: Token[][] = [[]]
  let i = 0
  const top = (): Token[] => stack[stack.length - 1] as Token[]
  while (i < r.length) {
    const c = r[i] as number
    if (c === 0x20) i++
    else if (c === 0x28) {
      const list: Token[] = []
      top().push({ t: 'list', v: list })
      stack.push(list)
      i++
    } else if (c === 0x29) {
      if (stack.length === 1) throw new Error(`unbalanced ")" at ${i}`)
      stack.pop()
      i++
    } else if (c === 0x22) {
      const bytes: number[] = []
      i++
      for (;;) {
        if (i >= r.length) throw new Error('unterminated quoted string')
        const d = r[i] as number
        if (d === 0x22) break
        if (d === 0x5c) i++
        if (i >= r.length) throw new Error('unterminated quoted string')
        bytes.push(r[i] as number)
        i++
      }
      top().push({ t: 'string', v: Buffer.from(bytes) })
      i++
    } else if (c === 0x7b) {
      const m = /^\{(\d{1,10})\+?\}\r\n/.exec(r.subarray(i, i + 16).toString('latin1'))
      if (m === null) throw new Error(`bad literal at ${i}`)
      const n = Number(m[1])
      const start = i + m[0].length
      if (start + n > r.length) throw new Error('literal longer than the response')
      top().push({ t: 'string', v: Buffer.from(r.subarray(start, start + n)) })
      i = start + n
    } else {
      let j = i
      while (j < r.length && ![0x20, 0x28, 0x29, 0x0d, 0x0a].includes(r[j] as number)) j++
      top().push({ t: 'atom', v: r.subarray(i, j).toString('latin1') })
      i = j
    }
  }
  if (stack.length !== 1) throw new Error('unclosed "("')
  return stack[0] as Token[]
}

// Mailbox names ----------------------------------------------------------------------------------

const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Modified UTF-7 (RFC 3501 5.1.3) to text, or undefined when `s` is not valid modified UTF-7. */
export const decodeModifiedUtf7 = (s: string): string | undefined => {
  let out = ''
  let i = 0
  while (i < s.length) {
    const code = s.charCodeAt(i)
    if (code < 0x20 || code > 0x7e) return undefined
    if (code !== 0x26) {
      out += s[i]
      i++
      continue
    }
    const end = s.indexOf('-', i + 1)
    if (end < 0) return undefined
    const b64 = s.slice(i + 1, end)
    i = end + 1
    if (b64 === '') {
      out += '&'
      continue
    }
    // Whole UTF-16 units, and at most 4 bits of padding (0, 2 or 4 in a valid encoding).
    if (!/^[A-Za-z0-9+,]+$/.test(b64) || (b64.length * 6) % 16 >= 6) return undefined
    const bytes = Buffer.from(b64.replace(/,/g, '/'), 'base64')
    if (bytes.length === 0 || bytes.length % 2 !== 0) return undefined
    let chunk = ''
    for (let k = 0; k < bytes.length; k += 2) {
      const unit = bytes.readUInt16BE(k)
      // Printable ASCII is never encoded (RFC 3501): a run that decodes to it is not modified UTF-7.
      if (unit >= 0x20 && unit <= 0x7e) return undefined
      chunk += String.fromCharCode(unit)
    }
    out += chunk
  }
  return UNPAIRED_SURROGATE.test(out) ? undefined : out
}

/** A mailbox name as the server sent it, to text (see guarantee 5); INBOX in any case is INBOX. */
export const decodeMailboxName = (raw: Buffer): string => {
  const ascii = raw.every((b) => b < 0x80)
  const name = ascii ? (decodeModifiedUtf7(raw.toString('latin1')) ?? raw.toString('latin1')) : raw.toString('utf8')
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name
}

const nameOf = (t: Token | undefined): string | undefined => {
  if (t === undefined || t.t === 'list') return undefined
  return decodeMailboxName(t.t === 'atom' ? Buffer.from(t.v, 'latin1') : t.v)
}

// Responses to signals ---------------------------------------------------------------------------

export interface MailboxStatus {
  readonly messages?: number
  readonly uidNext?: number
  readonly uidValidity?: number
  readonly unseen?: number
  readonly highestModseq?: number
}

/** `* STATUS <name> (<item> <number> …)`. */
export const parseStatus = (tokens: readonly Token[]): { readonly mailbox: string; readonly status: MailboxStatus } | undefined => {
  const mailbox = nameOf(tokens[2])
  const items = tokens[3]
  if (mailbox === undefined || items?.t !== 'list') return undefined
  const status: Record<string, number> = {}
  const keys: Record<string, keyof MailboxStatus> = { MESSAGES: 'messages', UIDNEXT: 'uidNext', UIDVALIDITY: 'uidValidity', UNSEEN: 'unseen', HIGHESTMODSEQ: 'highestModseq' }
  for (let k = 0; k + 1 < items.v.length; k += 2) {
    const key = items.v[k]
    const value = items.v[k + 1]
    if (key?.t !== 'atom' || value?.t !== 'atom') continue
    const field = keys[key.v.toUpperCase()]
    if (field !== undefined && /^\d+$/.test(value.v)) status[field] = Number(value.v)
  }
  return { mailbox, status }
}

export type ListChange =
  | { readonly kind: 'deleted'; readonly mailbox: string }
  | { readonly kind: 'renamed'; readonly mailbox: string; readonly oldMailbox: string }
  | { readonly kind: 'listed'; readonly mailbox: string }

/** `* LIST (<attributes>) <delimiter> <name> [("OLDNAME" (<old name>))]`. */
export const parseList = (tokens: readonly Token[]): ListChange | undefined => {
  const attrs = tokens[2]
  const mailbox = nameOf(tokens[4])
  if (attrs?.t !== 'list' || mailbox === undefined) return undefined
  if (attrs.v.some((a) => a.t === 'atom' && a.v.toLowerCase() === '\\nonexistent')) return { kind: 'deleted', mailbox }
  const ext = tokens[5]
  if (ext?.t === 'list') {
    for (let k = 0; k + 1 < ext.v.length; k += 2) {
      const tag = ext.v[k]
      const value = ext.v[k + 1]
      const tagText = tag?.t === 'string' ? tag.v.toString('latin1') : tag?.t === 'atom' ? tag.v : ''
      if (tagText.toUpperCase() === 'OLDNAME' && value?.t === 'list') {
        const old = nameOf(value.v[0])
        if (old !== undefined) return { kind: 'renamed', mailbox, oldMailbox: old }
      }
    }
  }
  return { kind: 'listed', mailbox }
}

/** What a folder's new STATUS says changed since its previous one (guarantee 4). */
export const statusChanges = (before: MailboxStatus | undefined, after: MailboxStatus): ChangeKind[] => {
  if (before === undefined) return ['mailboxChanged']
  if (before.uidValidity !== undefined && after.uidValidity !== undefined && before.uidValidity !== after.uidValidity) return ['mailboxChanged']
  const kinds: ChangeKind[] = []
  const added = before.uidNext !== undefined && after.uidNext !== undefined ? Math.max(0, after.uidNext - before.uidNext) : 0
  if (added > 0) kinds.push('messageNew')
  if (before.messages !== undefined && after.messages !== undefined) {
    if (after.messages < before.messages + added) kinds.push('messageExpunged')
    if (added === 0 && before.uidNext === undefined && after.messages > before.messages) kinds.push('messageNew')
  }
  if (kinds.length > 0) return kinds
  const flags =
    (before.unseen !== undefined && after.unseen !== undefined && before.unseen !== after.unseen) ||
    (before.highestModseq !== undefined && after.highestModseq !== undefined && before.highestModseq !== after.highestModseq)
  return [flags ? 'flagsChanged' : 'mailboxChanged']
}

// Connection -------------------------------------------------------------------------------------

class SessionEnd extends Error {
  constructor(readonly error: NotifyError | { readonly _tag: 'Unsupported'; readonly reason: string } | { readonly _tag: 'Stopped' }) {
    super(error._tag)
  }
}

interface Connection {
  write(line: string): void
  /** The next response, or 'idle' after `ms` without one; throws SessionEnd when the connection ends. */
  next(ms: number): Promise<Buffer | 'idle'>
  startTls(): Promise<void>
  close(): void
}

const connect = (o: NotifyWatchOptions, server: string, timeoutMs: number, stopping: () => boolean): Promise<Connection> =>
  new Promise((resolve, reject) => {
    let socket: net.Socket = o.secure ? tls.connect({ host: o.host, port: o.port, servername: o.host, ...o.tls }) : net.connect(o.port, o.host)
    let read = responseReader()
    const queue: Buffer[] = []
    let ended: NotifyError | undefined
    let waiter: (() => void) | undefined
    const wake = () => {
      const w = waiter
      waiter = undefined
      w?.()
    }
    const attach = (s: net.Socket) => {
      s.setKeepAlive(true, 60_000)
      s.on('data', (d: Buffer) => {
        try {
          queue.push(...read(d))
        } catch (e) {
          ended ??= { _tag: 'ProtocolError', server, reason: (e as Error).message }
          s.destroy()
        }
        wake()
      })
      s.on('error', (e) => {
        ended ??= { _tag: 'Disconnected', server, reason: e.message }
        wake()
      })
      s.on('close', () => {
        ended ??= { _tag: 'Disconnected', server, reason: 'the connection closed' }
        wake()
      })
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new SessionEnd({ _tag: 'Timeout', server, waitingFor: 'the connection' }))
    }, timeoutMs)
    socket.once(o.secure ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer)
      attach(socket)
      resolve(connection)
    })
    socket.once('error', (e) => {
      clearTimeout(timer)
      reject(new SessionEnd({ _tag: 'Unreachable', server, reason: e.message }))
    })
    const connection: Connection = {
      write: (line) => {
        socket.write(line)
      },
      next: async (ms) => {
        for (;;) {
          const r = queue.shift()
          if (r !== undefined) return r
          if (stopping()) throw new SessionEnd({ _tag: 'Stopped' })
          if (ended !== undefined) throw new SessionEnd(ended)
          const idle = await new Promise<boolean>((res) => {
            const t = setTimeout(() => {
              waiter = undefined
              res(true)
            }, ms)
            waiter = () => {
              clearTimeout(t)
              res(false)
            }
          })
          if (idle && queue.length === 0) return 'idle'
        }
      },
      startTls: () =>
        new Promise((res, rej) => {
          socket.removeAllListeners('data')
          socket.removeAllListeners('close')
          socket.removeAllListeners('error')
          const secured = tls.connect({ socket, servername: o.host, ...o.tls })
          secured.once('secureConnect', () => {
            socket = secured
            read = responseReader()
            attach(secured)
            res()
          })
          secured.once('error', (e) => rej(new SessionEnd({ _tag: 'Unreachable', server, reason: `STARTTLS: ${e.message}` })))
        }),
      close: () => {
        socket.destroy()
        wake()
      },
    }
  })

// Session ----------------------------------------------------------------------------------------

const capabilitiesIn = (text: string): Set<string> | undefined => {
  const m = /\[CAPABILITY ([^\]]*)\]/i.exec(text)
  return m === null ? undefined : new Set((m[1] ?? '').toUpperCase().split(' '))
}

/** One connection: log in, NOTIFY SET, then signal until it ends (always by throwing SessionEnd). */
const session = async (o: NotifyWatchOptions, emit: (e: WatchEvent) => void, stopping: () => boolean, setConnection: (c: Connection | undefined) => void): Promise<never> => {
  const server = `${o.secure ? 'imaps' : 'imap'}://${o.host}:${o.port}`
  const timeoutMs = o.timeoutMs ?? 30_000
  const keepaliveMs = o.keepaliveMs ?? 240_000
  const now = () => o.clock?.now() ?? Date.now()
  const conn = await connect(o, server, timeoutMs, stopping)
  setConnection(conn)
  let tagSeq = 0

  /** Folders' last STATUS, and whether NOTIFY SET has completed (its first STATUS responses are the baseline). */
  const statuses = new Map<string, MailboxStatus>()
  let inboxValidity: number | undefined
  const signal = (mailbox: string, kind: ChangeKind, extra: { uid?: number; uidValidity?: number; oldMailbox?: string } = {}) =>
    emit({ _tag: 'Signal', signal: { source: 'imap-notify', account: o.account, mailbox, kind, ...extra, at: now(), atPrecision: 'received' } })

  const untagged = (r: Buffer, watching: boolean): void => {
    const head = /^\* (?:(\d+) )?([A-Za-z]+)/.exec(r.subarray(0, 40).toString('latin1'))
    if (head === null) return
    const word = (head[2] ?? '').toUpperCase()
    if (word === 'BYE') throw new SessionEnd({ _tag: 'Disconnected', server, reason: r.toString('utf8').slice(6) })
    if (word === 'OK' || word === 'NO' || word === 'BAD') {
      const text = r.toString('utf8')
      const uv = /\[UIDVALIDITY (\d+)\]/i.exec(text)
      if (uv !== null) inboxValidity = Number(uv[1])
      if (/\[NOTIFICATIONOVERFLOW\]/i.test(text)) throw new SessionEnd({ _tag: 'ProtocolError', server, reason: 'the server stopped notifying (NOTIFICATIONOVERFLOW)' })
      return
    }
    if (!['STATUS', 'LIST', 'FETCH', 'EXPUNGE'].includes(word)) return
    // Before NOTIFY is set, only STATUS matters (the folders' first STATUS, to compare with later).
    if (!watching && word !== 'STATUS') return
    let tokens: Token[]
    try {
      tokens = tokenize(r)
    } catch (e) {
      throw new SessionEnd({ _tag: 'ProtocolError', server, reason: `${(e as Error).message} in ${JSON.stringify(r.toString('utf8').slice(0, 120))}` })
    }
    const unreadable = () => new SessionEnd({ _tag: 'ProtocolError', server, reason: `cannot read ${JSON.stringify(r.toString('utf8').slice(0, 120))}` })
    if (word === 'STATUS') {
      const s = parseStatus(tokens)
      if (s === undefined) throw unreadable()
      const before = statuses.get(s.mailbox)
      statuses.set(s.mailbox, { ...before, ...s.status })
      if (!watching) return
      const uidValidity = s.status.uidValidity ?? before?.uidValidity
      for (const kind of statusChanges(before, s.status)) signal(s.mailbox, kind, uidValidity !== undefined ? { uidValidity } : {})
    } else if (word === 'LIST') {
      const l = parseList(tokens)
      if (l === undefined) throw unreadable()
      if (l.kind === 'deleted') {
        statuses.delete(l.mailbox)
        signal(l.mailbox, 'mailboxDeleted')
      } else if (l.kind === 'renamed') {
        const s = statuses.get(l.oldMailbox)
        statuses.delete(l.oldMailbox)
        if (s !== undefined) statuses.set(l.mailbox, s)
        signal(l.mailbox, 'mailboxRenamed', { oldMailbox: l.oldMailbox })
      } else if (statuses.has(l.mailbox)) signal(l.mailbox, 'subscriptionChanged')
      else {
        statuses.set(l.mailbox, {})
        signal(l.mailbox, 'mailboxCreated')
      }
    } else if (word === 'EXPUNGE') {
      signal('INBOX', 'messageExpunged', inboxValidity !== undefined ? { uidValidity: inboxValidity } : {})
    } else {
      // `* n FETCH (UID u)` for a new message (MessageNew (UID)), `(… FLAGS (…) …)` for a flag change.
      const items = tokens[3]
      if (items?.t !== 'list') throw unreadable()
      let uid: number | undefined
      let flags = false
      for (let k = 0; k + 1 < items.v.length; k += 2) {
        const key = items.v[k]
        const value = items.v[k + 1]
        if (key?.t !== 'atom') continue
        if (key.v.toUpperCase() === 'UID' && value?.t === 'atom' && /^\d+$/.test(value.v)) uid = Number(value.v)
        if (key.v.toUpperCase() === 'FLAGS') flags = true
      }
      signal('INBOX', flags ? 'flagsChanged' : 'messageNew', { ...(uid !== undefined && { uid }), ...(inboxValidity !== undefined && { uidValidity: inboxValidity }) })
    }
  }

  /** Sends a command (its words only go into errors) and returns the tagged answer's text. */
  const command = async (words: string, line: string, watching: boolean, onContinue?: () => string): Promise<string> => {
    const tag = `m${++tagSeq}`
    conn.write(`${tag} ${line}\r\n`)
    for (;;) {
      const r = await conn.next(timeoutMs)
      if (r === 'idle') throw new SessionEnd({ _tag: 'Timeout', server, waitingFor: words })
      const text = r.toString('utf8')
      if (text.startsWith('+')) {
        if (onContinue === undefined) throw new SessionEnd({ _tag: 'ProtocolError', server, reason: `unexpected continuation during ${words}` })
        conn.write(`${onContinue()}\r\n`)
        continue
      }
      if (!text.startsWith(`${tag} `)) {
        untagged(r, watching)
        continue
      }
      const m = /^\S+ (OK|NO|BAD)\b ?(.*)$/i.exec(text)
      if (m === null) throw new SessionEnd({ _tag: 'ProtocolError', server, reason: `bad answer to ${words}: ${text.slice(0, 120)}` })
      if ((m[1] ?? '').toUpperCase() !== 'OK') {
        const reason = m[2] ?? ''
        throw new SessionEnd(words === 'AUTHENTICATE' ? { _tag: 'AuthFailed', server, reason } : { _tag: 'Rejected', server, command: words, reason })
      }
      return m[2] ?? ''
    }
  }

  try {
    const greeting = await conn.next(timeoutMs)
    if (greeting === 'idle') throw new SessionEnd({ _tag: 'Timeout', server, waitingFor: 'the greeting' })
    const greetingText = greeting.toString('utf8')
    if (!/^\* OK\b/i.test(greetingText)) throw new SessionEnd({ _tag: 'Rejected', server, command: 'connection', reason: greetingText.slice(0, 200) })
    const capabilityCommand = async (): Promise<Set<string>> => {
      let caps = new Set<string>()
      const tag = `m${++tagSeq}`
      conn.write(`${tag} CAPABILITY\r\n`)
      for (;;) {
        const r = await conn.next(timeoutMs)
        if (r === 'idle') throw new SessionEnd({ _tag: 'Timeout', server, waitingFor: 'CAPABILITY' })
        const text = r.toString('utf8')
        if (/^\* CAPABILITY /i.test(text)) caps = new Set(text.slice(13).toUpperCase().split(' '))
        else if (text.startsWith(`${tag} `)) return caps
      }
    }
    let caps = capabilitiesIn(greetingText) ?? (await capabilityCommand())
    if (!o.secure && caps.has('STARTTLS')) {
      await command('STARTTLS', 'STARTTLS', false)
      await conn.startTls()
      caps = await capabilityCommand()
    }
    if (!caps.has('AUTH=PLAIN')) throw new SessionEnd({ _tag: 'AuthFailed', server, reason: 'the server offers no AUTH=PLAIN' })
    const credentials = (): string => Buffer.from(`${o.login.onBehalf ? o.account : ''}\0${o.login.user}\0${o.login.password}`, 'utf8').toString('base64')
    const authOk = caps.has('SASL-IR')
      ? await command('AUTHENTICATE', `AUTHENTICATE PLAIN ${credentials()}`, false)
      : await command('AUTHENTICATE', 'AUTHENTICATE PLAIN', false, credentials)
    caps = capabilitiesIn(authOk) ?? (await capabilityCommand())
    if (!caps.has('NOTIFY')) throw new SessionEnd({ _tag: 'Unsupported', reason: `${server} does not offer NOTIFY (RFC 5465)` })
    // Read-only: watching must not change \Recent or anything else.
    await command('NOTIFY', NOTIFY_SET, false)
    emit({ _tag: 'Watching', account: o.account, folders: statuses.size + 1 })
    for (;;) {
      const r = await conn.next(keepaliveMs)
      if (r === 'idle') await command('NOOP', 'NOOP', true)
      else untagged(r, true)
    }
  } finally {
    setConnection(undefined)
    conn.close()
  }
}

// Watcher ----------------------------------------------------------------------------------------

/** Watches one account until `stop()`, reconnecting with backoff; every outcome goes to `onEvent`. */
export const watchAccount = (o: NotifyWatchOptions, onEvent: (e: WatchEvent) => void): NotifyWatcher => {
  const initialMs = o.backoff?.initialMs ?? 1000
  const maxMs = o.backoff?.maxMs ?? 60_000
  let stopped = false
  let current: Connection | undefined
  let wakeSleep: (() => void) | undefined
  const emit = (e: WatchEvent) => {
    try {
      onEvent(e)
    } catch {
      // The consumer's failure is its own: the watcher goes on.
    }
  }
  const run = async (): Promise<void> => {
    let delay = initialMs
    while (!stopped) {
      let watched = false
      const end = await session(
        o,
        (e) => {
          if (e._tag === 'Watching') watched = true
          emit(e)
        },
        () => stopped,
        (c) => (current = c),
      ).catch((e: unknown) => (e instanceof SessionEnd ? e.error : ({ _tag: 'ProtocolError', server: `${o.host}:${o.port}`, reason: String(e) } as const)))
      if (stopped || end._tag === 'Stopped') break
      if (end._tag === 'Unsupported') {
        emit({ _tag: 'Unsupported', account: o.account, reason: end.reason })
        return
      }
      if (watched) delay = initialMs
      emit({ _tag: 'Failed', account: o.account, error: end, retryInMs: delay })
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay)
        wakeSleep = () => {
          clearTimeout(t)
          resolve()
        }
      })
      wakeSleep = undefined
      delay = Math.min(delay * 2, maxMs)
    }
    emit({ _tag: 'Stopped', account: o.account })
  }
  const done = run()
  return {
    stop: async () => {
      stopped = true
      if (current !== undefined) {
        try {
          current.write('z LOGOUT\r\n')
        } catch {
          // closing anyway
        }
        current.close()
      }
      wakeSleep?.()
      await done
    },
  }
}
