/**
 * Runs a restore as an operation: records its start in the operations stream, sends the start
 * notification, materializes each account's plan into the target with a journal that skips what
 * earlier runs of the same command wrote, records the end, and sends the end notification.
 * Nothing here throws for an expected failure: a target that is down, a provisioner that fails or
 * an SMTP server that is unreachable all end up in the operation's record.
 */
import * as E from 'fp-ts/Either'
import {
  type AppendIntent,
  type ItemOutcome,
  type OperationEvent,
  type OperationStatus,
  type OperationSummary,
  alreadyRestored,
  itemKey,
  pendingIntents,
  summarize,
} from '../../domain/operations'
import { type RestorePlan, planSize } from '../../domain/restore/plan'
import { orRaise } from '../../projections/errors'
import type { BlobStore } from '../blobs/blobStore'
import type { Notifier } from '../notify/notifier'
import { type Mail, endMail, startMail } from '../notify/restoreMail'
import type { OperationLog } from '../store/operationLog'
import { newOperationId } from '../operations/operationId'
import type { Journal, MaterializeReport, RestoreTarget } from './target'

export interface RestoreRequest {
  readonly verb: string
  readonly params: Readonly<Record<string, string>>
  /** The same for every run of the same command into the same target. */
  readonly resumeKey: string
  readonly plans: readonly RestorePlan[]
  readonly target: RestoreTarget
  readonly initiator: string
  /** Where notifications go; empty means none are sent. */
  readonly recipients: readonly string[]
  /**
   * Whether a destination account the target lacks could have been created: what the report says
   * about a missing account. Default 'not applicable' (an undelete, an item restore).
   */
  readonly provisioning?: Provisioning
}

export type Provisioning = 'configured' | 'not configured' | 'not applicable'

/** Why the items of an account the target does not have are unrestored. */
export const missingAccountReason = (reason: string, provisioning: Provisioning): string =>
  provisioning === 'not configured'
    ? `${reason}, and provisioning is not configured: create the account, or let the restore create it with the config file's "provisioning" section (docs/restore.md)`
    : reason

export interface RestoreDeps {
  readonly operations: OperationLog
  readonly blobs: BlobStore
  readonly notifier?: Notifier
  readonly now: () => number
  readonly host: string
  readonly pid: number
  readonly isAlive: (host: string, pid: number) => boolean
  /** Formats an instant for people (the notification mails). */
  readonly show: (ms: number) => string
  /** True once a signal asked this process to stop. */
  readonly signalled: () => boolean
  /** Creates the target account when needed (restore on a new account); an error makes its items unrestored. */
  readonly provision?: (account: string) => Promise<E.Either<string, void>>
  readonly onProgress?: (done: number, total: number) => void
}

export interface RestoreOutcome {
  readonly summary: OperationSummary
  readonly renamedFolders: MaterializeReport['renamedFolders']
  /** What the target wrote otherwise than it was (MaterializeReport.warnings of every account). */
  readonly warnings: readonly string[]
  /** Source item → where it is in the target, for every restored or skipped item of this run. */
  readonly idMap: readonly ItemOutcome[]
  readonly seconds: number
}

export const runRestore = async (deps: RestoreDeps, req: RestoreRequest): Promise<RestoreOutcome> => {
  const ops = deps.operations
  const started = deps.now()
  const operationId = newOperationId(started)
  const earlierIds = await orRaise(ops.byResumeKey(req.resumeKey))
  const earlier: OperationEvent[][] = []
  for (const id of earlierIds) earlier.push(await orRaise(ops.read(id)))
  const done = alreadyRestored(earlier)
  const pending: AppendIntent[] = pendingIntents(earlier)
  const append = (events: OperationEvent[]) => orRaise(ops.append(operationId, events))
  const total = req.plans.reduce((n, p) => n + planSize(p), 0)
  await append([
    {
      type: 'OperationStarted',
      operationId,
      at: started,
      kind: 'restore',
      verb: req.verb,
      params: { ...req.params },
      initiator: req.initiator,
      host: deps.host,
      pid: deps.pid,
      resumeKey: req.resumeKey,
      target: req.target.description,
      total,
      accounts: [...new Set(req.plans.map((p) => p.targetAccount))],
    },
  ])
  const current = async (): Promise<OperationSummary> => {
    const s = summarize(await orRaise(ops.read(operationId)), deps.isAlive)
    if (s === undefined) throw new Error(`operation ${operationId} has no start record`)
    return s
  }
  const notify = async (phase: 'start' | 'end', mail: Mail) => {
    if (req.recipients.length === 0) return
    const r = deps.notifier === undefined ? E.left('no SMTP server is configured (the "smtp" section of the config file)') : await deps.notifier.send(req.recipients, mail)
    await append([
      {
        type: 'NotificationRecorded',
        operationId,
        at: deps.now(),
        notification: { phase, to: [...req.recipients], sent: E.isRight(r), ...(E.isLeft(r) && { error: r.left }) },
      },
    ])
  }
  await notify('start', startMail(await current(), deps.show(started)))

  const idMap: ItemOutcome[] = []
  const record = async (outcomes: readonly ItemOutcome[]) => {
    if (outcomes.length === 0) return
    await append([{ type: 'ItemsRecorded', operationId, at: deps.now(), items: [...outcomes] }])
    for (const o of outcomes)
      if (o.outcome !== 'unrestored') {
        done.set(itemKey(o.account, o.itemId), o.location ?? '')
        idMap.push(o)
      }
  }
  const journal: Journal = {
    key: req.resumeKey,
    doneAt: (account, itemId) => done.get(itemKey(account, itemId)),
    pendingIntents: pending,
    intent: (i) => append([{ type: 'AppendIntent', operationId, at: deps.now(), ...i }]),
    record,
    stopRequested: async () => deps.signalled() || (await orRaise(ops.stopRequested(operationId))),
  }

  const renamedFolders: MaterializeReport['renamedFolders'] = []
  const warnings: string[] = []
  let stopped = false
  let error: string | undefined
  let progressed = 0
  for (const plan of req.plans) {
    await record(plan.unrestorable.map((u) => ({ account: plan.targetAccount, itemId: u.itemId, outcome: 'unrestored' as const, reason: u.reason })))
    progressed += plan.unrestorable.length
    const writable = [...plan.folderItems, ...plan.items]
    if (writable.length === 0) continue
    const unrestored = (reason: string) => record(writable.map((i) => ({ account: plan.targetAccount, itemId: i.itemId, outcome: 'unrestored' as const, reason })))
    if (deps.provision !== undefined) {
      const p = await deps.provision(plan.targetAccount)
      if (E.isLeft(p)) {
        await unrestored(`account ${plan.targetAccount} could not be created: ${p.left}`)
        progressed += writable.length
        continue
      }
    }
    const base = progressed + plan.folderItems.length
    const r = await req.target.materialize(plan, deps.blobs, journal, (n) => deps.onProgress?.(base + n, total))
    progressed += writable.length
    if (E.isLeft(r) && r.left._tag === 'NoSuchAccount') {
      // Another account may well exist: record this one's items with the reason and go on.
      await unrestored(missingAccountReason(r.left.reason, req.provisioning ?? 'not applicable'))
      continue
    }
    if (E.isLeft(r)) {
      error = `${r.left.target}: ${r.left.reason}`
      break
    }
    renamedFolders.push(...r.right.renamedFolders)
    warnings.push(...r.right.warnings.map((w) => (req.plans.length > 1 ? `${plan.targetAccount}: ${w}` : w)))
    if (r.right.stopped) {
      stopped = true
      break
    }
  }
  const sofar = await current()
  const status: OperationStatus = error !== undefined ? 'failed' : stopped ? 'stopped' : sofar.unrestored.length > 0 ? 'partial' : 'done'
  const ended = deps.now()
  await append([
    {
      type: 'OperationEnded',
      operationId,
      at: ended,
      status,
      restored: sofar.restored,
      skipped: sofar.skipped,
      unrestored: sofar.unrestored.length,
      ...(error !== undefined && { error }),
    },
  ])
  const seconds = (ended - started) / 1000
  await notify('end', endMail(await current(), deps.show(ended), seconds))
  return { summary: await current(), renamedFolders, warnings, idMap, seconds }
}
