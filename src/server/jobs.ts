/**
 * Long work started from the console (a restore that writes, an export) runs as a job: the request
 * returns at once with the job's id, and the page polls the job for its progress and, at the end,
 * the use case's report (its `--json` document) or its error. Restores are also recorded in the
 * operations stream by the use case itself; a job is only the server's view of a run it started,
 * kept in memory.
 */
import { randomBytes } from 'crypto'
import * as E from 'fp-ts/Either'
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
