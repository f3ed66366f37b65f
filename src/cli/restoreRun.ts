/**
 * What the restore verbs share: their common attributes, and the report's text, rendered from the
 * restore use case's result (src/app/restore/run.ts builds the --json document; the exit code
 * comes from the outcome, through the CLI's one table).
 */
import type { RestorePlan } from '../../domain/restore/plan'
import type { Settings } from '../config'
import type { ChosenTarget, TargetOptions } from '../app/ports'
import { attempt } from '../app/errors'
import { type RestoreOptions, type RestoreResult, type RestoreRun, restorePlans } from '../app/restore/run'
import { chooseTarget as chooseTargetE } from '../wiring/targets'
import { human, table, clip } from './render'
import { OUTCOME_EXIT_CODE, orExit } from './failure'
import type { Context, Output } from './grammar'
import { faultAfter } from '../wiring/faults'
import { appDeps, restorePorts } from './appDeps'
import { REPAIRS } from '../restore/messageRepair'
import { davPlanLines, isDavPlan } from '../dav/restorePlan'

export type { ChosenTarget, TargetOptions } from '../app/ports'
export { planJson, recipientsOf, resumeKeyOf, type RestoreRun } from '../app/restore/run'
export { notifierOf } from '../wiring/notifier'

export const targetAttr = { name: 'target', help: 'imap://host:port (credentials from the config/environment), or maildir:<dir>; default: the IMAP server configured for capture' }
export const davTargetAttr = {
  name: 'dav_target',
  help: 'contacts, appointments and tasks: http(s)://host:port of the CardDAV/CalDAV server to write to (credentials from the config/environment); default: the DAV server configured for capture',
}
export const repairAttr = {
  name: 'repair',
  help: `IMAP targets: repairs to apply to messages the server would refuse (${REPAIRS.join(', ')}: bare LF line endings sent as CRLF); each repaired message is reported`,
}
export const dryRunAttr = { name: 'dry_run', help: 'true: print the plan, write nothing' }
export const RESTORE_EXIT_CODES = [
  '6: the target became unavailable; what was restored is recorded, and the same command resumes',
  '7: some items could not be restored (listed with the reason)',
  '130: stopped (doStopOperation, SIGINT or SIGTERM); the same command resumes',
]
export const notificationsAttr = { name: 'notifications', help: 'more addresses (a@b,c@d) for the start and end e-mails' }

export const ownerAttr = { name: 'owner', help: 'maildir targets: who owns the files written (user, user:group, uid or uid:gid); default: the owner of the target directory' }

/** The attributes every restore verb takes (the use case's `RestoreOptions`), in the order --help lists them. */
export const RESTORE_ATTRS = [notificationsAttr, dryRunAttr, targetAttr, davTargetAttr, ownerAttr, repairAttr] as const

/** The attributes given, under the request's field names; one not given is left out, so that the use case's default holds. */
export const attrFields = <K extends string>(attrs: Readonly<Record<string, string>>, names: Readonly<Record<string, K>>): { readonly [k in K]?: string } =>
  Object.fromEntries(Object.entries(names).flatMap(([attr, field]) => (attrs[attr] !== undefined ? [[field, attrs[attr]]] : []))) as { readonly [k in K]?: string }

/** The attributes of `RESTORE_ATTRS`, as the use case's request fields. */
export const restoreOptionsOf = (attrs: Readonly<Record<string, string>>): RestoreOptions =>
  attrFields(attrs, { dry_run: 'dryRun', target: 'target', owner: 'owner', notifications: 'notifications', dav_target: 'davTarget', repair: 'repair' })

export const chooseTarget = (settings: Settings, raw: string | undefined, options: TargetOptions = {}): ChosenTarget => {
  const afterAppend = faultAfter(settings.test.fault, 'append')
  return orExit(chooseTargetE(settings, raw, options, afterAppend === undefined ? {} : { afterAppend }))
}

export const planText = (p: RestorePlan, zone: string): string =>
  [
    `${p.kind} plan for ${p.sourceAccount}${p.targetAccount !== p.sourceAccount ? ` → ${p.targetAccount}` : ''}: ${p.items.length} item(s) in ${p.folders.length} folder(s), ${p.unrestorable.length} unrestorable`,
    ...(p.folderItems.length > 0
      ? [
          `folders recreated as items: ${clipList(
            p.folderItems.map((f) => `/${f.folder.join('/')}`),
            20,
          )}`,
        ]
      : []),
    table([
      ['id', 'folder', 'flags', 'tags', 'date', 'subject'],
      ...p.items
        .slice(0, 50)
        .map((i) => [String(i.itemId), `/${i.folder.join('/')}`, i.flags.join(' ') || '-', i.tags.join(',') || '-', human(i.internalDate, zone), clip(i.subject ?? '')]),
    ]),
    ...(p.items.length > 50 ? [`… ${p.items.length - 50} more (--json lists all)`] : []),
    ...p.unrestorable.slice(0, 20).map((u) => `unrestorable ${u.itemId} (${u.itemType}): ${u.reason}`),
    // Contacts, appointments and tasks: the requests the restore would send to the DAV server.
    ...(isDavPlan(p)
      ? [
          'CardDAV/CalDAV requests:',
          ...davPlanLines(p)
            .filter((l) => !l.startsWith('not restorable:'))
            .slice(0, 100)
            .map((l) => `  ${l}`),
        ]
      : []),
  ].join('\n')

/** Prints the plans (dry run) or runs the restore as an operation and reports it (External Restore; the other verbs call their use case). */
export const runRestoreVerb = async (ctx: Context, run: RestoreRun, attrs: Readonly<Record<string, string>>): Promise<Output> =>
  restoreOutput(orExit(await attempt(() => restorePlans(appDeps(ctx), restorePorts(ctx), run, restoreOptionsOf(attrs)))), ctx.zone)

/** A restore use case's result as the CLI prints it: the --json document, the text, and the exit code of its outcome. */
export const restoreOutput = (r: RestoreResult, zone: string): Output => {
  if (r.dryRun) return { json: r.json, text: [`dry run: nothing written`, r.plans.map((p) => planText(p, zone)).join('\n\n'), ...r.extraText].join('\n') }
  const { summary: s, foldersRecreated, renamedFolders, failedNotes, warnings } = r.report
  const text = [
    `operation ${s.operationId}: ${s.state}`,
    `Restored Items: ${s.restored}`,
    `Skipped Items:  ${s.skipped}`,
    `Unrestored Items: ${s.unrestored.length}`,
    ...unrestoredLines(s.unrestored, s.operationId),
    ...(foldersRecreated.length > 0
      ? [
          `Folders recreated (among the Restored Items): ${clipList(
            foldersRecreated.map((f) => (r.report.accounts > 1 ? `${f.account} ${f.path}` : f.path)),
            20,
          )}`,
        ]
      : []),
    ...renamedFolders.map((f) => `folder ${JSON.stringify(f.original.join('/'))} written as ${JSON.stringify(f.mapped)}`),
    ...failedNotes,
    `into ${r.report.target} in ${r.report.seconds.toFixed(1)} s`,
    ...warnings.map((w) => `warning: ${w}`),
    ...r.extraText,
  ].join('\n')
  const exitCode = OUTCOME_EXIT_CODE[r.outcome]
  if (r.outcome === 'failed') return { json: r.json, text: `${text}\nfailed: ${s.error ?? 'unknown error'}; run the same command again to resume`, exitCode }
  if (r.outcome === 'stopped') return { json: r.json, text: `${text}\nstopped on request; run the same command again to resume`, exitCode }
  return { json: r.json, text, exitCode }
}

/** `a, b, c` with at most `n` shown, then how many more. */
const clipList = (xs: readonly string[], n: number): string => `${xs.slice(0, n).join(', ')}${xs.length > n ? `, … ${xs.length - n} more` : ''}`

/**
 * The report's unrestored lines: one per account and reason with the item ids, at most 20 lines, so
 * that an account the target lacks is one line, not one per message.
 */
export const unrestoredLines = (unrestored: readonly { account: string; itemId: number; reason?: string }[], operationId: string): string[] => {
  const groups = new Map<string, { account: string; reason: string; ids: number[] }>()
  for (const u of unrestored) {
    const key = JSON.stringify([u.account, u.reason ?? ''])
    const g = groups.get(key) ?? { account: u.account, reason: u.reason ?? '', ids: [] }
    g.ids.push(u.itemId)
    groups.set(key, g)
  }
  const lines = [...groups.values()].map((g) => `  ${g.account} ${clipList(g.ids.map(String), 10)}: ${g.reason}`)
  return lines.length > 20 ? [...lines.slice(0, 20), `  … ${lines.length - 20} more reasons (monitor ${operationId} --json lists every item)`] : lines
}
