/**
 * What the restore verbs share: choosing the target (the capture IMAP server by default,
 * `target imap://…` or `target maildir:<dir>`), the provisioner and the notifier from the settings,
 * running the operation with progress and a clean stop on SIGINT/SIGTERM, and the report.
 */
import { createHash } from 'crypto'
import * as os from 'os'
import * as E from 'fp-ts/Either'
import { itemKey } from '../../domain/operations'
import { type RestorePlan, folderItemsOf, planSize } from '../../domain/restore/plan'
import type { BlobStore } from '../blobs/blobStore'
import type { Settings } from '../config'
import type { ChosenTarget, TargetOptions } from '../app/ports'
import { runRestore } from '../restore/runRestore'
import { chooseTarget as chooseTargetE, ownerOf as ownerOfE } from '../wiring/targets'
import { provisionerOf } from '../wiring/provisioner'
import { notifierOf } from '../wiring/notifier'
import { human, table, when, clip } from './render'
import { ExitCode, orExit, usage } from './failure'
import { booleanAttr, type Context, type Output } from './grammar'
import { stopSignal } from './stopSignal'
import { faultAfter } from '../wiring/faults'
import { isAlive } from './processes'
import { initiatorOf } from './initiator'

export const targetAttr = { name: 'target', help: 'imap://host:port (credentials from the config/environment), or maildir:<dir>; default: the IMAP server configured for capture' }
export const dryRunAttr = { name: 'dry_run', help: 'true: print the plan, write nothing' }
export const RESTORE_EXIT_CODES = [
  '6: the target became unavailable; what was restored is recorded, and the same command resumes',
  '7: some items could not be restored (listed with the reason)',
  '130: stopped (doStopOperation, SIGINT or SIGTERM); the same command resumes',
]
export const notificationsAttr = { name: 'notifications', help: 'more addresses (a@b,c@d) for the start and end e-mails' }

export type { ChosenTarget, TargetOptions } from '../app/ports'

export const ownerAttr = { name: 'owner', help: 'maildir targets: who owns the files written (user, user:group, uid or uid:gid); default: the owner of the target directory' }

/** The `owner` attribute's ids, or a usage error naming it. */
const ownerOf = (raw: string | undefined) => orExit(ownerOfE(raw))

export const chooseTarget = (settings: Settings, raw: string | undefined, options: TargetOptions = {}): ChosenTarget => {
  const afterAppend = faultAfter(settings.test.fault, 'append')
  return orExit(chooseTargetE(settings, raw, options, afterAppend === undefined ? {} : { afterAppend }))
}

const recipientsOf = (settings: Settings, extra: string | undefined): string[] => {
  const addresses = [initiatorOf(settings), settings.config.smtp?.admin, ...(extra ?? '').split(',')].map((a) => a?.trim() ?? '').filter((a) => a.includes('@'))
  const bad = (extra ?? '').split(',').map((a) => a.trim()).filter((a) => a.length > 0 && !/^[^@\s,]+@[^@\s,]+$/.test(a))
  if (bad.length > 0) throw usage(`notifications: not an e-mail address: ${bad.join(', ')}`)
  return [...new Set(addresses)]
}

export const planJson = (p: RestorePlan, zone: string) => ({
  kind: p.kind,
  sourceAccount: p.sourceAccount,
  targetAccount: p.targetAccount,
  counts: { items: p.items.length, folderItems: p.folderItems.length, unrestorable: p.unrestorable.length, folders: p.folders.length },
  folders: p.folders.map((f) => f.join('/')),
  items: p.items.map((i) => ({ ...i, folder: i.folder.join('/'), internalDate: when(i.internalDate, zone) })),
  folderItems: p.folderItems.map((f) => ({ itemId: f.itemId, folder: f.folder.join('/') })),
  unrestorable: p.unrestorable,
})

export const planText = (p: RestorePlan, zone: string): string =>
  [
    `${p.kind} plan for ${p.sourceAccount}${p.targetAccount !== p.sourceAccount ? ` → ${p.targetAccount}` : ''}: ${p.items.length} item(s) in ${p.folders.length} folder(s), ${p.unrestorable.length} unrestorable`,
    ...(p.folderItems.length > 0 ? [`folders recreated as items: ${clipList(p.folderItems.map((f) => `/${f.folder.join('/')}`), 20)}`] : []),
    table([
      ['id', 'folder', 'flags', 'tags', 'date', 'subject'],
      ...p.items.slice(0, 50).map((i) => [String(i.itemId), `/${i.folder.join('/')}`, i.flags.join(' ') || '-', i.tags.join(',') || '-', human(i.internalDate, zone), clip(i.subject ?? '')]),
    ]),
    ...(p.items.length > 50 ? [`… ${p.items.length - 50} more (--json lists all)`] : []),
    ...p.unrestorable.slice(0, 20).map((u) => `unrestorable ${u.itemId} (${u.itemType}): ${u.reason}`),
  ].join('\n')

export interface RestoreRun {
  readonly verb: string
  /** The words of the command, for the operation's record. */
  readonly params: Readonly<Record<string, string>>
  /** What identifies "the same restore" besides the target. */
  readonly identity: readonly unknown[]
  readonly plans: readonly RestorePlan[]
  /** Create destination accounts that do not exist (restore on a new account, external restore). */
  readonly provision: boolean
  /** Where the message bytes come from, when not from this store (External Restore). */
  readonly blobs?: BlobStore
  /** What the verb adds to its report, dry run or not: keys of the --json document, and lines of text. */
  readonly extra?: { readonly json: Readonly<Record<string, unknown>>; readonly text: readonly string[] }
}

/** Prints the plans (dry run) or runs the restore as an operation and reports it. */
export const runRestoreVerb = async (ctx: Context, run: RestoreRun, attrs: Readonly<Record<string, string>>): Promise<Output> => {
  const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
  if (E.isLeft(dry)) throw usage(dry.left)
  ownerOf(attrs.owner)
  if (dry.right)
    return {
      json: { dryRun: true, plans: run.plans.map((p) => planJson(p, ctx.zone)), ...(run.plans.length === 1 && { plan: planJson(run.plans[0] as RestorePlan, ctx.zone) }), ...run.extra?.json },
      text: [`dry run: nothing written`, run.plans.map((p) => planText(p, ctx.zone)).join('\n\n'), ...(run.extra?.text ?? [])].join('\n'),
    }
  const created = new Set<string>()
  const chosen = chooseTarget(ctx.settings, attrs.target, { justCreated: (account) => created.has(account), ...(attrs.owner !== undefined && { owner: attrs.owner }) })
  const recipients = recipientsOf(ctx.settings, attrs.notifications)
  const provisioner = run.provision && chosen.server ? provisionerOf(ctx.settings) : undefined
  const b = await ctx.backend()
  const total = run.plans.reduce((n, p) => n + planSize(p), 0)
  const signal = stopSignal()
  ctx.progress.start(`restoring into ${chosen.target.description}`, total)
  const notifier = notifierOf(ctx.settings, os.hostname())
  let outcome
  try {
    outcome = await runRestore(
      {
        operations: b.operations,
        blobs: run.blobs ?? b.blobs,
        ...(notifier !== undefined && { notifier }),
        now: ctx.now,
        host: os.hostname(),
        pid: process.pid,
        isAlive,
        show: (ms) => human(ms, ctx.zone),
        signalled: signal.stopped,
        ...(provisioner !== undefined && {
          provision: async (account: string) => {
            const r = await provisioner.ensure(account)
            if (E.isRight(r) && r.right.created) {
              created.add(account)
              ctx.note(`created account ${account} with ${provisioner.description}`)
            }
            return E.isLeft(r) ? r : E.right(undefined)
          },
        }),
        onProgress: (done) => ctx.progress.update(done),
      },
      {
        verb: run.verb,
        params: run.params,
        resumeKey: resumeKeyOf([...run.identity, chosen.target.description]),
        plans: run.plans,
        target: chosen.target,
        initiator: initiatorOf(ctx.settings),
        recipients,
        provisioning: !run.provision || !chosen.server ? 'not applicable' : provisioner === undefined ? 'not configured' : 'configured',
      },
    )
  } finally {
    ctx.progress.stop()
    signal.dispose()
  }
  const s = outcome.summary
  const failedNotes = s.notifications.filter((n) => !n.sent).map((n) => `the ${n.phase} notification to ${n.to.join(', ')} was not sent: ${n.error ?? 'unknown error'}`)
  for (const n of failedNotes) ctx.note(n)
  const warnings = [...chosen.warnings, ...outcome.warnings]
  const folderItems = folderItemsOf(run.plans)
  const foldersRecreated = outcome.idMap
    .filter((o) => o.outcome === 'restored' && folderItems.has(itemKey(o.account, o.itemId)))
    .map((o) => ({ account: o.account, itemId: o.itemId, path: `/${(folderItems.get(itemKey(o.account, o.itemId)) ?? []).join('/')}` }))
  const json = {
    dryRun: false,
    operationId: s.operationId,
    state: s.state,
    target: chosen.target.description,
    restored: s.restored,
    skipped: s.skipped,
    unrestored: s.unrestored.map((u) => ({ account: u.account, itemId: u.itemId, reason: u.reason ?? '' })),
    renamedFolders: outcome.renamedFolders,
    foldersRecreated,
    warnings,
    idMap: outcome.idMap.map((o) => ({ account: o.account, itemId: o.itemId, outcome: o.outcome, location: o.location ?? '' })),
    notifications: s.notifications,
    ...(s.error !== undefined && { error: s.error }),
    seconds: outcome.seconds,
    ...run.extra?.json,
  }
  const text = [
    `operation ${s.operationId}: ${s.state}`,
    `Restored Items: ${s.restored}`,
    `Skipped Items:  ${s.skipped}`,
    `Unrestored Items: ${s.unrestored.length}`,
    ...unrestoredLines(s.unrestored, s.operationId),
    ...(foldersRecreated.length > 0 ? [`Folders recreated (among the Restored Items): ${clipList(foldersRecreated.map((f) => (run.plans.length > 1 ? `${f.account} ${f.path}` : f.path)), 20)}`] : []),
    ...outcome.renamedFolders.map((f) => `folder ${JSON.stringify(f.original.join('/'))} written as ${JSON.stringify(f.mapped)}`),
    ...failedNotes,
    `into ${chosen.target.description} in ${outcome.seconds.toFixed(1)} s`,
    ...warnings.map((w) => `warning: ${w}`),
    ...(run.extra?.text ?? []),
  ].join('\n')
  if (s.state === 'failed')
    return { json, text: `${text}\nfailed: ${s.error ?? 'unknown error'}; run the same command again to resume`, exitCode: ExitCode.UNAVAILABLE }
  if (s.state === 'stopped') return { json, text: `${text}\nstopped on request; run the same command again to resume`, exitCode: ExitCode.INTERRUPTED }
  return { json, text, exitCode: s.unrestored.length > 0 ? ExitCode.PARTIAL : ExitCode.OK }
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

/** A restore's identity: the same command against the same target gets the same key, so a re-run skips what is done. */
export const resumeKeyOf = (parts: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16)
