/**
 * `doRewind <account> <date>`: puts a live IMAP account back as it was at an instant, keeping what
 * arrived since. The verb reads its words, wires the ports (store, scanner, IMAP session, restore
 * target, notifier) and renders; the plan is `domain/rewind/plan.ts`, the run `src/rewind/runRewind.ts`.
 */
import * as os from 'os'
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type Path, type RewindPlan, groupActions } from '../../../domain/rewind/plan'
import { findAccount } from '../../app/accounts'
import { imapSourceOf } from '../../capture/imap/source'
import { connectAs, describeConnectError } from '../../imap/connection'
import { captureAccount, knownAt, legalHoldOf, snapshotAt } from '../../rewind/accountPorts'
import { imapRewinder } from '../../rewind/imapActions'
import { type RewindDeps, type RewindOutcome, describeAction, previewRewind, runRewind } from '../../rewind/runRewind'
import { instantArg } from '../dateArgs'
import { CliFailure, ExitCode, notFound, usage } from '../failure'
import { faultAfter } from '../../wiring/faults'
import { booleanAttr, type Context, type Output, type Verb } from '../grammar'
import { initiatorOf } from '../initiator'
import { isAlive } from '../processes'
import { foundOrFail, human, must } from '../render'
import { RESTORE_EXIT_CODES, chooseTarget, notificationsAttr, notifierOf, recipientsOf, resumeKeyOf } from '../restoreRun'
import { stopSignal } from '../stopSignal'

/** The keep-aside folder's default name: `rewind_DD_MM_YY`, the day the rewind runs. */
export const rewindFolder = (day: { day: number; month: number; year: number }): string =>
  `rewind_${String(day.day).padStart(2, '0')}_${String(day.month).padStart(2, '0')}_${String(day.year % 100).padStart(2, '0')}`

const show = (p: Path) => `/${p.join('/')}`

const planJson = (plan: RewindPlan) => ({
  counts: Object.fromEntries(groupActions(plan).map((g) => [g.group, g.actions.length])),
  groups: groupActions(plan).map((g) => ({ group: g.group, count: g.actions.length, actions: g.actions.map((a) => ({ ...a, description: describeAction(a) })) })),
  unachievable: plan.unachievable,
  keptInPlace: plan.keptInPlace,
  foldersLeft: plan.foldersLeft.map(show),
})

const planLines = (plan: RewindPlan): string[] => {
  const groups = groupActions(plan)
  return [
    ...(groups.length === 0 ? ['nothing to do: the account is as it was then'] : []),
    ...groups.flatMap((g) => [`${g.group}: ${g.actions.length}`, ...g.actions.slice(0, 20).map((a) => `  ${describeAction(a)}`), ...(g.actions.length > 20 ? [`  … ${g.actions.length - 20} more (--json lists all)`] : [])]),
    ...(plan.keptInPlace > 0 ? [`mail from after the instant left where it is: ${plan.keptInPlace}`] : []),
    ...(plan.foldersLeft.length > 0 ? [`folders created since, left in place: ${plan.foldersLeft.map(show).join(', ')}`] : []),
    ...plan.unachievable.map((u) => `cannot put back ${u.what} ${u.itemId}: ${u.reason}`),
  ]
}

export const doRewind: Verb = {
  name: 'doRewind',
  summary: 'Puts a live IMAP account back as it was at an instant (after a hijack), keeping the mail that arrived since; dry_run true previews the plan.',
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'date', help: 'the instant to go back to ("dd/MM/yyyy HH:mm:ss")' },
  ],
  attributes: [
    { name: 'dry_run', help: 'true: capture the account and print the plan, grouped with counts; nothing changes on the server' },
    { name: 'keep_after', help: 'folder the mail that arrived after the instant moves to (default rewind_DD_MM_YY, the day of the run), or in_place: it stays where it is' },
    { name: 'remove_new_folders', help: 'true: remove the folders created since that end up empty (never one holding mail); default false: leave them' },
    notificationsAttr,
    { name: 'target', help: 'imap://host:port of the account (credentials from the config/environment); default: the IMAP server configured for capture' },
  ],
  examples: [
    'mailtime doRewind alice@example.com "07/12/2026 09:12:00" dry_run true',
    'mailtime doRewind alice@example.com "07/12/2026 09:12:00" notifications security@example.com',
    'mailtime doRewind alice@example.com "07/12/2026 09:12:00" keep_after in_place remove_new_folders true',
  ],
  exitCodes: [
    '3: the backup knows nothing of the account at that date (before its first capture)',
    '5: the account is under legal hold (release it first)',
    '7: the account does not match the state it had to reach (each difference listed), or some actions were refused or cannot be done',
    ...RESTORE_EXIT_CODES.filter((c) => !c.startsWith('7:')),
  ],
  run: async (ctx, { positionals: [raw = '', rawDate = ''], attrs }) => {
    const b = await ctx.backend()
    const account = foundOrFail(raw, await must(findAccount(b, raw)))
    const at = instantArg(rawDate, ctx.zone, 'date')
    if (at > ctx.now()) throw usage(`doRewind: date ${JSON.stringify(rawDate)} is in the future`)
    // Before its first capture the backup knows no mail of the account: the rewind would move it all aside.
    if (!(await knownAt(b, account, at))) throw notFound(`the backup holds nothing of ${account} at ${human(at, ctx.zone)} (before its first capture, or while it did not exist): pick a later instant`)
    const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
    if (E.isLeft(dry)) throw usage(dry.left)
    const remove = booleanAttr(attrs.remove_new_folders, 'remove_new_folders', false)
    if (E.isLeft(remove)) throw usage(remove.left)
    const d = DateTime.fromMillis(ctx.now(), { zone: ctx.zone })
    const keepRaw = attrs.keep_after ?? rewindFolder({ day: d.day, month: d.month, year: d.year })
    const keepAfter = keepRaw.toLowerCase() === 'in_place' ? undefined : keepRaw.split('/').filter((s) => s.length > 0)
    if (keepAfter !== undefined && keepAfter.length === 0) throw usage('keep_after needs a folder name (or in_place)')
    if (attrs.target !== undefined && !/^imaps?:\/\//i.test(attrs.target)) throw usage(`doRewind acts on a live IMAP account: target must be imap://host:port or imaps://host:port, got ${JSON.stringify(attrs.target)}`)
    const src = imapSourceOf(ctx.settings, attrs.target)
    if (E.isLeft(src)) throw usage(src.left.reason)
    const chosen = chooseTarget(ctx.settings, attrs.target)
    const recipients = recipientsOf(ctx.settings.operator, ctx.settings.config.smtp?.admin, attrs.notifications)
    const notifier = notifierOf(ctx.settings, os.hostname())
    const signal = stopSignal()
    const afterAction = faultAfter(ctx.settings.test.fault, 'action')
    const deps: RewindDeps = {
      operations: b.operations,
      blobs: b.blobs,
      ...(notifier !== undefined && { notifier }),
      now: ctx.now,
      host: os.hostname(),
      pid: process.pid,
      isAlive,
      show: (ms) => human(ms, ctx.zone),
      signalled: signal.stopped,
      legalHold: () => legalHoldOf(b, account),
      capture: async () => {
        const c = await connectAs(src.right, account)
        if (E.isLeft(c)) return E.left(describeConnectError(c.left))
        ctx.progress.start(`capturing ${account}`, 1)
        try {
          return await captureAccount(b, c.right, account, src.right.description, ctx.now, signal.stopped)
        } finally {
          ctx.progress.stop()
          await c.right.logout().catch(() => undefined)
        }
      },
      snapshotAt: (when) => snapshotAt(b, account, when),
      connect: async () => {
        const c = await connectAs(src.right, account)
        if (E.isLeft(c)) return E.left(describeConnectError(c.left))
        const client = c.right
        return E.right({ rewinder: await imapRewinder(client), close: () => client.logout() })
      },
      target: chosen.target,
      ...(afterAction !== undefined && { afterAction }),
      onProgress: (done) => ctx.progress.update(done),
    }
    const req = {
      verb: 'doRewind',
      params: { account, date: rawDate, ...attrs },
      resumeKey: resumeKeyOf(['rewind', account, at, keepAfter ?? null, remove.right, chosen.target.description]),
      account,
      at,
      options: { ...(keepAfter !== undefined && { keepAfter }), removeNewFolders: remove.right },
      initiator: initiatorOf(ctx.settings),
      recipients,
    }
    try {
      if (dry.right) return render(ctx, await previewRewind(deps, req), at)
      ctx.progress.start(`rewinding ${account} to ${human(at, ctx.zone)}`, 0)
      return render(ctx, await runRewind(deps, req), at)
    } finally {
      ctx.progress.stop()
      signal.dispose()
    }
  },
}

const render = (ctx: Context, o: RewindOutcome, at: number): Output => {
  const instantText = human(at, ctx.zone)
  switch (o._tag) {
    case 'Refused':
      throw new CliFailure(o.reason, ExitCode.CONFLICT)
    case 'CaptureFailed':
      throw new CliFailure(`the capture before the rewind did not finish: ${o.reason}; nothing was changed`, ExitCode.UNAVAILABLE)
    case 'Preview':
      return {
        json: { dryRun: true, instant: instantText, plan: planJson(o.plan), ...(o.hold !== undefined && { refusedBecause: o.hold }) },
        text: [`dry run: nothing changed; the plan to put the account back as it was at ${instantText}:`, ...planLines(o.plan), ...(o.hold !== undefined ? [`the rewind itself will be refused: ${o.hold}`] : [])].join('\n'),
      }
    case 'Ran': {
      const s = o.summary
      const failedNotes = s.notifications.filter((n) => !n.sent).map((n) => `the ${n.phase} notification to ${n.to.join(', ')} was not sent: ${n.error ?? 'unknown error'}`)
      for (const n of failedNotes) ctx.note(n)
      const json = {
        dryRun: false,
        operationId: s.operationId,
        state: s.state,
        instant: instantText,
        plan: planJson(o.plan),
        applied: o.applied,
        failed: o.failed.map((f) => ({ action: describeAction(f.action), reason: f.reason })),
        differences: o.differences,
        foundApplied: o.foundApplied,
        notifications: s.notifications,
        ...(s.error !== undefined && { error: s.error }),
        seconds: o.seconds,
      }
      const text = [
        `operation ${s.operationId}: ${s.state}`,
        ...(o.foundApplied > 0 ? [`${o.foundApplied} action(s) of an interrupted earlier run were found done on the server and not sent again`] : []),
        ...planLines(o.plan),
        ...o.failed.map((f) => `refused: ${describeAction(f.action)}: ${f.reason}`),
        ...(s.state === 'done' ? [`the account is as it was at ${instantText}${o.plan.keptInPlace + o.plan.actions.filter((a) => a.kind === 'keepAside').length > 0 ? ', plus the mail kept from after it' : ''}`] : []),
        ...(o.differences.length > 0 ? [`${o.differences.length} difference(s) between the account and its state at ${instantText}:`, ...o.differences.map((d) => `  ${d.text}`)] : []),
        ...failedNotes,
        `in ${o.seconds.toFixed(1)} s`,
      ].join('\n')
      if (s.state === 'failed') return { json, text: `${text}\nfailed: ${s.error ?? 'unknown error'}; run the same command again to resume`, exitCode: ExitCode.UNAVAILABLE }
      if (s.state === 'stopped') return { json, text: `${text}\nstopped on request; run the same command again to resume`, exitCode: ExitCode.INTERRUPTED }
      return { json, text, exitCode: s.state === 'done' ? ExitCode.OK : ExitCode.PARTIAL }
    }
  }
}
