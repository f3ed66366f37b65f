/**
 * The rewind use case (`doRewind`, and the console's "Rewind to this instant"): checks the request,
 * wires the rewind's ports onto the account's live IMAP server, and previews (dry run: a fresh
 * capture and the plan) or runs the rewind as an operation (src/rewind/runRewind.ts; the plan is
 * domain/rewind/plan.ts). Its `--json` document is built here, once, for the CLI and the HTTP API;
 * its `outcome` is what the adapters map (an exit code, a job state).
 */
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type Path, type RewindPlan, groupActions } from '../../domain/rewind/plan'
import { captureAccount, knownAt, legalHoldOf, snapshotAt } from '../rewind/accountPorts'
import { imapRewinder } from '../rewind/imapActions'
import { type RewindDeps, type RewindOutcome, describeAction, previewRewind, runRewind } from '../rewind/runRewind'
import { formatInstant } from '../time/dates'
import { type AppError, type Outcome, attempt, conflictError, fail, notFoundError, usageError } from './errors'
import type { AppDeps, RewindPorts } from './ports'
import { recipientsOf, resumeKeyOf } from './restore/run'
import { booleanWord, instantArg, resolveAccount } from './support'

export interface RewindRequest {
  readonly account: string
  /** The instant to go back to, in the user's words. */
  readonly date: string
  /** `true`: capture the account and return the plan; nothing changes on the server. */
  readonly dryRun?: string
  /** The folder the mail that arrived after the instant moves to (default `rewind_DD_MM_YY`), or `in_place`. */
  readonly keepAfter?: string
  /** `true`: remove the folders created since that end up empty. */
  readonly removeNewFolders?: string
  /** More addresses (`a@b,c@d`) for the start and end e-mails. */
  readonly notifications?: string
  /** `imap://host:port` of the account; default the IMAP server configured for capture. */
  readonly target?: string
}

/** The keep-aside folder's default name: `rewind_DD_MM_YY`, the day the rewind runs. */
export const rewindFolder = (day: { day: number; month: number; year: number }): string =>
  `rewind_${String(day.day).padStart(2, '0')}_${String(day.month).padStart(2, '0')}_${String(day.year % 100).padStart(2, '0')}`

const show = (p: Path) => `/${p.join('/')}`

/** The plan as the `--json` document holds it: counts per group, the actions of each group, and what is left aside. */
export const rewindPlanJson = (plan: RewindPlan) => ({
  counts: Object.fromEntries(groupActions(plan).map((g) => [g.group, g.actions.length])),
  groups: groupActions(plan).map((g) => ({ group: g.group, count: g.actions.length, actions: g.actions.map((a) => ({ ...a, description: describeAction(a) })) })),
  unachievable: plan.unachievable,
  keptInPlace: plan.keptInPlace,
  foldersLeft: plan.foldersLeft.map(show),
})

type Ran = Extract<RewindOutcome, { _tag: 'Ran' }>

export type RewindResult =
  | {
      readonly dryRun: true
      readonly outcome: 'done'
      readonly json: Record<string, unknown>
      /** The instant as the reports show it. */
      readonly instant: string
      readonly plan: RewindPlan
      /** Why the run itself would be refused (a legal hold). */
      readonly hold?: string
    }
  | {
      readonly dryRun: false
      readonly outcome: Outcome
      readonly json: Record<string, unknown>
      readonly instant: string
      readonly ran: Ran
      /** Notifications that were not sent, one line each. */
      readonly failedNotes: readonly string[]
    }

/** The request as the words of the command, for the operation's record. */
const words = (r: RewindRequest): Record<string, string> => ({
  ...(r.dryRun !== undefined && { dry_run: r.dryRun }),
  ...(r.keepAfter !== undefined && { keep_after: r.keepAfter }),
  ...(r.removeNewFolders !== undefined && { remove_new_folders: r.removeNewFolders }),
  ...(r.notifications !== undefined && { notifications: r.notifications }),
  ...(r.target !== undefined && { target: r.target }),
})

export const rewind = (deps: AppDeps, ports: RewindPorts, req: RewindRequest): Promise<E.Either<AppError, RewindResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const account = await resolveAccount(b, req.account)
    const at = instantArg(req.date, deps.zone, 'date')
    const human = (ms: number) => formatInstant(ms, deps.zone)
    if (at > deps.now()) fail(usageError(`doRewind: date ${JSON.stringify(req.date)} is in the future`))
    // Before its first capture the backup knows no mail of the account: the rewind would move it all aside.
    if (!(await knownAt(b, account, at)))
      fail(notFoundError(`the backup holds nothing of ${account} at ${human(at)} (before its first capture, or while it did not exist): pick a later instant`))
    const dry = booleanWord(req.dryRun, 'dry_run', false)
    const remove = booleanWord(req.removeNewFolders, 'remove_new_folders', false)
    const d = DateTime.fromMillis(deps.now(), { zone: deps.zone })
    const keepRaw = req.keepAfter ?? rewindFolder({ day: d.day, month: d.month, year: d.year })
    const keepAfter = keepRaw.toLowerCase() === 'in_place' ? undefined : keepRaw.split('/').filter((s) => s.length > 0)
    if (keepAfter !== undefined && keepAfter.length === 0) fail(usageError('keep_after needs a folder name (or in_place)'))
    const server = ports.server(req.target)
    if (E.isLeft(server)) return fail(server.left)
    const { target } = server.right
    const recipients = recipientsOf(deps.operator.initiator, ports.admin, req.notifications)
    const notifier = ports.notifier()
    const signal = ports.stopSignal()
    const rewindDeps: RewindDeps = {
      operations: b.operations,
      blobs: b.blobs,
      ...(notifier !== undefined && { notifier }),
      now: deps.now,
      host: deps.operator.host,
      pid: deps.operator.pid,
      isAlive: deps.isAlive,
      show: human,
      signalled: signal.stopped,
      legalHold: () => legalHoldOf(b, account),
      capture: async () => {
        const c = await server.right.connect(account)
        if (E.isLeft(c)) return c
        deps.progress.start(`capturing ${account}`, 1)
        try {
          return await captureAccount(b, c.right, account, server.right.description, deps.now, signal.stopped)
        } finally {
          deps.progress.stop()
          await c.right.logout().catch(() => undefined)
        }
      },
      snapshotAt: (when) => snapshotAt(b, account, when),
      connect: async () => {
        const c = await server.right.connect(account)
        if (E.isLeft(c)) return c
        const client = c.right
        return E.right({ rewinder: await imapRewinder(client), close: () => client.logout() })
      },
      target,
      ...(ports.afterAction !== undefined && { afterAction: ports.afterAction }),
      onProgress: (done) => deps.progress.update(done),
    }
    const run = {
      verb: 'doRewind',
      params: { account, date: req.date, ...words(req) },
      resumeKey: resumeKeyOf(['rewind', account, at, keepAfter ?? null, remove, target.description]),
      account,
      at,
      options: { ...(keepAfter !== undefined && { keepAfter }), removeNewFolders: remove },
      initiator: deps.operator.initiator,
      recipients,
    }
    let o: RewindOutcome
    try {
      if (dry) o = await previewRewind(rewindDeps, run)
      else {
        deps.progress.start(`rewinding ${account} to ${human(at)}`, 0)
        o = await runRewind(rewindDeps, run)
      }
    } finally {
      deps.progress.stop()
      signal.dispose()
    }
    return resultOf(o, human(at), deps.note)
  })

const resultOf = (o: RewindOutcome, instant: string, note: (line: string) => void): RewindResult => {
  switch (o._tag) {
    case 'Refused':
      return fail(conflictError(o.reason))
    case 'CaptureFailed':
      return fail({ _tag: 'Unavailable', message: `the capture before the rewind did not finish: ${o.reason}; nothing was changed` })
    case 'Preview':
      return {
        dryRun: true,
        outcome: 'done',
        instant,
        plan: o.plan,
        ...(o.hold !== undefined && { hold: o.hold }),
        json: { dryRun: true, instant, plan: rewindPlanJson(o.plan), ...(o.hold !== undefined && { refusedBecause: o.hold }) },
      }
    case 'Ran': {
      const s = o.summary
      const failedNotes = s.notifications.filter((n) => !n.sent).map((n) => `the ${n.phase} notification to ${n.to.join(', ')} was not sent: ${n.error ?? 'unknown error'}`)
      for (const n of failedNotes) note(n)
      const json = {
        dryRun: false,
        operationId: s.operationId,
        state: s.state,
        instant,
        plan: rewindPlanJson(o.plan),
        applied: o.applied,
        failed: o.failed.map((f) => ({ action: describeAction(f.action), reason: f.reason })),
        differences: o.differences,
        foundApplied: o.foundApplied,
        notifications: s.notifications,
        ...(s.error !== undefined && { error: s.error }),
        seconds: o.seconds,
      }
      const outcome: Outcome = s.state === 'failed' ? 'failed' : s.state === 'stopped' ? 'stopped' : s.state === 'done' ? 'done' : 'partial'
      return { dryRun: false, outcome, json, instant, ran: o, failedNotes }
    }
  }
}
