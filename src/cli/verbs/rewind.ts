/**
 * `doRewind <account> <date>`: puts a live IMAP account back as it was at an instant, keeping what
 * arrived since. The verb turns its words into the rewind use case's request (src/app/rewind.ts,
 * which the console's HTTP API calls too) and renders its result as text; the ports come from
 * src/wiring/rewindPorts.ts (the CLI's stop on SIGINT/SIGTERM).
 */
import * as os from 'os'
import { type Path, type RewindPlan, groupActions } from '../../../domain/rewind/plan'
import { type RewindRequest, type RewindResult, rewind } from '../../app/rewind'
import { describeAction } from '../../rewind/runRewind'
import { rewindPortsOf } from '../../wiring/rewindPorts'
import { appDeps } from '../appDeps'
import { OUTCOME_EXIT_CODE, orExit } from '../failure'
import type { Output, Verb } from '../grammar'
import { RESTORE_EXIT_CODES, notificationsAttr } from '../restoreRun'
import { stopSignal } from '../stopSignal'

const show = (p: Path) => `/${p.join('/')}`

const planLines = (plan: RewindPlan): string[] => {
  const groups = groupActions(plan)
  return [
    ...(groups.length === 0 ? ['nothing to do: the account is as it was then'] : []),
    ...groups.flatMap((g) => [
      `${g.group}: ${g.actions.length}`,
      ...g.actions.slice(0, 20).map((a) => `  ${describeAction(a)}`),
      ...(g.actions.length > 20 ? [`  … ${g.actions.length - 20} more (--json lists all)`] : []),
    ]),
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
  run: async (ctx, { positionals: [account = '', date = ''], attrs }) => {
    const ports = rewindPortsOf(ctx.settings, { stopSignal, hostname: os.hostname() })
    const request: RewindRequest = {
      account,
      date,
      ...(attrs.dry_run !== undefined && { dryRun: attrs.dry_run }),
      ...(attrs.keep_after !== undefined && { keepAfter: attrs.keep_after }),
      ...(attrs.remove_new_folders !== undefined && { removeNewFolders: attrs.remove_new_folders }),
      ...(attrs.notifications !== undefined && { notifications: attrs.notifications }),
      ...(attrs.target !== undefined && { target: attrs.target }),
    }
    return render(orExit(await rewind(appDeps(ctx), ports, request)))
  },
}

/** The use case's result as the CLI prints it: its --json document, the text, and the exit code of its outcome. */
const render = (r: RewindResult): Output => {
  const instantText = r.instant
  if (r.dryRun)
    return {
      json: r.json,
      text: [
        `dry run: nothing changed; the plan to put the account back as it was at ${instantText}:`,
        ...planLines(r.plan),
        ...(r.hold !== undefined ? [`the rewind itself will be refused: ${r.hold}`] : []),
      ].join('\n'),
    }
  const o = r.ran
  const s = o.summary
  const text = [
    `operation ${s.operationId}: ${s.state}`,
    ...(o.foundApplied > 0 ? [`${o.foundApplied} action(s) of an interrupted earlier run were found done on the server and not sent again`] : []),
    ...planLines(o.plan),
    ...o.failed.map((f) => `refused: ${describeAction(f.action)}: ${f.reason}`),
    ...(s.state === 'done'
      ? [
          `the account is as it was at ${instantText}${o.plan.keptInPlace + o.plan.actions.filter((a) => a.kind === 'keepAside').length > 0 ? ', plus the mail kept from after it' : ''}`,
        ]
      : []),
    ...(o.differences.length > 0 ? [`${o.differences.length} difference(s) between the account and its state at ${instantText}:`, ...o.differences.map((d) => `  ${d.text}`)] : []),
    ...r.failedNotes,
    `in ${o.seconds.toFixed(1)} s`,
  ].join('\n')
  const exitCode = OUTCOME_EXIT_CODE[r.outcome]
  if (r.outcome === 'failed') return { json: r.json, text: `${text}\nfailed: ${s.error ?? 'unknown error'}; run the same command again to resume`, exitCode }
  if (r.outcome === 'stopped') return { json: r.json, text: `${text}\nstopped on request; run the same command again to resume`, exitCode }
  return { json: r.json, text, exitCode }
}
