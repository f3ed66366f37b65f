/**
 * The IMAP connection pool (src/imap/pool.ts) against a real Dovecot: the server never sees more
 * connections than the pool's size (counted by the server itself, `doveadm who`), a connection is
 * reused for the same account, the least recently used idle one is evicted for another account, a
 * connection the server dropped (`doveadm kick`) is replaced and never handed out again, and every
 * connection is logged out on close.
 */
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import type { ImapFlow } from 'imapflow'
import { connectAs } from '../../src/imap/connection'
import { type ConnectionPool, connectionPool } from '../../src/imap/pool'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { waitFor } from '../support/wait'

const USERS = ['u1', 'u2', 'u3', 'u4', 'u5']

/** The IMAP connections Dovecot serves now, by user (its own count: `doveadm who -1`, one line per connection). */
const serverConnections = (d: Dovecot): Map<string, number> => {
  const out = new Map<string, number>()
  for (const line of d.doveadm('who', '-1').split('\n').slice(1)) {
    const user = line.trim().split(/\s+/)[0]
    if (user === undefined || user === '') continue
    out.set(user, (out.get(user) ?? 0) + 1)
  }
  return out
}
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)

/**
 * The TCP connections to the server's port that are established now, as the kernel holds them (the
 * server's side of each): exact at any instant, where Dovecot's own count (`doveadm who`) is told
 * of a logout a moment after the client saw it.
 */
const established = (port: number): number => {
  let n = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = ''
    try {
      text = fs.readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/)
      const local = cols[1]
      if (local === undefined || cols[3] !== '01') continue
      if (parseInt(local.split(':')[1] ?? '', 16) === port) n++
    }
  }
  return n
}

describeWithService(dovecotAvailable(), 'Dovecot')('the IMAP connection pool', () => {
  let d: Dovecot
  let pool: ConnectionPool<ImapFlow>
  beforeAll(async () => {
    d = await startDovecot(Object.fromEntries(USERS.map((u) => [u, `${u}pw`])))
  })
  afterEach(async () => {
    await pool?.close()
  })
  afterAll(async () => {
    await removeDovecot(d)
  })

  const newPool = (size: number): ConnectionPool<ImapFlow> =>
    connectionPool<ImapFlow>(size, {
      open: (a) => connectAs({ host: '127.0.0.1', port: d.port, secure: false, admin: d.admin, passwords: {}, description: d.url }, a),
      alive: (c) => c.usable,
      close: async (c) => {
        await c.logout().catch(() => c.close())
      },
    })

  /** Leases a connection for `account`, checks it is logged in as that account, runs a command on it. */
  const use = async (p: ConnectionPool<ImapFlow>, account: string, during?: () => void) => {
    const l = await p.acquire(account)
    if (E.isLeft(l)) throw new Error(JSON.stringify(l.left))
    const st = await l.right.client.status('INBOX', { messages: true })
    expect(st !== false && st.path).toBe('INBOX')
    during?.()
    return l.right
  }

  it('never lets the server see more connections than its size, reuses a connection for the same account and evicts the least recently used', async () => {
    pool = newPool(2)
    const a = await use(pool, 'u1')
    const b = await use(pool, 'u2')
    expect(total(serverConnections(d))).toBe(2)
    expect(established(d.port)).toBe(2)
    // Every slot busy: a third account waits for a release (no login starts).
    let third = false
    const c = pool.acquire('u3').then((r) => {
      third = true
      return r
    })
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
    expect(third).toBe(false)
    expect(pool.stats().logins).toBe(2)
    await a.release()
    // u1's idle connection (the least recently used) is logged out before u3's opens.
    const lc = await c
    if (E.isLeft(lc)) throw new Error(JSON.stringify(lc.left))
    expect(established(d.port)).toBe(2)
    expect(pool.stats().evicted).toBe(1)
    await waitFor('Dovecot to count u1 logged out and u3 in', () => {
      const seen = serverConnections(d)
      return seen.get('u1') === undefined && seen.get('u3') === 1
    })
    await lc.right.release()
    // u2, released and taken again: the same connection, no new login.
    await b.release()
    const logins = pool.stats().logins
    const b2 = await use(pool, 'u2')
    expect(b2.reused).toBe(true)
    expect(b2.client).toBe(b.client)
    expect(pool.stats().logins).toBe(logins)
    await b2.release()
    // Many accounts at once through two slots: the server count never goes above 2.
    let most = 0
    await Promise.all(
      [...USERS, ...USERS, ...USERS].map(async (u) => {
        const l = await use(pool, u, () => (most = Math.max(most, established(d.port))))
        await l.release()
      }),
    )
    expect(most).toBeGreaterThan(0)
    expect(most).toBeLessThanOrEqual(2)
    expect(pool.stats().peak).toBeLessThanOrEqual(2)
    await pool.close()
    expect(established(d.port)).toBe(0)
    await waitFor('Dovecot to count every connection logged out', () => total(serverConnections(d)) === 0, 10_000)
  })

  it('replaces a connection the server dropped (doveadm kick) and never hands it out again', async () => {
    pool = newPool(2)
    const first = await use(pool, 'u4')
    await first.release()
    d.doveadm('kick', 'u4')
    await waitFor('the kicked connection to close', () => !first.client.usable, 10_000)
    const again = await use(pool, 'u4')
    expect(again.reused).toBe(false)
    expect(again.client).not.toBe(first.client)
    expect(pool.stats().replaced).toBe(1)
    // A connection killed while leased is released as dead: the next lease is a new one.
    d.doveadm('kick', 'u4')
    await waitFor('the kicked connection to close', () => !again.client.usable, 10_000)
    await again.release()
    const third = await use(pool, 'u4')
    expect(third.reused).toBe(false)
    expect(third.client).not.toBe(again.client)
    expect(pool.stats().replaced).toBe(2)
    await third.release()
    expect(serverConnections(d).get('u4')).toBe(1)
  })
})
