/**
 * A worker's side of the leases: a heartbeat that renews what it holds, gives back what exceeds its
 * fair share and takes free or expired leases up to it (planLeases), and the answer to "may I
 * capture this account now?" that the capture loop (or a scheduler) asks before and during each
 * capture.
 *
 * Fencing: a worker stops writing an account before its lease can have expired on the database's
 * clock. The local deadline is measured on this process's monotonic clock from the moment the last
 * successful renewal was *sent* (the database dated the expiry later than that), minus a margin:
 * a worker cut off from the database stops capturing `ttl - margin` after its last renewal, before
 * another can take over. A capture that straddles the deadline stops after its current batch; the
 * event store's expected revisions refuse a batch written against a revision another worker moved
 * on from (ConcurrencyConflict), and event ids derived from the facts refuse a fact recorded twice.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { type StoreError, describeStoreError } from '../../../projections/errors'
import { type AccountLeases, DEFAULT_LEASE_TIMING, type Holder, type LeaseTiming, planLeases } from './leases'

export interface FleetMember {
  readonly holder: Holder
  readonly leases: AccountLeases
  /** Whether this worker may write the account now: it holds the lease and the lease cannot have lapsed. */
  holds(account: string): boolean
  /** The accounts it holds now. */
  held(): string[]
  /** Starts a capture of a held account (its lease is not given back meanwhile); false when not held. */
  begin(account: string): boolean
  /** Ends it, recording its outcome for the status (null: read everything; undefined: nothing to record). */
  end(account: string, error: string | null | undefined): Promise<void>
  /** Takes one account's lease now if nobody else holds it (a single run without watch); false when another worker holds it. */
  claim(account: string): Promise<boolean>
  /** Gives one account's lease back now. */
  release(account: string): Promise<void>
  roundDone(): Promise<void>
  /** One heartbeat now (the timer runs them every `heartbeatMs`). */
  beat(): Promise<void>
  /** Stops the heartbeat and leaves the fleet (every lease given back). */
  stop(): Promise<void>
}

export interface MemberDeps {
  /** The accounts the worker knows of (they may grow, as a feed names new ones). */
  readonly accounts: () => readonly string[]
  readonly timing?: LeaseTiming
  /** Monotonic milliseconds (performance.now): never goes back when the wall clock is set. */
  readonly clock?: () => number
  /** A line for people (a renewal that failed, leases gained or lost). */
  readonly note?: (line: string) => void
  /** Called after a heartbeat that took leases (a capture loop starts them at once). */
  readonly onGained?: (accounts: readonly string[]) => void
  /** With false, no timer: the caller beats (tests). */
  readonly heartbeat?: boolean
  /**
   * With false, a heartbeat only renews: no share is taken or given back (a single run without
   * watch takes each account with `claim` as it comes to it).
   */
  readonly share?: boolean
  /** Shuffles candidate accounts so that workers starting together do not all reach for the same ones first. */
  readonly shuffle?: <A>(xs: readonly A[]) => A[]
}

const randomShuffle = <A>(xs: readonly A[]): A[] => {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[a[i], a[j]] = [a[j] as A, a[i] as A]
  }
  return a
}

const run = async <A>(te: TE.TaskEither<StoreError, A>): Promise<E.Either<StoreError, A>> => te()

/** Joins the fleet: the first heartbeat runs before this returns, so its leases are known at once. */
export const joinFleet = async (leases: AccountLeases, holder: Holder, deps: MemberDeps): Promise<E.Either<StoreError, FleetMember>> => {
  const timing = deps.timing ?? DEFAULT_LEASE_TIMING
  const clock = deps.clock ?? (() => performance.now())
  const note = deps.note ?? (() => undefined)
  const shuffle = deps.shuffle ?? randomShuffle
  // A renewal is trusted for the lease's time to live less a fifth of it (2 s of 10): slack for the
  // round trip and for the database's clock and this one running at slightly different rates.
  const margin = Math.max(timing.heartbeatMs, timing.ttlMs / 5)
  let held = new Set<string>()
  let trustedUntil = Number.NEGATIVE_INFINITY
  const busy = new Set<string>()
  let failing = false
  let stopped = false
  let beating: Promise<void> = Promise.resolve()
  let timer: NodeJS.Timeout | undefined

  const holds = (a: string) => held.has(a) && clock() < trustedUntil

  const beatOnce = async (): Promise<E.Either<StoreError, void>> => {
    const sent = clock()
    const r = await run(leases.renew(holder, timing.ttlMs))
    if (E.isLeft(r)) return r
    // Leases nobody else can take (one process per store) need no fencing: a long pause of this
    // process (a large synchronous SQLite append) must not stop its captures.
    trustedUntil = leases.shared ? sent + timing.ttlMs - margin : Number.POSITIVE_INFINITY
    const before = held
    held = new Set(r.right.held)
    const lost = [...before].filter((a) => !held.has(a))
    if (lost.length > 0) note(`mailtime: leases lost (taken over after expiring): ${lost.join(', ')}`)
    if (deps.share === false) return E.right(undefined)
    const plan = planLeases({ accounts: deps.accounts(), held: [...held], heldByOthers: r.right.heldByOthers, live: r.right.live, busy })
    if (plan.release.length > 0) {
      const rel = await run(leases.release(holder, plan.release))
      if (E.isLeft(rel)) return rel
      for (const a of plan.release) held.delete(a)
    }
    if (plan.max > 0 && plan.acquire.length > 0) {
      const got = await run(leases.acquire(holder, shuffle(plan.acquire), plan.max, timing.ttlMs))
      if (E.isLeft(got)) return got
      for (const a of got.right) held.add(a)
      if (got.right.length > 0) deps.onGained?.(got.right)
    }
    return E.right(undefined)
  }

  const beat = (): Promise<void> => {
    beating = beating.then(async () => {
      if (stopped) return
      const r = await beatOnce()
      if (E.isLeft(r) && !failing)
        note(
          `mailtime: capture leases at ${leases.description}: ${describeStoreError(r.left)}; this worker stops capturing its accounts if this lasts ${Math.round((timing.ttlMs - margin) / 1000)} s`,
        )
      else if (E.isRight(r) && failing) note(`mailtime: capture leases at ${leases.description}: renewed again`)
      failing = E.isLeft(r)
    })
    return beating
  }

  const first = await beatOnce()
  if (E.isLeft(first)) return first
  const schedule = () => {
    timer = setTimeout(() => {
      void beat().then(() => {
        if (!stopped) schedule()
      })
    }, timing.heartbeatMs)
    timer.unref()
  }
  if (deps.heartbeat !== false) schedule()

  return E.right({
    holder,
    leases,
    holds,
    held: () => [...held].filter(holds),
    begin: (a) => {
      if (!holds(a)) return false
      busy.add(a)
      return true
    },
    end: async (a, error) => {
      busy.delete(a)
      if (error === undefined) return
      const r = await run(leases.record(holder, a, error))
      if (E.isLeft(r)) note(`mailtime: capture leases at ${leases.description}: ${describeStoreError(r.left)}`)
    },
    claim: async (a) => {
      if (holds(a)) return true
      const got = await run(leases.acquire(holder, [a], 1, timing.ttlMs))
      if (E.isLeft(got)) return false
      if (got.right.includes(a)) {
        held.add(a)
        // A renewal sent now covers the lease just taken for the whole time to live.
        await beat()
        return holds(a)
      }
      return false
    },
    release: async (a) => {
      if (busy.has(a)) return
      held.delete(a)
      await run(leases.release(holder, [a]))
    },
    roundDone: async () => {
      const r = await run(leases.roundDone(holder))
      if (E.isLeft(r)) note(`mailtime: capture leases at ${leases.description}: ${describeStoreError(r.left)}`)
    },
    beat,
    stop: async () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
      await beating
      held = new Set()
      await run(leases.leave(holder))
    },
  })
}
