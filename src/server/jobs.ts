/**
 * Long work started from the console (a restore that writes, an export) runs as a job: the request
 * returns at once with the job's id, and the page polls the job for its progress and, at the end,
 * the use case's report (its `--json` document) or its error. Restores are also recorded in the
 * operations stream by the use case itself. With a SQLite store a job is the server's view of a run
 * it started, kept in memory (`jobs`); with a PostgreSQL store jobs are rows of the store that any
 * server process sharing it runs, and another takes over when that one dies (`durableBoard`).
 */
import { randomBytes } from 'crypto'
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { type StoreError, StoreErrorRaised, describeStoreError } from '../../projections/errors'
import type { JobEnd, JobQueue, QueuedJob } from '../app/jobQueue'
import type { AppError, Outcome } from '../app/errors'
import type { Progress } from '../app/ports'
import { explainAppError, explainThrown } from './explain'

export type JobState = 'running' | Outcome

export interface JobView {
  readonly id: string
  readonly verb: string
  /** What identifies the same command (its decoded parameters). */
  readonly words: readonly string[]
  readonly state: JobState
  readonly label: string
  readonly done: number
  readonly total: number
  readonly notes: readonly string[]
  readonly startedAt: string
  readonly endedAt: string | null
  /** The use case's `--json` document, once it ended with one. */
  readonly result: unknown
  readonly error: string | null
  /** The HTTP status its failure maps to (400 bad input, 404 unknown, …), or null. */
  readonly status: number | null
}

/** What a job's work returns: the use case's Either, whose Right carries its document and outcome. */
export type JobRun = (progress: Progress, note: (line: string) => void) => Promise<E.Either<AppError, { readonly json: unknown; readonly outcome?: Outcome }>>

const KEEP = 200

export interface Jobs {
  /**
   * Starts `run` unless the same verb with the same words is running (then returns that job's id
   * and false: running one restore twice at once would race on its journal).
   */
  start(verb: string, words: readonly string[], run: JobRun): { id: string; started: boolean }
  get(id: string): JobView | undefined
  list(): JobView[]
  /** Resolves when no job is running. */
  settled(): Promise<void>
}

export const jobs = (now: () => number = Date.now): Jobs => {
  const all = new Map<string, JobView>()
  const running = new Map<string, Promise<void>>()
  const update = (id: string, patch: Partial<JobView>) => {
    const j = all.get(id)
    if (j !== undefined) all.set(id, { ...j, ...patch })
  }
  const iso = (ms: number) => new Date(ms).toISOString()
  return {
    start: (verb, words, run) => {
      const same = [...all.values()].find((j) => j.state === 'running' && j.verb === verb && JSON.stringify(j.words) === JSON.stringify(words))
      if (same !== undefined) return { id: same.id, started: false }
      const id = `job-${randomBytes(6).toString('hex')}`
      all.set(id, { id, verb, words, state: 'running', label: verb, done: 0, total: 0, notes: [], startedAt: iso(now()), endedAt: null, result: null, error: null, status: null })
      for (const old of [...all.keys()].slice(0, Math.max(0, all.size - KEEP))) if (!running.has(old)) all.delete(old)
      const progress: Progress = {
        start: (label, total) => update(id, { label, total, done: 0 }),
        update: (done) => update(id, { done }),
        stop: () => undefined,
      }
      const note = (line: string) => update(id, { notes: [...(all.get(id)?.notes ?? []), line].slice(-20) })
      const fail = (x: { status: number; message: string }) => update(id, { state: 'failed', error: x.message, status: x.status, endedAt: iso(now()) })
      const p = (async () => {
        try {
          const out = await run(progress, note)
          if (E.isLeft(out)) fail(explainAppError(out.left))
          else update(id, { state: out.right.outcome ?? 'done', result: out.right.json, endedAt: iso(now()) })
        } catch (e) {
          fail(explainThrown(e))
        } finally {
          running.delete(id)
        }
      })()
      running.set(id, p)
      return { id, started: true }
    },
    get: (id) => all.get(id),
    list: () => [...all.values()],
    settled: async () => {
      while (running.size > 0) await Promise.all([...running.values()])
    },
  }
}

/**
 * What the server's routes use: the in-memory registry above (one process, SQLite), or jobs kept in
 * the store (`durableBoard`, PostgreSQL), where any server process sharing the store runs them.
 */
export interface JobBoard {
  /** `params` are the route's validated parameters: a durable job is called again from them. */
  start(verb: string, words: readonly string[], params: Record<string, string>, run: JobRun): Promise<{ id: string; started: boolean }>
  get(id: string): Promise<JobView | undefined>
  list(): Promise<JobView[]>
  /** Stops taking jobs and resolves when none this process runs is running. */
  close(): Promise<void>
}

export const memoryBoard = (j: Jobs): JobBoard => ({
  start: async (verb, words, _params, run) => j.start(verb, words, run),
  get: async (id) => j.get(id),
  list: async () => j.list(),
  close: () => j.settled(),
})

const viewOf = (q: QueuedJob): JobView => ({
  id: q.id,
  verb: q.verb,
  words: q.words,
  // The page polls a job until it is no longer running: a queued job is running, as far as it is concerned.
  state: q.state === 'queued' ? 'running' : q.state,
  label: q.state === 'queued' ? 'queued: waiting for a server process' : q.label,
  done: q.done,
  total: q.total,
  notes: q.attempts > 1 ? [`taken over by ${q.holder ?? 'another server process'} (attempt ${q.attempts}): the run resumes from its journal`, ...q.notes].slice(-20) : q.notes,
  startedAt: new Date(q.startedAt ?? q.createdAt).toISOString(),
  endedAt: q.endedAt === null ? null : new Date(q.endedAt).toISOString(),
  result: q.result,
  error: q.error,
  status: q.status,
})

export interface DurableOptions {
  /** This server process (host:pid:random). */
  readonly holder: string
  /** How long a claim lasts without a heartbeat: a job whose server died is taken over after it. */
  readonly ttlMs?: number
  /** How often the process looks for jobs and renews those it runs. */
  readonly pollMs?: number
  /** Jobs one process runs at once. */
  readonly concurrency?: number
  /** A line for the server's log (a store that failed). */
  readonly log?: (line: string) => void
}

/**
 * Jobs in the store: `start` queues a row; every server process polls, claims the oldest queued job
 * (or one whose holder's claim expired) and calls its route again from the stored parameters,
 * renewing its claim and recording progress at each poll. A job taken over after a crash is the same
 * command run again: a restore finds its journal in the operations stream (same resume key) and
 * writes only what the first run did not.
 */
export const durableBoard = (queue: JobQueue, runnerOf: (verb: string, params: Record<string, string>) => JobRun | undefined, o: DurableOptions): JobBoard => {
  const ttl = o.ttlMs ?? 15_000
  const poll = o.pollMs ?? 1_000
  const max = o.concurrency ?? 2
  const log = o.log ?? (() => undefined)
  const mine = new Map<string, Promise<void>>()
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const must = async <A>(te: TE.TaskEither<StoreError, A>): Promise<A> => {
    const r = await te()
    if (E.isLeft(r)) throw new StoreErrorRaised(r.left)
    return r.right
  }

  const runOne = async (q: QueuedJob): Promise<void> => {
    const p = { label: q.label, done: q.done, total: q.total, notes: [...q.notes] }
    const progress: Progress = {
      start: (label, total) => Object.assign(p, { label, total, done: 0 }),
      update: (done) => Object.assign(p, { done }),
      stop: () => undefined,
    }
    const note = (line: string) => {
      p.notes = [...p.notes, line].slice(-20)
    }
    const beat = setInterval(() => {
      void queue
        .heartbeat(o.holder, q.id, ttl, p)()
        .then((r) => {
          if (E.isLeft(r)) log(`job ${q.id}: ${describeStoreError(r.left)}`)
          else if (!r.right) log(`job ${q.id}: no longer this process's (its claim expired and another took it over)`)
        })
    }, poll)
    let end: JobEnd
    try {
      const run = runnerOf(q.verb, q.params)
      if (run === undefined) end = { state: 'failed', result: null, error: `no route runs ${q.verb} with these parameters`, status: 400 }
      else {
        const out = await run(progress, note)
        if (E.isLeft(out)) {
          const x = explainAppError(out.left)
          end = { state: 'failed', result: null, error: x.message, status: x.status }
        } else end = { state: out.right.outcome ?? 'done', result: out.right.json, error: null, status: null }
      }
    } catch (e) {
      const x = explainThrown(e)
      end = { state: 'failed', result: null, error: x.message, status: x.status }
    } finally {
      clearInterval(beat)
    }
    const f = await queue.finish(o.holder, q.id, end, p)()
    if (E.isLeft(f)) log(`job ${q.id}: its end could not be recorded: ${describeStoreError(f.left)}`)
  }

  const take = async (): Promise<void> => {
    while (!closed && mine.size < max) {
      const c = await queue.claim(o.holder, ttl)()
      if (E.isLeft(c)) {
        log(`jobs: ${describeStoreError(c.left)}`)
        return
      }
      const q = c.right
      if (q === undefined) return
      const p = runOne(q).finally(() => mine.delete(q.id))
      mine.set(q.id, p)
    }
  }
  let taking: Promise<void> = Promise.resolve()
  const wake = () => {
    taking = taking.then(take)
    return taking
  }
  const schedule = () => {
    timer = setTimeout(() => {
      void wake().then(() => {
        if (!closed) schedule()
      })
    }, poll)
    timer.unref()
  }
  schedule()
  // Jobs left by a server that stopped are taken at once.
  void wake()

  return {
    start: async (verb, words, params) => {
      const r = await must(queue.enqueue(verb, words, params))
      void wake()
      return r
    },
    get: async (id) => {
      const q = await must(queue.get(id))
      return q === undefined ? undefined : viewOf(q)
    },
    list: async () => (await must(queue.list(KEEP))).map(viewOf),
    close: async () => {
      closed = true
      if (timer !== undefined) clearTimeout(timer)
      await taking
      while (mine.size > 0) await Promise.all([...mine.values()])
    },
  }
}
