/**
 * The restore use cases: `undelete`, `restoreOnNewAccount` and `itemRestore`. Each reads the
 * backup, computes a pure plan (domain/restore/plan.ts), and hands it to `restorePlans`, which
 * returns it (dry run) or writes it into the target. The rules that pick what a plan holds live
 * here, once, for the CLI and the HTTP API.
 */
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, parseItemId } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import { type DeletedItem, type PlacedItem, type RestorePlan, planItemRestore, planRestoreOnNewAccount, planUndelete, undeleteTag } from '../../../domain/restore/plan'
import { possiblyInWindowNote } from '../../../domain/restore/undeleteWindow'
import type { ItemState } from '../../../domain/state'
import { accountAsOf, accountStateAt } from '../../../projections/accountView'
import { readDeletionsPossiblyIn } from '../../restore/undeleteWindow'
import type { DavRestorePlan } from '../../dav/restorePlan'
import { davItemPlan, davNewAccountPlan, davUndeletePlan, homesFor, nonEmpty, splitDav } from '../../dav/restoreWiring'
import { planSize } from '../../../domain/restore/plan'
import { formatInstant } from '../../time/dates'
import { type AppError, attempt, fail, notFoundError, usageError } from '../errors'
import { when } from '../json'
import type { AppDeps, ReadBackend, RestorePorts } from '../ports'
import { booleanWord, folderTreesOf, instantArg, must, resolveAccount } from '../support'
import { type RestoreOptions, type RestoreResult, optionWords, restorePlans } from './run'

/**
 * Items purged by retention since `from`: a plan built from an earlier state must report them
 * unrestorable (their content is gone), with the purge's reason.
 */
const purgedSince = async (b: ReadBackend, account: AccountId, from: number): Promise<Map<number, ItemState>> =>
  new Map(
    (await must(b.index.changesBetween(account, { from: from as Instant, to: MAX_INSTANT as Instant })))
      .filter((v) => v.cause === 'ItemPurged')
      .map((v) => [v.itemId as number, v.state]),
  )

const unlessPurged = (purged: ReadonlyMap<number, ItemState>, s: ItemState): ItemState => purged.get(s.itemId) ?? s

/**
 * The plans a restore runs: the mail plan, and the plan of contacts, appointments and tasks when
 * there are any (without the mail plan when it is empty, so that a restore of DAV items alone needs
 * no mail target).
 */
const withDav = (mail: RestorePlan, dav: DavRestorePlan | undefined): RestorePlan[] => (dav === undefined || !nonEmpty(dav) ? [mail] : planSize(mail) === 0 ? [dav] : [mail, dav])

const human = (i: number, zone: string): string => (i >= MAX_INSTANT ? '…' : formatInstant(i, zone))

export interface UndeleteRequest extends RestoreOptions {
  readonly account: string
  /** Start of the deletion window, in the user's words (`first` allowed). */
  readonly start: string
  /** End of the window (`last` allowed); both ends included. */
  readonly end: string
  /** `true` (default): each message into its source folder; `false`: all under one folder `undelete_DD_MM_YY` (contacts, appointments and tasks always go back to their collections). */
  readonly targetOriginalFolder?: string
}

/**
 * What an undelete restores: the latest deletion of every item deleted (not merely moved to Trash)
 * within [from, to], each into the folder it was deleted from, named as at the window's end when
 * that folder still existed then, else as it was just before the deletion; an item purged since is
 * unrestorable; contacts, appointments and tasks in a DAV plan, back into their collections. Also the
 * deletions a scan could only bound that may lie in the window.
 */
export const undeletePlan = async (b: ReadBackend, a: AccountId, window: { from: Instant; to: Instant }, now: Instant, zone: string, originalFolder: boolean) => {
  const { from, to } = window
  const versions = await must(b.index.deletedBetween(a, { from, to }))
  const latestAll = new Map<number, (typeof versions)[number]>()
  for (const v of versions) latestAll.set(v.itemId, v)
  // Contacts, appointments and tasks go back to their collections on the DAV server.
  const split = splitDav([...latestAll.values()], (v) => v.state)
  const latest = new Map(split.mail.map((v) => [v.itemId as number, v]))
  const tree = folderTreesOf(b, a)
  const end = await tree(Math.min(to, now))
  const deleted: DeletedItem[] = []
  const purged = await purgedSince(b, a, from)
  for (const v of latest.values()) {
    // The folder with the name it had in the window: at the window's end if it still existed; else,
    // when the folder was deleted in the window too (it is recreated with its items), as it was just
    // before its own deletion, so that its messages go back into it whenever each was deleted (a log
    // line may date one before a rename); else as it was just before the item's deletion.
    const folderGone = latestAll.get(v.state.folderId)?.validFrom
    const t = end.has(v.state.folderId) ? end : await tree(Math.max(0, (folderGone ?? v.validFrom) - 1), [v.state.folderId])
    deleted.push({ state: unlessPurged(purged, v.state), folder: t.segmentsOf(v.state.folderId) })
  }
  const d = DateTime.fromMillis(now, { zone })
  const tag = undeleteTag({ day: d.day, month: d.month, year: d.year })
  const plan = planUndelete(a, deleted, tag, originalFolder ? undefined : tag)
  const davPlan =
    split.dav.length === 0
      ? undefined
      : await must(() =>
          davUndeletePlan(
            b.index,
            a,
            split.dav.map((v) => unlessPurged(purged, v.state)),
          ),
        )
  // Deletions a scan could only bound, dated after the window though they may lie in it.
  const possibly = await readDeletionsPossiblyIn(b.store, b.index, a, { from, to }, new Set(latestAll.keys()))
  return { plans: withDav(plan, davPlan), tag, possibly, found: latestAll.size }
}

export const undelete = (deps: AppDeps, ports: RestorePorts, req: UndeleteRequest): Promise<E.Either<AppError, RestoreResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const from = instantArg(req.start, deps.zone, 'start', { first: true })
    const to = instantArg(req.end, deps.zone, 'end', { last: true })
    if (to < from) fail(usageError('doUndelete: end is before start'))
    const original = booleanWord(req.targetOriginalFolder, 'target_original_folder', true)
    const { plans, tag, possibly, found } = await undeletePlan(b, a, { from, to }, deps.now(), deps.zone, original)
    const note = possiblyInWindowNote(found, possibly, (i) => human(i, deps.zone))
    return restorePlans(
      deps,
      ports,
      {
        verb: 'doUndelete',
        params: {
          account: a,
          start: req.start,
          end: req.end,
          ...(req.targetOriginalFolder !== undefined && { target_original_folder: req.targetOriginalFolder }),
          ...optionWords(req),
        },
        identity: ['undelete', a, from, to, original, tag],
        plans,
        provision: false,
        extra: {
          json: { possiblyInWindow: possibly.map((p) => ({ from: when(p.from, deps.zone), to: when(p.to, deps.zone), deletions: p.deletions })) },
          text: note === undefined ? [] : [note],
        },
      },
      req,
    )
  })

export interface NewAccountRequest extends RestoreOptions {
  readonly source: string
  readonly destination: string
  /** The instant, in the user's words (`last` allowed). */
  readonly date: string
  /** `true`: also restore the items deleted after `undeleteStartDate`. */
  readonly undelete?: string
  readonly undeleteStartDate?: string
}

/**
 * Every item alive in `src` at `at`, folders included (for a deleted account, "at or after its
 * deletion" means the moment before it: Account Restore), plus, with `undeleteFrom`, the items
 * deleted since then (an item alive at `at` and deleted since is planned as it was at `at`): the
 * messages and mail folders in the mail plan, contacts, appointments, tasks and their collections
 * in a DAV plan at the same paths below the destination's home (`homes`).
 */
export const newAccountPlans = async (
  b: ReadBackend,
  src: AccountId,
  dst: string,
  at0: Instant,
  undeleteFrom: Instant | undefined,
  homes: { source: string; target: string },
): Promise<RestorePlan[]> => {
  let at = at0
  const info = accountStateAt(src, await must(b.index.accountEvents(src)), { validAt: MAX_INSTANT as Instant })
  if (info.deletedAt !== undefined && at >= info.deletedAt) at = instant(info.deletedAt - 1)
  const view = await must(accountAsOf(b.index, src, { validAt: at }))
  const tree = folderTreesOf(b, src)
  const t = await tree(
    at,
    view.items.map((i) => i.folderId),
  )
  const purged = await purgedSince(b, src, Math.min(at, undeleteFrom ?? at))
  const placed: PlacedItem[] = view.items.map((i) => ({ state: unlessPurged(purged, i.state), folder: t.segmentsOf(i.folderId) }))
  // Every folder alive then, empty ones included: the whole tree is recreated.
  for (const f of await must(b.index.foldersAsOf(src, { validAt: at }))) placed.push({ state: unlessPurged(purged, f), folder: t.segmentsOf(f.folderId) })
  if (undeleteFrom !== undefined)
    for (const v of await must(b.index.deletedBetween(src, { from: undeleteFrom, to: MAX_INSTANT as Instant }))) {
      const td = await tree(Math.max(0, v.validFrom - 1), [v.state.folderId])
      placed.push({ state: unlessPurged(purged, v.state), folder: td.segmentsOf(v.state.folderId) })
    }
  const split = splitDav(placed, (p) => p.state)
  const mail = planRestoreOnNewAccount(src, dst, split.mail)
  if (split.dav.length === 0) return [mail]
  // The view lists items, not the collections themselves: each object's collection comes with it.
  const dav = await must(() =>
    davNewAccountPlan(
      b.index,
      src,
      dst,
      split.dav.map((p) => p.state),
      at,
      homes,
    ),
  )
  return withDav(mail, dav)
}

export const restoreOnNewAccount = (deps: AppDeps, ports: RestorePorts, req: NewAccountRequest): Promise<E.Either<AppError, RestoreResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const src = await resolveAccount(b, req.source)
    const at = instantArg(req.date, deps.zone, 'date', { last: true })
    const und = booleanWord(req.undelete, 'undelete', false)
    const start = req.undeleteStartDate === undefined ? instant(0) : instantArg(req.undeleteStartDate, deps.zone, 'undelete_start_date', { first: true })
    const dav = ports.davSource(req.davTarget)
    if (E.isLeft(dav)) return fail(dav.left)
    const plans = await newAccountPlans(b, src, req.destination, at, und ? start : undefined, homesFor(dav.right, src, req.destination))
    return restorePlans(
      deps,
      ports,
      {
        verb: 'doRestoreOnNewAccount',
        params: {
          source: src,
          destination: req.destination,
          date: req.date,
          ...(req.undelete !== undefined && { undelete: req.undelete }),
          ...(req.undeleteStartDate !== undefined && { undelete_start_date: req.undeleteStartDate }),
          ...optionWords(req),
        },
        identity: ['newAccount', src, req.destination, at, und, req.undeleteStartDate ?? ''],
        plans,
        provision: true,
      },
      req,
    )
  })

export interface ItemRestoreRequest extends RestoreOptions {
  readonly account: string
  readonly itemId: string
  /** The instant, in the user's words (default `last`). */
  readonly date?: string
  /** A folder path to restore a message into, such as Restored/March (contacts, appointments and tasks go back to their collections). */
  readonly restoreFolder?: string
}

export const itemRestore = (deps: AppDeps, ports: RestorePorts, req: ItemRestoreRequest): Promise<E.Either<AppError, RestoreResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const item = parseItemId(req.itemId)
    if (item === undefined) return fail(usageError(`item id must be a positive integer, got ${JSON.stringify(req.itemId)}`))
    const at = req.date === undefined ? (MAX_INSTANT as Instant) : instantArg(req.date, deps.zone, 'date', { last: true })
    const v = await must(b.index.itemAsOf(a, item, { validAt: at }))
    if (v === undefined) return fail(notFoundError(`item ${item} did not exist in ${a} at ${human(at, deps.zone)}`))
    // A deleted item is restored as it was just before its deletion, in the folder it was in then.
    const folderAt = v.state.status === 'live' ? at : Math.max(0, (v.state.deletedAt ?? v.validFrom) - 1)
    const t = await folderTreesOf(b, a)(folderAt, [v.state.folderId])
    const restoreFolder = req.restoreFolder?.split('/').filter((s) => s.length > 0)
    const purged = await purgedSince(b, a, at)
    // A contact, appointment or task (or a collection) goes back to its own path on the DAV server.
    const isDav = splitDav([v.state], (s) => s).dav.length > 0
    if (isDav && restoreFolder !== undefined)
      return fail(usageError(`restore_folder applies to messages: ${v.state.itemType} ${item} goes back to its own collection on the CardDAV/CalDAV server`))
    const plan: RestorePlan = isDav
      ? await must(() => davItemPlan(b.index, a, unlessPurged(purged, v.state), at))
      : planItemRestore(a, { state: unlessPurged(purged, v.state), folder: t.segmentsOf(v.state.folderId) }, restoreFolder)
    return restorePlans(
      deps,
      ports,
      {
        verb: 'doItemRestore',
        params: {
          account: a,
          item_id: req.itemId,
          ...(req.date !== undefined && { date: req.date }),
          ...(req.restoreFolder !== undefined && { restore_folder: req.restoreFolder }),
          ...optionWords(req),
        },
        identity: ['item', a, item, at, req.restoreFolder ?? ''],
        plans: [plan],
        provision: false,
      },
      req,
    )
  })
