/**
 * Whether every operation is closed or resumable. An operation is closed when it ended, or when it
 * was interrupted and the same command ran again since (a restore's runs share a resume key; other
 * operations are the same verb with the same words). An interrupted operation not run again since is
 * open: listed with how to resume it, since every kind resumes by running the same command again
 * (a restore skips what it wrote, a scan or an import records nothing twice, a purge deletes the
 * orphans a crash left). It is a problem only when it cannot resume: a restore without a resume key.
 */
import * as E from 'fp-ts/Either'
import { type OperationEvent, type OperationSummary, summarize } from '../../domain/operations'
import type { StoreError } from '../../projections/errors'
import type { OperationLog } from '../store/operationLog'
import type { OpenOperation, OperationsReport, Problem } from './model'

/** Operations that run the same command share a group; the latest run of a group says whether it is settled. */
export const groupOf = (s: OperationSummary): string =>
  s.resumeKey !== undefined ? `key:${s.resumeKey}` : `${s.kind}|${s.verb}|${JSON.stringify(Object.entries(s.params).sort(([a], [b]) => (a < b ? -1 : 1)))}`

const resumeText = (s: OperationSummary): string =>
  `run the same ${s.verb} command again (${
    Object.entries(s.params)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'no words'
  })`

/**
 * Classifies operations fed in start order (oldest first), keeping only the latest run of each
 * group: a store that scans every minute holds hundreds of thousands of operations, and a few groups.
 */
export const operationsFold = () => {
  const latest = new Map<string, OperationSummary>()
  let closed = 0
  let running = 0
  const settle = (s: OperationSummary) => {
    if (s.state === 'running') running++
    else closed++
  }
  return {
    add: (s: OperationSummary): void => {
      const g = groupOf(s)
      const before = latest.get(g)
      // A run of the same command since settles an earlier one, interrupted or not.
      if (before !== undefined) settle(before)
      latest.set(g, s)
    },
    finish: (): { report: Omit<OperationsReport, 'checked'>; problems: Problem[] } => {
      const open: OpenOperation[] = []
      const problems: Problem[] = []
      for (const s of [...latest.values()].sort((a, b) => a.startedAt - b.startedAt || (a.operationId < b.operationId ? -1 : 1))) {
        if (s.state !== 'interrupted') settle(s)
        else if (s.kind === 'restore' && s.resumeKey === undefined)
          problems.push({
            kind: 'operation-not-resumable',
            operationId: s.operationId,
            detail: `${s.verb} was interrupted (process ${s.pid} on ${s.host} is gone) and has no resume key, so running it again would restore everything twice`,
          })
        else open.push({ operationId: s.operationId, kind: s.kind, verb: s.verb, startedAt: s.startedAt, resume: resumeText(s) })
      }
      return { report: { closed, running, open }, problems }
    },
  }
}

/** The same over a list. */
export const classifyOperations = (summaries: readonly OperationSummary[]): { report: Omit<OperationsReport, 'checked'>; problems: Problem[] } => {
  const f = operationsFold()
  for (const s of summaries) f.add(s)
  return f.finish()
}

/** Reads every operation stream, one at a time, and classifies them. */
export const checkOperations = async (
  log: OperationLog,
  isAlive: (host: string, pid: number) => boolean,
  onProgress?: (done: number, total: number) => void,
): Promise<E.Either<StoreError, { report: OperationsReport; problems: Problem[] }>> => {
  const ids = await log.list()()
  if (E.isLeft(ids)) return ids
  const fold = operationsFold()
  const problems: Problem[] = []
  for (const [i, id] of ids.right.entries()) {
    if (i % 100 === 0) onProgress?.(i, ids.right.length)
    const events = await log.read(id)()
    if (E.isLeft(events)) {
      if (events.left._tag !== 'CorruptEvent') return events
      problems.push({
        kind: 'operation-undecodable',
        operationId: id,
        revision: events.left.revision,
        detail: `record ${events.left.revision} of the operation does not decode: ${events.left.reason}`,
      })
      continue
    }
    const s = summarize(events.right as OperationEvent[], isAlive)
    if (s === undefined) {
      problems.push({
        kind: 'operation-without-start',
        operationId: id,
        detail: 'the operation has records but no OperationStarted record: who ran it, and with which words, is lost',
      })
      continue
    }
    // Only what the classification needs is kept, not the items an operation recorded.
    fold.add({ ...s, unrestored: [], notifications: [] })
  }
  const c = fold.finish()
  return E.right({ report: { checked: ids.right.length, ...c.report }, problems: [...problems, ...c.problems] })
}
