/**
 * Durable jobs: long work started from the web console (restores that write, exports) kept in the
 * store when several server processes share it (PostgreSQL), so that any of them runs it and
 * another takes it over when the one running it dies. A job is its route's verb and validated
 * parameters, which every server process can turn back into the same use case call; what the use
 * case itself records (a restore's journal in the operations stream) is how a job taken over
 * resumes instead of starting again.
 */
import type * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../projections/errors'

export type QueuedJobState = 'queued' | 'running' | 'done' | 'partial' | 'stopped' | 'failed'

export interface QueuedJob {
  readonly id: string
  readonly verb: string
  readonly words: readonly string[]
  /** The validated parameters the job's route is called with again. */
  readonly params: Record<string, string>
  readonly state: QueuedJobState
  readonly label: string
  readonly done: number
  readonly total: number
  readonly notes: readonly string[]
  readonly createdAt: number
  readonly startedAt: number | null
  readonly endedAt: number | null
  readonly result: unknown
  readonly error: string | null
  readonly status: number | null
  /** The server process running it now (or last), and how many times one started it. */
  readonly holder: string | null
  readonly attempts: number
}

export interface JobProgress {
  readonly label: string
  readonly done: number
  readonly total: number
  readonly notes: readonly string[]
}

export interface JobEnd {
  readonly state: 'done' | 'partial' | 'stopped' | 'failed'
  readonly result: unknown
  readonly error: string | null
  readonly status: number | null
}

export interface JobQueue {
  /** Queues a job unless the same verb with the same words is queued or running (then that one, and false). */
  enqueue(verb: string, words: readonly string[], params: Record<string, string>): TE.TaskEither<StoreError, { id: string; started: boolean }>
  /** Takes the oldest queued job, or a running one whose holder stopped renewing it; undefined when none. */
  claim(holder: string, ttlMs: number): TE.TaskEither<StoreError, QueuedJob | undefined>
  /** Renews the holder's claim and records progress; false when the job is no longer its own. */
  heartbeat(holder: string, id: string, ttlMs: number, progress: JobProgress): TE.TaskEither<StoreError, boolean>
  finish(holder: string, id: string, end: JobEnd, progress: JobProgress): TE.TaskEither<StoreError, void>
  get(id: string): TE.TaskEither<StoreError, QueuedJob | undefined>
  /** The newest jobs first, at most `limit`. */
  list(limit: number): TE.TaskEither<StoreError, QueuedJob[]>
}
