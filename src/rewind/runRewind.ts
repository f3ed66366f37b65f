/**
 * Runs a rewind of a live account as an operation: refuses while the account is under legal hold,
 * captures the account afresh (so that the plan acts on the server's UIDs and names as they are),
 * plans, records the start and notifies, sends each action with its intent recorded first, writes
 * back the messages gone since through the restore target, captures again and compares the account
 * with the state it must be in, item by item; records the end and notifies.
 *
 * Guarantees:
 * 1. A re-run of the same command after a crash applies nothing twice: it plans from a fresh capture,
 *    so an action that landed is no longer planned, and a message written back before the crash is
 *    found by its bytes and not written again (the plan's guarantee 3, and the restore target's
 *    APPEND intents for a batch cut short).
 * 2. Nothing is deleted: the only removals are folders created since that the server reports empty.
 * 3. A run that did not end with the account as expected (an action refused, a difference found by
 *    the last capture, something the plan could not put back) never ends `done`.
 * Nothing here throws for an expected failure: they end up in the operation's record and the outcome.
 */
import * as E from 'fp-ts/Either'
import { type ActionIntent, type OperationEvent, type OperationStatus, type OperationSummary, alreadyRestored, itemKey, pendingIntents, summarize } from '../../domain/operations'
import type { RestoreItem, RestorePlan } from '../../domain/restore/plan'
import { type Difference, type RewindAction, type RewindOptions, type RewindPlan, type Snapshot, ACTION_GROUPS, compareWithExpected, planRewind } from '../../domain/rewind/plan'
import type { ItemId } from '../../domain/ids'
import { instant } from '../../domain/instant'
import type { LegalHold } from '../../domain/state'
import { orRaise } from '../../projections/errors'
import type { BlobStore } from '../blobs/blobStore'
import type { Notifier } from '../notify/notifier'
import { type Mail, endMail, startMail } from '../notify/restoreMail'
import { newOperationId } from '../operations/operationId'
import type { OperationLog } from '../store/operationLog'
import type { Journal, RestoreTarget } from '../restore/target'
import type { ImapRewinder } from './imapActions'

export interface RewindSession {
  readonly rewinder: ImapRewinder
  close(): Promise<void>
}

export interface RewindDeps {
  readonly operations: OperationLog
  readonly blobs: BlobStore
  readonly notifier?: Notifier
  readonly now: () => number
  readonly host: string
  readonly pid: number
  readonly isAlive: (host: string, pid: number) => boolean
  readonly show: (ms: number) => string
  readonly signalled: () => boolean
  /** The account's legal hold, if any. */
  legalHold(): Promise<LegalHold | undefined>
  /** A fresh capture of the account by the scanner; Left says why it did not read it all. */
  capture(): Promise<E.Either<string, void>>
  /** The account as the store says it was at an instant (after the last capture: as it is). */
  snapshotAt(at: number): Promise<Snapshot>
  /** The IMAP session the actions are sent over. */
  connect(): Promise<E.Either<string, RewindSession>>
  /** Where the messages gone since are written back (the restore's IMAP target for the same server). */
  readonly target: RestoreTarget
  /** Test-only fault hook: called after each action reached the server, before its outcome is recorded. */
  readonly afterAction?: (n: number) => Promise<void>
  readonly onProgress?: (done: number, total: number) => void
}

export interface RewindRequest {
  readonly verb: string
  readonly params: Readonly<Record<string, string>>
  readonly resumeKey: string
  readonly account: string
  readonly at: number
  readonly options: RewindOptions
  readonly initiator: string
  readonly recipients: readonly string[]
}

export type RewindOutcome =
  | { readonly _tag: 'Refused'; readonly reason: string }
  | { readonly _tag: 'CaptureFailed'; readonly reason: string }
  | { readonly _tag: 'Preview'; readonly plan: RewindPlan; readonly hold?: string }
  | {
      readonly _tag: 'Ran'
      readonly plan: RewindPlan
      readonly summary: OperationSummary
      /** Per action kind: how many were applied. */
      readonly applied: Readonly<Record<string, number>>
      /** Actions the server refused, with the reason. */
      readonly failed: readonly { action: RewindAction; reason: string }[]
      readonly differences: readonly Difference[]
      /** Actions an interrupted earlier run had announced that the fresh capture found done. */
      readonly foundApplied: number
      readonly seconds: number
    }

/** One line naming an action, for its intent record and the reports. */
export const describeAction = (a: RewindAction): string => {
  const p = (x: readonly string[]) => `/${x.join('/')}`
  switch (a.kind) {
    case 'renameBack':
      return `rename ${p(a.from)} back to ${p(a.to)}`
    case 'recreateFolder':
      return `recreate folder ${p(a.path)}`
    case 'createKeepFolder':
      return `create folder ${p(a.path)} for the mail kept aside`
    case 'moveBack':
      return `move item ${a.ofItem} from ${p(a.from)} back to ${p(a.to)}`
    case 'keepAside':
      return `move item ${a.itemId} from ${p(a.from)} to ${p(a.to)}`
    case 'reflag':
      return `set the flags of item ${a.ofItem} in ${p(a.folder)} to [${[...a.flags, ...a.tags].join(' ')}] (were [${[...a.fromFlags, ...a.fromTags].join(' ')}])`
    case 'comeBack':
      return `write item ${a.itemId} back into ${p(a.folder)} with [${[...a.flags, ...a.tags].join(' ')}]`
    case 'removeFolder':
      return `remove folder ${p(a.path)} (created since; nothing is left in it)`
  }
}

const itemOf = (a: RewindAction): number => ('itemId' in a ? a.itemId : 'folderId' in a ? a.folderId : 0)

/** Plans only: the capture, then the plan (what `dry_run true` shows). */
export const previewRewind = async (deps: RewindDeps, req: RewindRequest): Promise<RewindOutcome> => {
  // A preview changes nothing in the mailbox, so a hold does not forbid it; it says the run would be refused.
  const hold = await deps.legalHold()
  const c = await deps.capture()
  if (E.isLeft(c)) return { _tag: 'CaptureFailed', reason: c.left }
  const plan = planRewind(await deps.snapshotAt(req.at), await deps.snapshotAt(deps.now()), req.options)
  const refused = hold === undefined ? undefined : refusal(req.account, hold)
  return { _tag: 'Preview', plan, ...(refused?._tag === 'Refused' && { hold: refused.reason }) }
}

const refusal = (account: string, hold: LegalHold): RewindOutcome => ({
  _tag: 'Refused',
  reason: `${account} is under legal hold (set by ${hold.by}${hold.reason !== undefined ? `: ${hold.reason}` : ''}); a rewind changes the mailbox the hold preserves: release the hold first (legalHold unset ${account})`,
})

export const runRewind = async (deps: RewindDeps, req: RewindRequest): Promise<RewindOutcome> => {
  const hold = await deps.legalHold()
  if (hold !== undefined) return refusal(req.account, hold)
  const ops = deps.operations
  const started = deps.now()
  const operationId = newOperationId(started)
  const append = (events: OperationEvent[]) => orRaise(ops.append(operationId, events))
  const earlier: OperationEvent[][] = []
  for (const id of await orRaise(ops.byResumeKey(req.resumeKey))) earlier.push(await orRaise(ops.read(id)))

  const c = await deps.capture()
  if (E.isLeft(c)) return { _tag: 'CaptureFailed', reason: c.left }
  const plan = planRewind(await deps.snapshotAt(req.at), await deps.snapshotAt(deps.now()), req.options)
  // Intents of earlier runs that never got an outcome: the fresh capture says whether they landed.
  const planned = new Set(plan.actions.map((a) => `${a.kind}:${itemOf(a)}`))
  const outcomesOf = new Set(earlier.flatMap((run) => run.flatMap((e) => (e.type === 'ItemsRecorded' ? e.items.map((i) => `${e.operationId}:${i.itemId}`) : []))))
  const unsettled = earlier.flatMap((run) => run.filter((e): e is ActionIntent => e.type === 'ActionIntent' && !outcomesOf.has(`${e.operationId}:${e.itemId}`)))
  const foundApplied = unsettled.filter((i) => !planned.has(`${i.kind}:${i.itemId}`)).length

  const total = plan.actions.length
  await append([
    {
      type: 'OperationStarted',
      operationId,
      at: started,
      kind: 'rewind',
      verb: req.verb,
      params: { ...req.params },
      initiator: req.initiator,
      host: deps.host,
      pid: deps.pid,
      resumeKey: req.resumeKey,
      target: deps.target.description,
      total,
      accounts: [req.account],
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
      { type: 'NotificationRecorded', operationId, at: deps.now(), notification: { phase, to: [...req.recipients], sent: E.isRight(r), ...(E.isLeft(r) && { error: r.left }) } },
    ])
  }
  await notify('start', startMail(await current(), deps.show(started)))

  const applied: Record<string, number> = {}
  const failed: { action: RewindAction; reason: string }[] = []
  const stopRequested = async () => deps.signalled() || (await orRaise(ops.stopRequested(operationId)))
  let stopped = false
  let error: string | undefined
  let done = 0
  let sent = 0
  const progress = (n: number) => {
    done += n
    deps.onProgress?.(done, total)
  }

  const session = total === 0 ? E.right(undefined) : await deps.connect()
  if (E.isLeft(session)) error = session.left
  else
    try {
      const comeBacks = plan.actions.filter((a): a is Extract<RewindAction, { kind: 'comeBack' }> => a.kind === 'comeBack')
      for (const a of plan.actions) {
        if (error !== undefined || stopped) break
        if (await stopRequested()) {
          stopped = true
          break
        }
        if (a.kind === 'comeBack') {
          if (a !== comeBacks[0]) continue
          const r = await writeBack(deps, req, operationId, earlier, comeBacks, append, progress)
          if (E.isLeft(r)) error = r.left
          else if (r.right.stopped) stopped = true
          for (const f of r._tag === 'Right' ? r.right.failed : []) failed.push(f)
          applied.comeBack = comeBacks.length - failed.filter((f) => f.action.kind === 'comeBack').length
          continue
        }
        const rewinder = (session.right as RewindSession).rewinder
        const text = describeAction(a)
        await append([{ type: 'ActionIntent', operationId, at: deps.now(), account: req.account, itemId: itemOf(a), kind: a.kind, action: text }])
        const r = await rewinder.apply(a)
        await deps.afterAction?.(++sent)
        await append([
          {
            type: 'ItemsRecorded',
            operationId,
            at: deps.now(),
            items: [
              E.isRight(r)
                ? { account: req.account, itemId: itemOf(a), outcome: 'restored' as const, reason: text }
                : { account: req.account, itemId: itemOf(a), outcome: 'unrestored' as const, reason: `${text}: ${r.left}` },
            ],
          },
        ])
        if (E.isRight(r)) applied[a.kind] = (applied[a.kind] ?? 0) + 1
        else failed.push({ action: a, reason: r.left })
        progress(1)
      }
    } finally {
      await session.right?.close().catch(() => undefined)
    }

  // The account as the server holds it now, against what it must be.
  let differences: Difference[] = []
  if (error === undefined && !stopped) {
    const after = await deps.capture()
    if (E.isLeft(after)) error = `the capture after the rewind did not finish: ${after.left}`
    else differences = compareWithExpected(plan.expected, await deps.snapshotAt(deps.now()))
    // Recorded as unrestored items, so that `monitor` and the end notification list them too.
    if (differences.length > 0)
      await append([
        {
          type: 'ItemsRecorded',
          operationId,
          at: deps.now(),
          items: differences.map((d) => ({ account: req.account, itemId: d.itemId ?? 0, outcome: 'unrestored' as const, reason: `after the rewind: ${d.text}` })),
        },
      ])
  }
  const sofar = await current()
  const incomplete = failed.length > 0 || differences.length > 0 || plan.unachievable.length > 0
  const status: OperationStatus = error !== undefined ? 'failed' : stopped ? 'stopped' : incomplete ? 'partial' : 'done'
  const ended = deps.now()
  const counts: Record<string, number> = {
    ...Object.fromEntries(ACTION_GROUPS.flatMap((g) => g.kinds.map((k) => [k, applied[k] ?? 0]))),
    differences: differences.length,
    unachievable: plan.unachievable.length,
    keptInPlace: plan.keptInPlace,
  }
  await append([
    {
      type: 'OperationEnded',
      operationId,
      at: ended,
      status,
      restored: sofar.restored,
      skipped: sofar.skipped,
      unrestored: sofar.unrestored.length,
      counts,
      ...(error !== undefined && { error }),
    },
  ])
  const seconds = (ended - started) / 1000
  await notify('end', endMail(await current(), deps.show(ended), seconds))
  return { _tag: 'Ran', plan, summary: await current(), applied, failed, differences, foundApplied, seconds }
}

/**
 * The messages gone since, written back by the restore target as one plan: APPEND with their bytes,
 * flags, keywords and INTERNALDATE of the instant, each batch's intent recorded before it is sent.
 */
const writeBack = async (
  deps: RewindDeps,
  req: RewindRequest,
  operationId: string,
  earlier: readonly (readonly OperationEvent[])[],
  comeBacks: readonly Extract<RewindAction, { kind: 'comeBack' }>[],
  append: (events: OperationEvent[]) => Promise<unknown>,
  progress: (n: number) => void,
): Promise<E.Either<string, { stopped: boolean; failed: { action: RewindAction; reason: string }[] }>> => {
  // Only messages written (with a place on the server) count as done: other outcomes of a rewind are actions.
  const done = new Map([...alreadyRestored(earlier)].filter(([, location]) => location !== ''))
  const items: RestoreItem[] = comeBacks.map(
    (a): RestoreItem => ({
      // The plan's ids are the store's item ids.
      itemId: a.itemId as ItemId,
      itemType: 'message',
      folder: a.folder,
      flags: a.flags,
      tags: a.tags,
      digest: a.digest,
      size: a.size,
      ...(a.internalDate !== undefined && { internalDate: instant(a.internalDate) }),
      ...(a.subject !== undefined && { subject: a.subject }),
    }),
  )
  const folders = new Map<string, string[]>()
  for (const i of items) for (let n = 1; n <= i.folder.length; n++) folders.set(JSON.stringify(i.folder.slice(0, n)), i.folder.slice(0, n))
  const plan: RestorePlan = { kind: 'rewind', sourceAccount: req.account, targetAccount: req.account, folders: [...folders.values()], items, folderItems: [], unrestorable: [] }
  const failed: { action: RewindAction; reason: string }[] = []
  const journal: Journal = {
    key: req.resumeKey,
    doneAt: (account, itemId) => done.get(itemKey(account, itemId)),
    pendingIntents: pendingIntents(earlier),
    intent: (i) => append([{ type: 'AppendIntent', operationId, at: deps.now(), ...i }]).then(() => undefined),
    record: async (outcomes) => {
      if (outcomes.length === 0) return
      await append([{ type: 'ItemsRecorded', operationId, at: deps.now(), items: [...outcomes] }])
      for (const o of outcomes) {
        if (o.outcome !== 'unrestored') done.set(itemKey(o.account, o.itemId), o.location ?? '')
        else {
          const a = comeBacks.find((x) => x.itemId === o.itemId)
          if (a !== undefined) failed.push({ action: a, reason: o.reason ?? 'not written' })
        }
      }
      progress(outcomes.length)
    },
    stopRequested: async () => deps.signalled() || (await orRaise(deps.operations.stopRequested(operationId))),
  }
  const r = await deps.target.materialize(plan, deps.blobs, journal)
  if (E.isLeft(r)) return E.left(`${r.left.target}: ${r.left.reason}`)
  return E.right({ stopped: r.right.stopped, failed })
}
