/**
 * The restore row's baseline: a bare MULTIAPPEND loop (RFC 3502, with LITERAL+), messages already in
 * memory, nothing recorded, written here apart from Mailtime's own IMAP code so that it measures what
 * the server can take rather than that code. Each connection takes the next batch as soon as its
 * previous one is answered, as Mailtime's sessions do.
 */
import * as net from 'net'

export interface BareAppendTarget {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly pass: string
  readonly authzid: string
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const imapDate = (ms: number): string => {
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `"${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000"`
}

/** One connection: logged in, sending one tagged command at a time and waiting for its tagged answer. */
const connect = (t: BareAppendTarget): Promise<{ command: (parts: readonly (string | Buffer)[]) => Promise<void>; end: () => void }> =>
  new Promise((resolve, reject) => {
    const socket = net.connect({ host: t.host, port: t.port })
    socket.setNoDelay(true)
    let text = ''
    let waiting: { tag: string; ok: () => void; fail: (e: Error) => void } | undefined
    let greeted = false
    let n = 0
    const command = (parts: readonly (string | Buffer)[]): Promise<void> =>
      new Promise((ok, fail) => {
        const tag = `b${++n}`
        waiting = { tag, ok, fail }
        socket.write(Buffer.concat([Buffer.from(`${tag} `), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)), Buffer.from('\r\n')]))
      })
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1')
      for (let nl = text.indexOf('\r\n'); nl >= 0; nl = text.indexOf('\r\n')) {
        const line = text.slice(0, nl)
        text = text.slice(nl + 2)
        if (!greeted) {
          greeted = true
          if (!line.startsWith('* OK')) return reject(new Error(`greeting: ${line}`))
          const plain = Buffer.from(`${t.authzid}\0${t.user}\0${t.pass}`).toString('base64')
          command([`AUTHENTICATE PLAIN ${plain}`]).then(() => resolve({ command, end: () => socket.end() }), reject)
        } else if (waiting !== undefined && line.startsWith(`${waiting.tag} `)) {
          const w = waiting
          waiting = undefined
          if (line.startsWith(`${w.tag} OK`)) w.ok()
          else w.fail(new Error(line))
        }
      }
    })
    socket.on('error', (e) => (waiting === undefined ? reject(e) : waiting.fail(e)))
  })

/**
 * Appends the messages into INBOX, one MULTIAPPEND command per batch (at most `batchSize` messages
 * and, beyond the first, `batchBytes` bytes, as Mailtime closes its batches), on `connections`
 * connections.
 */
export const bareMultiAppend = async (
  t: BareAppendTarget,
  messages: readonly { bytes: Buffer; internalDate: number }[],
  o: { readonly batchSize: number; readonly batchBytes: number; readonly connections: number },
): Promise<void> => {
  const sessions = await Promise.all(Array.from({ length: o.connections }, () => connect(t)))
  let next = 0
  const batch = (): typeof messages => {
    const out: (typeof messages)[number][] = []
    let bytes = 0
    while (next < messages.length && out.length < o.batchSize) {
      const m = messages[next] as (typeof messages)[number]
      if (out.length > 0 && bytes + m.bytes.length > o.batchBytes) break
      out.push(m)
      bytes += m.bytes.length
      next++
    }
    return out
  }
  await Promise.all(
    sessions.map(async (s) => {
      for (let b = batch(); b.length > 0; b = batch()) {
        const parts: (string | Buffer)[] = ['APPEND INBOX']
        for (const m of b) parts.push(` (\\Seen) ${imapDate(m.internalDate)} {${m.bytes.length}+}\r\n`, m.bytes)
        await s.command(parts)
      }
    }),
  )
  await Promise.all(sessions.map((s) => s.command(['LOGOUT']).then(s.end)))
}
