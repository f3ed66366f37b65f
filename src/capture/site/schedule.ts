/**
 * The site scheduler (issue 20, item 2): runs the per-account captures of a round and the captures
 * the feeds trigger (spool, NOTIFY, IDLE) with at most `limit` in flight, one connection of the
 * pool each.
 *
 * Guarantees:
 * 1. Never two captures of one account at once (one writer per account stream): a capture asked
 *    for an account that is running waits for it to end.
 * 2. A capture asked for an account that is already waiting is merged into the waiting one (its
 *    payloads merged with `merge`, in the order asked): both callers get the result of that one
 *    capture, which runs after both asked, so it sees what each was asked for.
 * 3. Accounts start in the order first asked (FIFO), skipping those running; at most `limit` run.
 *
 * The decisions are pure (`submitJob`, `startJobs`, `finishJob` on a `Schedule` value); `siteScheduler`
 * runs them with promises.
 */

/** A capture waiting to start: its account and what it was asked for (merged). */
export interface Job<P> {
  readonly account: string
  readonly payload: P
  /** Which submissions it answers (their ids, in the order asked). */
  readonly tickets: readonly number[]
}

export interface Schedule<P> {
  /** Waiting captures, in the order their accounts were first asked; at most one per account. */
  readonly waiting: readonly Job<P>[]
  /** Accounts with a capture in flight. */
  readonly running: ReadonlySet<string>
}

export const emptySchedule = <P>(): Schedule<P> => ({ waiting: [], running: new Set() })

/** Asks for a capture of `account`: merged into the one waiting for it, or queued last. Pure. */
export const submitJob = <P>(s: Schedule<P>, account: string, payload: P, ticket: number, merge: (a: P, b: P) => P): Schedule<P> => {
  const i = s.waiting.findIndex((j) => j.account === account)
  if (i < 0) return { ...s, waiting: [...s.waiting, { account, payload, tickets: [ticket] }] }
  const j = s.waiting[i] as Job<P>
  const merged: Job<P> = { account, payload: merge(j.payload, payload), tickets: [...j.tickets, ticket] }
  return { ...s, waiting: s.waiting.map((x, k) => (k === i ? merged : x)) }
}

/** The waiting captures that may start now (accounts not running, FIFO, up to `limit` in flight), and the schedule once they run. Pure. */
export const startJobs = <P>(s: Schedule<P>, limit: number): { readonly start: readonly Job<P>[]; readonly schedule: Schedule<P> } => {
  const running = new Set(s.running)
  const start: Job<P>[] = []
  const waiting: Job<P>[] = []
  for (const j of s.waiting) {
    if (running.size < limit && !running.has(j.account)) {
      running.add(j.account)
      start.push(j)
    } else waiting.push(j)
  }
  return { start, schedule: { waiting, running } }
}

/** The capture of `account` ended. Pure. */
export const finishJob = <P>(s: Schedule<P>, account: string): Schedule<P> => {
  const running = new Set(s.running)
  running.delete(account)
  return { ...s, running }
}

export interface SiteScheduler<P, R> {
  /** Asks for a capture of `account`; resolves with the result of the capture that took this payload. */
  submit(account: string, payload: P): Promise<R>
  /** Resolves once nothing is waiting or running. */
  idle(): Promise<void>
  /** The most captures ever in flight at once (for tests and reports). */
  readonly peak: () => number
}

/**
 * Runs captures by the schedule: `run(account, payload)` for each job started. A job's rejection
 * rejects every submission it answers (the caller decides what a failure means).
 */
export const siteScheduler = <P, R>(limit: number, run: (account: string, payload: P) => Promise<R>, merge: (a: P, b: P) => P): SiteScheduler<P, R> => {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the scheduler's limit must be a whole number ≥ 1, not ${limit}`)
  let schedule = emptySchedule<P>()
  let nextTicket = 0
  let peak = 0
  const answers = new Map<number, { resolve: (r: R) => void; reject: (e: unknown) => void }>()
  let idleWaiters: (() => void)[] = []
  const pump = (): void => {
    const { start, schedule: after } = startJobs(schedule, limit)
    schedule = after
    peak = Math.max(peak, schedule.running.size)
    for (const job of start) {
      const settle = (f: (a: { resolve: (r: R) => void; reject: (e: unknown) => void }) => void) => {
        schedule = finishJob(schedule, job.account)
        for (const t of job.tickets) {
          const a = answers.get(t)
          answers.delete(t)
          if (a !== undefined) f(a)
        }
        pump()
      }
      // Started on a later tick: `run` never runs inside `submit`.
      void Promise.resolve()
        .then(() => run(job.account, job.payload))
        .then(
          (r) => settle((a) => a.resolve(r)),
          (e: unknown) => settle((a) => a.reject(e)),
        )
    }
    if (schedule.waiting.length === 0 && schedule.running.size === 0) {
      const ws = idleWaiters
      idleWaiters = []
      for (const w of ws) w()
    }
  }
  return {
    submit: (account, payload) =>
      new Promise<R>((resolve, reject) => {
        const ticket = nextTicket++
        answers.set(ticket, { resolve, reject })
        schedule = submitJob(schedule, account, payload, ticket, merge)
        pump()
      }),
    idle: () =>
      schedule.waiting.length === 0 && schedule.running.size === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            idleWaiters.push(resolve)
          }),
    peak: () => peak,
  }
}
