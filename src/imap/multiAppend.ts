/**
 * MULTIAPPEND (RFC 3502) over one IMAP connection: many messages in one APPEND command, which the
 * server commits at once. imapflow sends one message per APPEND, and Dovecot commits once per
 * command, so this is what makes a restore several times faster than an APPEND loop (measured in
 * docs/performance.md). Everything else (folders, STATUS, reading back) goes through imapflow;
 * this module speaks only the commands an APPEND session needs: AUTHENTICATE PLAIN, CAPABILITY,
 * APPEND and LOGOUT.
 *
 * Literals are non-synchronizing (`{n+}`) when the server has LITERAL+, otherwise each waits for the
 * server's `+`. A message with NUL bytes goes as a literal8 (`~{n}`) when the server has BINARY.
 */
import * as net from 'net'
import * as tls from 'tls'

export interface AppendEndpoint {
  readonly host: string
  readonly port: number
  readonly secure: boolean
  readonly user: string
  readonly pass: string
  /** Log in as `user` on behalf of this account (SASL PLAIN authorization identity). */
  readonly authzid?: string
}

export interface AppendMessage {
  readonly bytes: Buffer
  /** System flags (`\Seen`) and keywords, already valid IMAP atoms. */
  readonly flags: readonly string[]
  readonly internalDate?: number
}

export interface AppendResult {
  readonly uidValidity?: number
  /** The UIDs the server gave, in message order (from APPENDUID; empty without UIDPLUS). */
  readonly uids: readonly number[]
}

export class ImapCommandError extends Error {
  constructor(
    readonly command: string,
    readonly status: string,
    readonly text: string,
  ) {
    super(`${command} answered ${status}: ${text}`)
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** IMAP date-time, in UTC: `"01-Mar-2026 10:00:00 +0000"`. */
export const imapDateTime = (ms: number): string => {
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `"${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000"`
}

/** An IMAP quoted string (mailbox names here are already modified UTF-7, so 7-bit). */
export const quoted = (s: string): string => {
  if (/[\r\n\0]/.test(s)) throw new Error(`cannot quote ${JSON.stringify(s)} for IMAP`)
  return `"${s.replace(/(["\\])/g, '\\$1')}"`
}

/** `5:7,9` → [5, 6, 7, 9]. */
export const parseUidSet = (set: string): number[] => {
  const out: number[] = []
  for (const part of set.split(',')) {
    const [a, b] = part.split(':').map(Number)
    if (a === undefined || !Number.isInteger(a)) continue
    const end = b === undefined ? a : b
    for (let u = Math.min(a, end); u <= Math.max(a, end); u++) out.push(u)
  }
  return out
}

interface Waiter {
  readonly tag: string
  readonly resolve: (line: string) => void
  readonly reject: (e: Error) => void
  readonly onContinue?: () => void
}

export interface AppendSession {
  readonly literalPlus: boolean
  append(mailbox: string, messages: readonly AppendMessage[]): Promise<AppendResult>
  close(): Promise<void>
}

export const openAppendSession = async (ep: AppendEndpoint, timeoutMs = 60_000): Promise<AppendSession> => {
  const socket: net.Socket = ep.secure ? tls.connect({ host: ep.host, port: ep.port, servername: ep.host }) : net.connect({ host: ep.host, port: ep.port })
  socket.setNoDelay(true)
  let buffered = ''
  let greeting: ((line: string) => void) | undefined
  let waiter: Waiter | undefined
  let failure: Error | undefined
  let capabilities = new Set<string>()
  let tagNo = 0

  const fail = (e: Error) => {
    failure ??= e
    const w = waiter
    waiter = undefined
    w?.reject(e)
  }
  const readCaps = (line: string) => {
    const m = /\[CAPABILITY ([^\]]*)\]/i.exec(line) ?? /^\* CAPABILITY (.*)$/i.exec(line)
    if (m !== null) capabilities = new Set((m[1] ?? '').toUpperCase().split(' '))
  }
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1')
    let i: number
    while ((i = buffered.indexOf('\r\n')) >= 0) {
      const line = buffered.slice(0, i)
      buffered = buffered.slice(i + 2)
      readCaps(line)
      if (greeting !== undefined) {
        const g = greeting
        greeting = undefined
        g(line)
      } else if (line.startsWith('+') && waiter?.onContinue !== undefined) waiter.onContinue()
      else if (waiter !== undefined && line.startsWith(`${waiter.tag} `)) {
        const w = waiter
        waiter = undefined
        w.resolve(line.slice(w.tag.length + 1))
      }
    }
  })
  socket.on('error', (e) => fail(e))
  socket.on('close', () => fail(new Error('connection closed by the server')))
  socket.setTimeout(timeoutMs, () => {
    fail(new Error(`no answer within ${timeoutMs / 1000} s`))
    socket.destroy()
  })

  const write = (data: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      if (failure !== undefined) return reject(failure)
      socket.write(data, (e) => (e ? reject(e) : resolve()))
    })

  /** Sends a command made of text parts and literals; resolves with the tagged response's text. */
  const command = async (name: string, parts: readonly (string | { literal: Buffer })[]): Promise<string> => {
    if (failure !== undefined) throw failure
    const tag = `M${++tagNo}`
    let continued: (() => void) | undefined
    const done = new Promise<string>((resolve, reject) => {
      waiter = { tag, resolve, reject, onContinue: () => continued?.() }
    })
    // A connection lost while the command is still being sent rejects `done` before anyone awaits
    // it (the sending fails and is what this command throws): mark it handled, or Node ends the
    // process on an unhandled rejection instead of the restore reporting the outage.
    done.catch(() => undefined)
    const waitContinue = () =>
      new Promise<void>((resolve) => {
        continued = () => {
          continued = undefined
          resolve()
        }
      })
    let line = `${tag} ${name}`
    const plus = capabilities.has('LITERAL+')
    const binary = capabilities.has('BINARY')
    const sending = (async () => {
      for (const p of parts) {
        if (typeof p === 'string') {
          line += p
          continue
        }
        const nul = p.literal.includes(0)
        if (nul && !binary) throw new Error('the message contains NUL bytes and the server has no BINARY extension')
        line += `${nul ? '~' : ''}{${p.literal.length}${plus ? '+' : ''}}\r\n`
        if (plus) {
          await write(line)
        } else {
          const go = waitContinue()
          await write(line)
          await Promise.race([
            go,
            done.then(
              () => undefined,
              () => undefined,
            ),
          ])
          if (waiter === undefined) return
        }
        await write(p.literal)
        line = ''
      }
      await write(`${line}\r\n`)
    })()
    await sending.catch((e: Error) => {
      fail(e)
      throw e
    })
    const answer = await done
    const status = (answer.split(' ')[0] ?? '').toUpperCase()
    if (status !== 'OK') throw new ImapCommandError(name.trim(), status, answer.slice(status.length + 1))
    return answer
  }

  try {
    await new Promise<void>((resolve, reject) => {
      waiter = { tag: '*', resolve: () => resolve(), reject }
      greeting = (line) => {
        waiter = undefined
        if (/^\* (OK|PREAUTH)/i.test(line)) resolve()
        else reject(new Error(`unexpected greeting ${JSON.stringify(line.slice(0, 100))}`))
      }
    })
    const sasl = Buffer.from(`${ep.authzid ?? ''}\0${ep.user}\0${ep.pass}`).toString('base64')
    {
      const tag = `M${++tagNo}`
      const done = new Promise<string>((resolve, reject) => {
        waiter = { tag, resolve, reject, onContinue: () => void write(`${sasl}\r\n`).catch(fail) }
      })
      await write(`${tag} AUTHENTICATE PLAIN\r\n`)
      const answer = await done
      if (!/^OK/i.test(answer)) throw new ImapCommandError('AUTHENTICATE', answer.split(' ')[0] ?? '', answer.replace(/^\S+\s*/, ''))
    }
    // The capabilities after login (MULTIAPPEND, LITERAL+) may differ from the greeting's.
    await command('CAPABILITY', [])
  } catch (e) {
    socket.destroy()
    throw e
  }

  return {
    get literalPlus() {
      return capabilities.has('LITERAL+')
    },
    append: async (mailbox, messages) => {
      if (messages.length === 0) return { uids: [] }
      if (messages.length > 1 && !capabilities.has('MULTIAPPEND')) {
        const uids: number[] = []
        let uidValidity: number | undefined
        for (const m of messages) {
          const r = await appendOne(mailbox, [m])
          uids.push(...r.uids)
          uidValidity = r.uidValidity ?? uidValidity
        }
        return { ...(uidValidity !== undefined && { uidValidity }), uids }
      }
      return appendOne(mailbox, messages)
    },
    close: async () => {
      if (failure === undefined) await command('LOGOUT', []).catch(() => undefined)
      socket.destroy()
    },
  }

  async function appendOne(mailbox: string, messages: readonly AppendMessage[]): Promise<AppendResult> {
    const parts: (string | { literal: Buffer })[] = [` ${quoted(mailbox)}`]
    for (const m of messages) {
      parts.push(` (${m.flags.join(' ')})`)
      if (m.internalDate !== undefined) parts.push(` ${imapDateTime(m.internalDate)}`)
      parts.push(' ', { literal: m.bytes })
    }
    const answer = await command('APPEND', parts)
    const code = /\[APPENDUID (\d+) ([\d:,]+)\]/i.exec(answer)
    return code === null ? { uids: [] } : { uidValidity: Number(code[1]), uids: parseUidSet(code[2] ?? '') }
  }
}
