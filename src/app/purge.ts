/**
 * The purge as a use case: the retention policy from the request and the configuration, the
 * refusal of a purge dated by a clock ahead of the real one (the test-only MAILTIME_NOW: it would
 * remove data before its retention ends), the run recorded as an operation (a dry run is not), and
 * the `--json` document, built here once for the CLI and any other caller.
 */
import type * as E from 'fp-ts/Either'
import type { OperationStatus } from '../../domain/operations'
import { type PurgeReport, purge as runPurge } from '../retention/purge'
import { type AppError, attempt, fail, usageError } from './errors'
import { recorded } from './operations'
import type { AppDeps } from './ports'
import { booleanWord } from './support'

export interface PurgeRequest {
  /** `purgeDays N`: data retention in days for this run (0 purges nothing). */
  readonly purgeDays?: string
  /** `true`: list what would go, change nothing. */
  readonly dryRun?: string
  /** The configuration's retention (config file `retention`). */
  readonly retention?: { readonly dataDays?: number; readonly accountDays?: number }
  /** The request's words, for the operation's record. */
  readonly params?: Readonly<Record<string, string>>
}

export interface PurgeResult {
  readonly dryRun: boolean
  readonly operationId?: string
  readonly policy: { readonly dataDays: number; readonly accountDays: number }
  readonly report: PurgeReport
  readonly json: Record<string, unknown>
}

/** A number of days in [0, 100000] from a word or the configuration, or the usage error naming it. */
const days = (raw: string | number | undefined, name: string, dflt: number): number => {
  if (raw === undefined) return dflt
  const n = typeof raw === 'number' ? raw : Number(raw)
  return Number.isInteger(n) && n >= 0 && n <= 100_000 ? n : fail(usageError(`${name} must be a whole number of days (0 keeps forever), got ${JSON.stringify(raw)}`))
}

/** A blob younger than this is never deleted as unreferenced: a capture may be about to reference it. */
const BLOB_GRACE_MS = 3_600_000

export const purge = (deps: AppDeps, req: PurgeRequest): Promise<E.Either<AppError, PurgeResult>> =>
  attempt(async () => {
    const dry = booleanWord(req.dryRun, 'dry_run', false)
    const r = req.retention ?? {}
    const policy = { dataDays: days(req.purgeDays, 'purgeDays', days(r.dataDays, 'retention.dataDays', 30)), accountDays: days(r.accountDays, 'retention.accountDays', 30) }
    const now = deps.now()
    if (!dry && now > Date.now() + 60_000) fail(usageError('MAILTIME_NOW is in the future: a purge would remove data before its retention ends; use dry_run true to preview'))
    const b = await deps.backend()
    deps.progress.start('purging', 0)
    const run = (operationId: string) =>
      runPurge(b, { policy, now, dryRun: dry, by: deps.operator.initiator, operationId, graceMs: BLOB_GRACE_MS, onProgress: (d) => deps.progress.update(d) })
    let done: { operationId: string | undefined; result: PurgeReport }
    try {
      done = dry
        ? { operationId: undefined, result: await run('dry-run') }
        : await recorded(deps, { kind: 'purge', verb: 'doPurge', params: { ...req.params } }, async (id) => {
            const rep = await run(id)
            const status: OperationStatus = 'done'
            return { result: rep, status, counts: { itemsPurged: rep.plan.purge.length, blobsDeleted: rep.blobsDeleted, accountsHeld: rep.plan.held.length } }
          })
    } finally {
      deps.progress.stop()
    }
    const rep = done.result
    return {
      dryRun: dry,
      ...(done.operationId !== undefined && { operationId: done.operationId }),
      policy,
      report: rep,
      json: {
        dryRun: dry,
        ...(done.operationId !== undefined && { operationId: done.operationId }),
        policy,
        items: rep.plan.purge.map((c) => ({ account: c.account, itemId: c.itemId, itemType: c.itemType, size: c.size, reason: c.reason })),
        itemBytes: rep.plan.purge.reduce((n, c) => n + c.size, 0),
        held: rep.plan.held,
        orphanBlobs: rep.orphanBlobs,
        orphanBytes: rep.orphanBytes,
        recentBlobsKept: rep.recentBlobs,
        eventsAppended: rep.eventsAppended,
        blobsDeleted: rep.blobsDeleted,
      },
    }
  })
