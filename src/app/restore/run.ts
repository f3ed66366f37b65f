/**
 * A restore's orchestration, shared by every restore use case: a dry run returns the plans; a run
 * chooses the target, checks the recipients, creates missing destination accounts when the
 * provisioner allows, runs the operation (runRestore) with progress and a stop signal, and builds
 * the report. The `--json` document is built here; its `outcome` is what the adapters map (an exit
 * code, a job state).
 */
import { createHash } from 'crypto'
import * as E from 'fp-ts/Either'
import { type OperationSummary, itemKey } from '../../../domain/operations'
import { type RestorePlan, folderItemsOf, planSize } from '../../../domain/restore/plan'
import type { BlobStore } from '../../blobs/blobStore'
import type { RestoreTarget } from '../../restore/target'
import { runRestore } from '../../restore/runRestore'
import { REPAIRS, type Repair, isRepair } from '../../restore/messageRepair'
import { isDavPlan } from '../../dav/restorePlan'
import { combinedTarget } from '../../dav/restoreWiring'
import { type AppError, type Outcome, fail, usageError } from '../errors'
import { when } from '../json'
import type { AppDeps, RestorePorts } from '../ports'
import { booleanWord } from '../support'
import { formatInstant } from '../../time/dates'
import { MAX_INSTANT } from '../../../domain/instant'

/** The words every restore takes besides its own. */
export interface RestoreOptions {
  /** `true`: compute and return the plans, write nothing. */
  readonly dryRun?: string
  /** `imap://host:port` or `maildir:<dir>`; default the IMAP server configured for capture. */
  readonly target?: string
  /** Maildir targets: who owns the files written. */
  readonly owner?: string
  /** More addresses (`a@b,c@d`) for the start and end e-mails. */
  readonly notifications?: string
  /** Contacts, appointments and tasks: `http(s)://host:port` of the CardDAV/CalDAV server; default the one configured for capture. */
  readonly davTarget?: string
  /** IMAP targets: repairs for messages the server would refuse (`bare_lf`), comma-separated. */
  readonly repair?: string
}

/** The options as the words of the command, for the operation's record. */
export const optionWords = (o: RestoreOptions): Record<string, string> => ({
  ...(o.notifications !== undefined && { notifications: o.notifications }),
  ...(o.dryRun !== undefined && { dry_run: o.dryRun }),
  ...(o.target !== undefined && { target: o.target }),
  ...(o.owner !== undefined && { owner: o.owner }),
  ...(o.davTarget !== undefined && { dav_target: o.davTarget }),
  ...(o.repair !== undefined && { repair: o.repair }),
})

/** The `repair` word's repairs, or a usage error naming the one not known. */
export const repairsOf = (raw: string | undefined): E.Either<AppError, ReadonlySet<Repair>> => {
  const out = new Set<Repair>()
  for (const r of (raw ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0)) {
    if (!isRepair(r)) return E.left(usageError(`unknown repair ${JSON.stringify(r)}: the repairs are ${REPAIRS.join(', ')}`))
    out.add(r)
  }
  return E.right(out)
}

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
  /** What the use case adds to its report, dry run or not: keys of the --json document, and lines of text. */
  readonly extra?: { readonly json: Readonly<Record<string, unknown>>; readonly text: readonly string[] }
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
  ...(isDavPlan(p) && { dav: p.dav }),
})

/** What a run reports besides its --json document (the CLI's text is rendered from it). */
export interface RunReport {
  readonly summary: OperationSummary
  readonly target: string
  readonly foldersRecreated: readonly { readonly account: string; readonly itemId: number; readonly path: string }[]
  readonly renamedFolders: readonly { readonly original: readonly string[]; readonly mapped: string }[]
  readonly failedNotes: readonly string[]
  readonly warnings: readonly string[]
  readonly seconds: number
  readonly accounts: number
}

export type RestoreResult =
  | { readonly dryRun: true; readonly outcome: 'done'; readonly json: Record<string, unknown>; readonly plans: readonly RestorePlan[]; readonly extraText: readonly string[] }
  | { readonly dryRun: false; readonly outcome: Outcome; readonly json: Record<string, unknown>; readonly report: RunReport; readonly extraText: readonly string[] }

export const recipientsOf = (initiator: string, admin: string | undefined, extra: string | undefined): string[] => {
  const addresses = [initiator, admin, ...(extra ?? '').split(',')].map((a) => a?.trim() ?? '').filter((a) => a.includes('@'))
  const bad = (extra ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a.length > 0 && !/^[^@\s,]+@[^@\s,]+$/.test(a))
  if (bad.length > 0) fail(usageError(`notifications: not an e-mail address: ${bad.join(', ')}`))
  return [...new Set(addresses)]
}

const orFail = <A>(r: E.Either<AppError, A>): A => (E.isLeft(r) ? fail(r.left) : r.right)

/** A restore's identity: the same command against the same target gets the same key, so a re-run skips what is done. */
export const resumeKeyOf = (parts: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16)

const show =
  (zone: string) =>
  (i: number | null | undefined): string =>
    i === null || i === undefined || i >= MAX_INSTANT ? '…' : formatInstant(i, zone)

/** Returns the plans (dry run), or runs the restore as an operation and reports it. */
export const restorePlans = async (deps: AppDeps, ports: RestorePorts, run: RestoreRun, options: RestoreOptions): Promise<RestoreResult> => {
  const dry = booleanWord(options.dryRun, 'dry_run', false)
  orFail(ports.checkOwner(options.owner))
  const repairs = orFail(repairsOf(options.repair))
  if (dry)
    return {
      dryRun: true,
      outcome: 'done',
      plans: run.plans,
      extraText: run.extra?.text ?? [],
      json: {
        dryRun: true,
        plans: run.plans.map((p) => planJson(p, deps.zone)),
        ...(run.plans.length === 1 && { plan: planJson(run.plans[0] as RestorePlan, deps.zone) }),
        ...run.extra?.json,
      },
    }
  const created = new Set<string>()
  // Messages go to the mail target; contacts, appointments and tasks to the DAV server. A restore
  // of DAV items alone needs no mail target, and one of messages alone no DAV server.
  const mailTarget = run.plans.some((p) => !isDavPlan(p))
    ? orFail(ports.chooseTarget(options.target, { justCreated: (account) => created.has(account), ...(options.owner !== undefined && { owner: options.owner }), repairs }))
    : undefined
  const davPlans = run.plans.filter(isDavPlan)
  const davSource = orFail(ports.davSource(options.davTarget))
  if (davPlans.length > 0 && davSource === undefined)
    fail(
      usageError(
        `${davPlans.reduce((n, p) => n + p.items.length + p.folderItems.length, 0)} contact(s), appointment(s), task(s) or collection(s) go to a CardDAV/CalDAV server: set MAILTIME_DAV_URL (and MAILTIME_DAV_USER, MAILTIME_DAV_PASSWORD) or the "dav" section of the config file, or give dav_target; or dry_run true`,
      ),
    )
  const combined = combinedTarget(mailTarget?.target, davPlans.length > 0 ? davSource : undefined)
  const target: RestoreTarget = E.isLeft(combined) ? fail(usageError(combined.left)) : combined.right
  const chosen = { target, server: mailTarget?.server ?? false, warnings: mailTarget?.warnings ?? [] }
  const recipients = recipientsOf(deps.operator.initiator, ports.admin, options.notifications)
  const provisioner = run.provision && chosen.server ? ports.provisioner() : undefined
  const b = await deps.backend()
  const total = run.plans.reduce((n, p) => n + planSize(p), 0)
  const signal = ports.stopSignal()
  deps.progress.start(`restoring into ${chosen.target.description}`, total)
  const notifier = ports.notifier()
  let outcome
  try {
    outcome = await runRestore(
      {
        operations: b.operations,
        blobs: run.blobs ?? b.blobs,
        ...(notifier !== undefined && { notifier }),
        now: deps.now,
        host: deps.operator.host,
        pid: deps.operator.pid,
        isAlive: deps.isAlive,
        show: show(deps.zone),
        signalled: signal.stopped,
        ...(provisioner !== undefined && {
          provision: async (account: string) => {
            const r = await provisioner.ensure(account)
            if (E.isRight(r) && r.right.created) {
              created.add(account)
              deps.note(`created account ${account} with ${provisioner.description}`)
            }
            return E.isLeft(r) ? r : E.right(undefined)
          },
        }),
        onProgress: (done) => deps.progress.update(done),
      },
      {
        verb: run.verb,
        params: run.params,
        resumeKey: resumeKeyOf([...run.identity, chosen.target.description]),
        plans: run.plans,
        target: chosen.target,
        initiator: deps.operator.initiator,
        recipients,
        provisioning: !run.provision || !chosen.server ? 'not applicable' : provisioner === undefined ? 'not configured' : 'configured',
      },
    )
  } finally {
    deps.progress.stop()
    signal.dispose()
  }
  const s = outcome.summary
  const failedNotes = s.notifications.filter((n) => !n.sent).map((n) => `the ${n.phase} notification to ${n.to.join(', ')} was not sent: ${n.error ?? 'unknown error'}`)
  for (const n of failedNotes) deps.note(n)
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
  const result: Outcome = s.state === 'failed' ? 'failed' : s.state === 'stopped' ? 'stopped' : s.unrestored.length > 0 ? 'partial' : 'done'
  return {
    dryRun: false,
    outcome: result,
    json,
    extraText: run.extra?.text ?? [],
    report: {
      summary: s,
      target: chosen.target.description,
      foldersRecreated,
      renamedFolders: outcome.renamedFolders,
      failedNotes,
      warnings,
      seconds: outcome.seconds,
      accounts: run.plans.length,
    },
  }
}
