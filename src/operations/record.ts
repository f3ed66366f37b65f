/**
 * Records an operation other than a restore (a purge, a legal hold change, a scan, an import) in the
 * operations stream: who ran it, when, with which parameters, and how it ended, for the audit trail
 * `getAllOperations` shows. A failure is recorded and then rethrown.
 */
import type { OperationStatus, OperationSummary } from '../../domain/operations'
import { orRaise } from '../../projections/errors'
import type { OperationLog } from '../store/operationLog'
import { newOperationId } from './operationId'

/** What the start record says of an operation, and the clock for its records. */
export type OperationMeta = Pick<OperationSummary, 'kind' | 'verb' | 'params' | 'initiator' | 'host' | 'pid'> & { readonly now: () => number }

export interface OperationOutcome<A> {
  readonly result: A
  readonly status: OperationStatus
  readonly counts: Readonly<Record<string, number>>
}

export const recordOperation = async <A>(
  log: OperationLog,
  meta: OperationMeta,
  body: (operationId: string) => Promise<OperationOutcome<A>>,
): Promise<{ operationId: string; result: A }> => {
  const operationId = newOperationId(meta.now())
  await orRaise(
    log.append(operationId, [
      {
        type: 'OperationStarted',
        operationId,
        at: meta.now(),
        kind: meta.kind,
        verb: meta.verb,
        params: { ...meta.params },
        initiator: meta.initiator,
        host: meta.host,
        pid: meta.pid,
      },
    ]),
  )
  let out: OperationOutcome<A>
  try {
    out = await body(operationId)
  } catch (e) {
    await orRaise(
      log.append(operationId, [
        { type: 'OperationEnded', operationId, at: meta.now(), status: 'failed', restored: 0, skipped: 0, unrestored: 0, error: e instanceof Error ? e.message : String(e) },
      ]),
    ).catch(() => undefined)
    throw e
  }
  await orRaise(
    log.append(operationId, [{ type: 'OperationEnded', operationId, at: meta.now(), status: out.status, restored: 0, skipped: 0, unrestored: 0, counts: { ...out.counts } }]),
  )
  return { operationId, result: out.result }
}
