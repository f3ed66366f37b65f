/**
 * Capture driven by change feeds (issue 20, item 1): each batch of the Dovecot spool, or each NOTIFY
 * signal, triggers a targeted capture of the accounts it names, which fetches new bodies at once and
 * dates the changes at the feed's instants. The capture itself (a scan of one account, which lists
 * the account's folders with their status in one command and reads only the folders whose status
 * changed: the folders signalled, and any other that changed meanwhile) is a port.
 *
 * Guarantees:
 * 1. Nothing lost across a crash: a spool batch's position is committed only after every capture
 *    it triggered has recorded, or has failed in a way the caller takes over (`onFailed`: a catch-up
 *    of that account in the next round). A process killed while processing a batch reads that batch
 *    again when it starts; the captures it triggers again find what is already recorded.
 * 2. One capture of an account at a time (the site scheduler, src/capture/site/schedule.ts, or
 *    `accountQueue`): the spool, NOTIFY and the polling round never scan one account concurrently
 *    (one writer per account stream); the accounts of a spool batch are captured concurrently.
 * 3. A failure that concerns the store (`fatal`), or a capture stopped before it recorded
 *    everything, stops the feed without committing: the position stays before the batch.
 * 4. The mail server never waits on this: the spool is a file the server appends to; NOTIFY is
 *    read from a connection the server writes to.
 */
import * as E from 'fp-ts/Either'
import { describeSpoolProblem } from './spoolLine'
import { type ChangeSignal, signalsOfRecord } from './signals'
import type { FollowerError, SpoolFailure, SpoolFollower } from './spoolFollower'

export type CaptureResult =
  | { readonly _tag: 'Captured'; readonly events: number }
  /** Stopped (SIGTERM) before it recorded everything: the batch is not committed, and is read again at the next start. */
  | { readonly _tag: 'Interrupted' }
  /** `fatal`: the store failed (stop); otherwise the account could not be captured now (retry later). */
  | { readonly _tag: 'Failed'; readonly reason: string; readonly fatal: boolean }

/** Captures one account now, the signals dating what it records. */
export type CaptureAccount = (account: string, signals: readonly ChangeSignal[]) => Promise<CaptureResult>

/** Runs tasks one after another per key, concurrently across keys. */
export const accountQueue = () => {
  const tails = new Map<string, Promise<unknown>>()
  return <A>(account: string, task: () => Promise<A>): Promise<A> => {
    const before = tails.get(account) ?? Promise.resolve()
    const run = before.then(task, task)
    const tail = run.catch(() => undefined)
    tails.set(account, tail)
    void tail.then(() => {
      if (tails.get(account) === tail) tails.delete(account)
    })
    return run
  }
}

/** Signals grouped by account, accounts in the order they were first signalled. Pure. */
export const byAccount = (signals: readonly ChangeSignal[]): Map<string, ChangeSignal[]> => {
  const out = new Map<string, ChangeSignal[]>()
  for (const s of signals) {
    const list = out.get(s.account)
    if (list === undefined) out.set(s.account, [s])
    else list.push(s)
  }
  return out
}

export const describeSpoolFailure = (f: SpoolFailure): string => `${f.path}: ${f.reason}`

export const describeFollowerError = (e: FollowerError): string => {
  switch (e._tag) {
    case 'CheckpointUnreadable':
    case 'CheckpointUnwritable':
      return `the change feed's checkpoint ${e.name} cannot be ${e._tag === 'CheckpointUnreadable' ? 'read' : 'written'}: ${JSON.stringify(e.error)}`
    case 'CheckpointInvalid':
      return e.reason
  }
}

export interface SpoolCaptureOptions {
  /** Folders whose changes trigger nothing (lazy_expunge's EXPUNGED). */
  readonly ignoreMailboxes?: readonly string[]
  /** Which accounts to capture (default: every account the spool names: site-wide). */
  readonly accept?: (account: string) => boolean
  /** Problems with lines or the spool, and captures that failed: for the log. */
  readonly note: (line: string) => void
  /** An account whose capture failed (not fatally): the caller captures it again later, with these signals. */
  readonly onFailed: (account: string, signals: readonly ChangeSignal[], reason: string) => void
  /** After a batch's captures recorded, before its position is committed (fault injection in tests). */
  readonly beforeCommit?: () => Promise<void>
}

export type SpoolCaptureError = { readonly _tag: 'Follower'; readonly error: FollowerError } | { readonly _tag: 'Capture'; readonly account: string; readonly reason: string }

export const describeSpoolCaptureError = (e: SpoolCaptureError): string =>
  e._tag === 'Follower' ? describeFollowerError(e.error) : `capturing ${e.account} from the change feed: ${e.reason}`

/** Follows the spool until the follower is stopped (Right) or a fatal error (Left, nothing more committed). */
export const captureFromSpool = async (follower: SpoolFollower, capture: CaptureAccount, o: SpoolCaptureOptions): Promise<E.Either<SpoolCaptureError, void>> => {
  const ignore = o.ignoreMailboxes ?? []
  for await (const batch of follower.batches()) {
    for (const p of batch.problems) o.note(`mailtime: change feed: ${describeSpoolProblem(p)}`)
    for (const f of batch.failures) o.note(`mailtime: change feed: ${describeSpoolFailure(f)}`)
    const signals = batch.records.flatMap((r) => signalsOfRecord(r, { ignoreMailboxes: ignore }))
    // The batch's accounts are captured together (the caller bounds how many at once: the site
    // scheduler); the batch is committed only once every one has recorded or been handed over.
    const wanted = [...byAccount(signals)].filter(([account]) => o.accept === undefined || o.accept(account))
    const results = await Promise.all(wanted.map(async ([account, list]) => ({ account, list, r: await capture(account, list) })))
    for (const { account, list, r } of results) {
      if (r._tag === 'Interrupted') {
        follower.stop()
        return E.right(undefined)
      }
      if (r._tag === 'Failed') {
        if (r.fatal) {
          follower.stop()
          return E.left({ _tag: 'Capture', account, reason: r.reason })
        }
        o.note(`mailtime: ${account}: the capture the change feed triggered failed (${r.reason}); the next round captures it`)
        o.onFailed(account, list, r.reason)
      }
    }
    await o.beforeCommit?.()
    const c = await follower.commit(batch.position)
    if (E.isLeft(c)) {
      follower.stop()
      return E.left({ _tag: 'Follower', error: c.left })
    }
    for (const f of c.right.failures) o.note(`mailtime: change feed: ${describeSpoolFailure(f)}`)
  }
  return E.right(undefined)
}

/**
 * Captures an account soon after it is signalled (NOTIFY): one capture at a time per account; the
 * signals that arrive while one runs are all taken by the next. `onResult` hears every outcome (a
 * failure is retried by the next round).
 */
export const triggerOnSignal = (capture: CaptureAccount, onResult: (account: string, r: CaptureResult, signals: readonly ChangeSignal[]) => void) => {
  const waiting = new Map<string, ChangeSignal[]>()
  const running = new Set<string>()
  const run = async (account: string): Promise<void> => {
    running.add(account)
    try {
      for (let taken = waiting.get(account); taken !== undefined; taken = waiting.get(account)) {
        waiting.delete(account)
        const r = await capture(account, taken).catch((e: unknown): CaptureResult => ({ _tag: 'Failed', reason: String(e), fatal: true }))
        onResult(account, r, taken)
      }
    } finally {
      running.delete(account)
    }
  }
  return (account: string, signals: readonly ChangeSignal[]): void => {
    const list = waiting.get(account)
    if (list !== undefined) list.push(...signals)
    else waiting.set(account, [...signals])
    if (!running.has(account)) void run(account)
  }
}
