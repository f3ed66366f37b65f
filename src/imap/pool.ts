/**
 * A bounded pool of IMAP connections, each logged in as one account (as the admin on its behalf,
 * or with the account's own password: `connectAs`), for site-wide capture (issue 20, item 2).
 *
 * Guarantees:
 * 1. At most `size` connections exist at once, counting those being opened and those being closed
 *    (an evicted connection is logged out before its slot is reused), so the server never sees more.
 * 2. A connection released in good health stays open, idle, and is handed out again for the same
 *    account (no new login); the least recently used idle one is closed when a slot is needed for
 *    another account and none is free.
 * 3. A connection found dead (the server closed it, `doveadm kick`, a network failure), or released
 *    as broken, is closed and never handed out again; the next `acquire` opens a new one.
 * 4. `acquire` waits, in the order asked, while every slot is busy; `close` logs every connection out
 *    and refuses later `acquire`s.
 */
import * as E from 'fp-ts/Either'
import type { ConnectError } from './connection'

export interface PoolHooks<C> {
  /** Opens a connection logged in as the account. */
  readonly open: (account: string) => Promise<E.Either<ConnectError, C>>
  /** Whether a connection can still be used (imapflow's `usable`). */
  readonly alive: (c: C) => boolean
  /** Logs out (or drops) a connection; never rejects. */
  readonly close: (c: C) => Promise<void>
}

export interface Lease<C> {
  readonly client: C
  /** It was open before this lease (no login was needed). */
  readonly reused: boolean
  /** Gives the connection back: kept for the account when alive and not `broken`, else closed. */
  release(broken?: boolean): Promise<void>
}

export type PoolError = ConnectError | { readonly _tag: 'PoolClosed' }

export interface PoolStats {
  /** Connections open now (busy, idle, or being opened or closed). */
  readonly open: number
  readonly busy: number
  /** The most connections ever open at once. */
  readonly peak: number
  /** Logins made, and leases served by a connection already open. */
  readonly logins: number
  readonly reuses: number
  /** Connections closed because they were found dead or released broken. */
  readonly replaced: number
  /** Idle connections closed to make room for another account. */
  readonly evicted: number
}

export interface ConnectionPool<C> {
  acquire(account: string): Promise<E.Either<PoolError, Lease<C>>>
  stats(): PoolStats
  close(): Promise<void>
}

interface Idle<C> {
  readonly account: string
  readonly client: C
}

export const connectionPool = <C>(size: number, hooks: PoolHooks<C>): ConnectionPool<C> => {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`the pool's size must be a whole number ≥ 1, not ${size}`)
  /** Idle connections, least recently used first. */
  let idle: Idle<C>[] = []
  /** Slots taken: busy connections, and connections being opened or closed. */
  let taken = 0
  let closed = false
  let peak = 0
  let logins = 0
  let reuses = 0
  let replaced = 0
  let evicted = 0
  const waiters: (() => void)[] = []
  const occupied = (): number => taken + idle.length
  const wakeOne = (): void => waiters.shift()?.()

  /** Frees a slot after closing `c`. */
  const drop = async (c: C): Promise<void> => {
    try {
      await hooks.close(c)
    } finally {
      taken--
      wakeOne()
    }
  }

  const lease = (account: string, client: C, reused: boolean): Lease<C> => {
    let released = false
    return {
      client,
      reused,
      release: async (broken = false) => {
        if (released) return
        released = true
        if (!hooks.alive(client)) {
          // Already closed: its slot is free at once (holding it while the close settles would
          // evict a healthy connection of another account for nothing).
          replaced++
          taken--
          wakeOne()
          await hooks.close(client)
          return
        }
        if (broken || closed) {
          if (broken) replaced++
          await drop(client)
          return
        }
        taken--
        idle.push({ account, client })
        wakeOne()
      },
    }
  }

  const acquire = async (account: string): Promise<E.Either<PoolError, Lease<C>>> => {
    for (;;) {
      if (closed) return E.left({ _tag: 'PoolClosed' })
      // Dead idle connections are forgotten, whoever they were for: already closed, they free their slot at once.
      for (const d of idle.filter((i) => !hooks.alive(i.client))) {
        idle = idle.filter((i) => i !== d)
        replaced++
        void hooks.close(d.client)
      }
      const mine = idle.findIndex((i) => i.account === account)
      if (mine >= 0) {
        const [i] = idle.splice(mine, 1) as [Idle<C>]
        taken++
        reuses++
        return E.right(lease(account, i.client, true))
      }
      if (occupied() < size) {
        taken++
        peak = Math.max(peak, occupied())
        logins++
        let opened: E.Either<ConnectError, C>
        try {
          opened = await hooks.open(account)
        } catch (e) {
          taken--
          wakeOne()
          throw e
        }
        if (E.isLeft(opened)) {
          taken--
          wakeOne()
          return opened
        }
        if (closed) {
          await drop(opened.right)
          return E.left({ _tag: 'PoolClosed' })
        }
        return E.right(lease(account, opened.right, false))
      }
      const lru = idle.shift()
      if (lru !== undefined) {
        // Logged out before the slot is reused: the server never sees more than `size`.
        evicted++
        taken++
        await drop(lru.client)
        continue
      }
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }

  return {
    acquire,
    stats: () => ({ open: occupied(), busy: taken, peak, logins, reuses, replaced, evicted }),
    close: async () => {
      closed = true
      const all = idle
      idle = []
      taken += all.length
      await Promise.all(all.map((i) => drop(i.client)))
      for (const w of waiters.splice(0)) w()
    },
  }
}
