/**
 * Operations as use cases: the ONE path that records an operation other than a restore (a purge, a
 * legal hold change, an export, a scan, an import) with its operator as a value, and the reads of
 * the operations streams: the list, one operation in detail, and a stop request.
 */
import type * as E from 'fp-ts/Either'
import { type OperationStatus, type OperationSummary, summarize } from '../../domain/operations'
import { recordOperation } from '../operations/record'
import { type AppError, attempt, conflictError, fail, notFoundError } from './errors'
import { when } from './json'
import type { AppDeps } from './ports'
import { must } from './support'

/** What a recorded operation says of itself: its kind, verb and the words it was given. */
export interface OperationHead {
  readonly kind: string
  readonly verb: string
  readonly params: Readonly<Record<string, string>>
}

export interface Recorded<A> {
  readonly result: A
  readonly status: OperationStatus
  readonly counts: Readonly<Record<string, number>>
}

/**
 * Runs `body` as an operation: its start (who: `deps.operator`, when, with which words), then its
 * end with its status and counts, or `failed` with the error, which is then rethrown.
 */
export const recorded = async <A>(deps: AppDeps, head: OperationHead, body: (operationId: string) => Promise<Recorded<A>>): Promise<{ operationId: string; result: A }> =>
  recordOperation((await deps.backend()).operations, { ...head, initiator: deps.operator.initiator, host: deps.operator.host, pid: deps.operator.pid, now: deps.now }, body)

export const summaryJson = (s: OperationSummary, zone: string) => ({
  operationId: s.operationId,
  kind: s.kind,
  verb: s.verb,
  params: s.params,
  state: s.state,
  initiator: s.initiator,
  host: s.host,
  pid: s.pid,
  startedAt: when(s.startedAt, zone),
  endedAt: when(s.endedAt, zone),
  total: s.total ?? null,
  restored: s.restored,
  skipped: s.skipped,
  unrestored: s.unrestored.map((u) => ({ account: u.account, itemId: u.itemId, reason: u.reason ?? '' })),
  stopRequested: s.stopRequested,
  notifications: s.notifications,
  target: s.target ?? null,
  error: s.error ?? null,
})

const load = async (deps: AppDeps, id: string): Promise<OperationSummary> => {
  const s = summarize(await must((await deps.backend()).operations.read(id)), deps.isAlive)
  return s ?? fail(notFoundError(`no operation ${JSON.stringify(id)} (getAllOperations lists them)`))
}

export interface OperationsResult {
  readonly json: { readonly operations: readonly ReturnType<typeof summaryJson>[] }
  readonly operations: readonly OperationSummary[]
}

export const listOperations = (deps: AppDeps, req: { readonly state?: string } = {}): Promise<E.Either<AppError, OperationsResult>> =>
  attempt(async () => {
    const log = (await deps.backend()).operations
    const all: OperationSummary[] = []
    for (const id of await must(log.list())) {
      const s = summarize(await must(log.read(id)), deps.isAlive)
      if (s !== undefined && (req.state === undefined || s.state === req.state)) all.push(s)
    }
    return { operations: all, json: { operations: all.map((s) => summaryJson(s, deps.zone)) } }
  })

export interface OperationResult {
  readonly json: ReturnType<typeof summaryJson>
  readonly summary: OperationSummary
}

export const getOperation = (deps: AppDeps, req: { readonly operationId: string }): Promise<E.Either<AppError, OperationResult>> =>
  attempt(async () => {
    const s = await load(deps, req.operationId)
    return { summary: s, json: summaryJson(s, deps.zone) }
  })

export const stopOperation = (deps: AppDeps, req: { readonly operationId: string }): Promise<E.Either<AppError, { readonly json: { operationId: string; stopRequested: true } }>> =>
  attempt(async () => {
    const id = req.operationId
    const s = await load(deps, id)
    if (s.state !== 'running') fail(conflictError(`operation ${id} is not running (state: ${s.state})`))
    await must((await deps.backend()).operations.append(id, [{ type: 'StopRequested', operationId: id, at: deps.now(), by: deps.operator.initiator }]))
    return { json: { operationId: id, stopRequested: true } }
  })
