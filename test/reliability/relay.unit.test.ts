/**
 * The network-fault tests' relay (relay.ts) drops a connection at the client text it is told to,
 * however the client's bytes are cut into reads. On a loaded machine the relay reads a command and
 * the start of its literal in one read of 64 KB: the relay looked for the text only in the last
 * 4 KB of what it had read, missed the APPEND, passed the whole message on, and the restore that
 * should have been cut mid-APPEND ended with exit 0. The relay's upstream here is a plain TCP peer
 * that records what reaches it (this tests the relay, not a mail server).
 */
import * as net from 'net'
import { waitFor } from '../support/wait'
import { startRelay } from './relay'

interface Peer {
  readonly port: number
  /** Everything that reached the peer, over all its connections. */
  received(): string
  close(): Promise<void>
}

const startPeer = async (): Promise<Peer> => {
  let got = ''
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('data', (b: Buffer) => (got += b.toString('latin1')))
    s.on('error', () => undefined)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => got,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A client of the relay; `closed` resolves when the relay drops it. */
const connect = async (port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> => {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()))
  await new Promise<void>((resolve) => socket.on('connect', () => resolve()))
  return { socket, closed }
}

/** Whether the relay dropped the client, or passed `text` on to the peer (whichever happens first). */
const outcome = async (closed: Promise<void>, peer: Peer, text: string): Promise<'dropped' | 'passed on'> => {
  let dropped = false
  void closed.then(() => (dropped = true))
  await waitFor('the relay to drop the client or pass the text on', () => dropped || peer.received().includes(text))
  return dropped ? 'dropped' : 'passed on'
}

describe('the relay of the network-fault tests', () => {
  let peer: Peer
  beforeEach(async () => {
    peer = await startPeer()
  })
  afterEach(async () => {
    await peer.close()
  })

  it('drops the connection when the text opens a read far longer than 4 KB, and passes none of that read on', async () => {
    const relay = await startRelay(peer.port, { dropAtClientText: ' APPEND ' })
    try {
      const c = await connect(relay.port)
      const literal = 'y'.repeat(200_000)
      // One write: the relay's first read holds the command and 64 KB of its literal.
      c.socket.write(`M3 APPEND "INBOX" (\\Seen) {${literal.length}+}\r\n${literal}`)
      expect(await outcome(c.closed, peer, 'APPEND')).toBe('dropped')
      expect(peer.received()).toBe('')
      expect(relay.drops()).toBe(1)
    } finally {
      await relay.close()
    }
  })

  it('drops the connection when the text is cut between two reads, passing on only what came before it', async () => {
    const relay = await startRelay(peer.port, { dropAtClientText: ' APPEND ' })
    try {
      const c = await connect(relay.port)
      c.socket.write('M1 CAPABILITY\r\nM2 APP')
      await waitFor('the first part to reach the peer', () => peer.received() === 'M1 CAPABILITY\r\nM2 APP')
      c.socket.write(`END "INBOX" {${'z'.repeat(5000).length}+}\r\n${'z'.repeat(5000)}`)
      expect(await outcome(c.closed, peer, 'INBOX')).toBe('dropped')
      expect(peer.received()).toBe('M1 CAPABILITY\r\nM2 APP')
    } finally {
      await relay.close()
    }
  })

  it('passes on everything else, whatever the size of the reads', async () => {
    const relay = await startRelay(peer.port, { dropAtClientText: ' APPEND ' })
    try {
      const c = await connect(relay.port)
      const text = `M1 NOOP\r\n${'x'.repeat(150_000)} APPEN\r\nD \r\n`
      c.socket.write(text)
      await waitFor('everything to reach the peer', () => peer.received().length >= text.length)
      expect(peer.received()).toBe(text)
      expect(relay.drops()).toBe(0)
      c.socket.destroy()
    } finally {
      await relay.close()
    }
  })
})
