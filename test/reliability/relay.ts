/**
 * A TCP relay on loopback between the CLI and a real Dovecot, so that a network fault lands at a
 * known point of the conversation instead of after a guessed delay: once told to (`hold`), or once
 * the server starts sending a message's body (`holdAtFirstBody`), it stops passing the server's
 * bytes on, so the client waits in the middle of its command; when the server then goes away, the
 * relay drops the client's connection too, as a crash of the server looks to a client.
 */
import * as net from 'net'

export interface Relay {
  readonly url: string
  readonly port: number
  /** Resolves once the relay holds the server's bytes (after `hold`, or at the first body with `holdAtFirstBody`). */
  readonly holding: Promise<void>
  hold(): void
  /** How many connections were dropped at `dropAtClientText`: a test shows its fault landed. */
  drops(): number
  close(): Promise<void>
}

export const startRelay = async (
  serverPort: number,
  /** `dropAtClientText`: drop both connections as soon as the client sends this text (a crash in the middle of a command the client is still sending). */
  options: { holdAtFirstBody?: boolean; port?: number; dropAtClientText?: string } = {},
): Promise<Relay> => {
  let held = false
  let onHold: () => void = () => undefined
  const holding = new Promise<void>((resolve) => (onHold = resolve))
  const hold = () => {
    held = true
    onHold()
  }
  const sockets = new Set<net.Socket>()
  let drops = 0
  const server = net.createServer((client) => {
    const upstream = net.connect(serverPort, '127.0.0.1')
    sockets.add(client)
    sockets.add(upstream)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    // The end of what the client sent before this read: the text may be cut between two reads.
    let sent = ''
    client.on('data', (b: Buffer) => {
      const text = options.dropAtClientText
      if (text !== undefined) {
        // Searched in the whole read, before anything is cut off: a loaded machine hands the relay a
        // command and 64 KB of its literal in one read (relay.unit.test.ts).
        const seen = sent + b.toString('latin1')
        if (seen.includes(text)) {
          drops++
          return drop()
        }
        sent = seen.slice(Math.max(0, seen.length - (text.length - 1)))
      }
      upstream.write(b)
    })
    // The end of the text seen so far, for a response split across reads.
    let tail = ''
    upstream.on('data', (b: Buffer) => {
      if (held) return
      const text = tail + b.toString('latin1')
      // A FETCH response carrying a body: `* 3 FETCH (UID 7 … BODY[] {1234}`.
      if (options.holdAtFirstBody === true && /\* \d+ FETCH \([^\r\n]*BODY\[\] \{\d+\}/.test(text)) return hold()
      tail = text.slice(-512)
      client.write(b)
    })
    for (const s of [client, upstream]) {
      s.on('close', drop)
      s.on('error', drop)
    }
  })
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    url: `imap://127.0.0.1:${port}`,
    port,
    holding,
    hold,
    drops: () => drops,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
