/**
 * Restore verbs (Carbonio syntax): `doUndelete`, `doRestoreOnNewAccount` and `doItemRestore`. Each
 * computes a pure plan from the projections; `dry_run true` prints it and writes nothing; otherwise
 * the plan is written into the target.
 */
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, parseItemId } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import { type DeletedItem, type PlacedItem, type RestorePlan, planItemRestore, planRestoreOnNewAccount, planUndelete, undeleteTag } from '../../../domain/restore/plan'
import { accountAsOf, accountStateAt } from '../../../projections/accountView'
import type { ItemState } from '../../../domain/state'
import { findAccount } from '../../app/accounts'
import type { ReadBackend } from '../../app/ports'
import { instantArg } from '../dateArgs'
import { folderTreesOf } from '../folderTrees'
import { notFound, usage } from '../failure'
import { booleanAttr, type Context, type Verb } from '../grammar'
import { foundOrFail, human, must, when } from '../render'
import { possiblyInWindowNote } from '../../../domain/restore/undeleteWindow'
import { readDeletionsPossiblyIn } from '../../restore/undeleteWindow'
import { RESTORE_EXIT_CODES, dryRunAttr, notificationsAttr, ownerAttr, runRestoreVerb, targetAttr } from '../restoreRun'

/**
 * Items purged by retention since `from`: a plan built from an earlier state must report them
 * unrestorable (their content is gone), with the purge's reason.
 */
const purgedSince = async (b: ReadBackend, account: AccountId, from: number): Promise<Map<number, ItemState>> =>
  new Map((await must(b.index.changesBetween(account, { from: from as Instant, to: MAX_INSTANT as Instant }))).filter((v) => v.cause === 'ItemPurged').map((v) => [v.itemId as number, v.state]))

const unlessPurged = (purged: ReadonlyMap<number, ItemState>, s: ItemState): ItemState => purged.get(s.itemId) ?? s

const resolve = async (ctx: Context, raw: string): Promise<AccountId> => foundOrFail(raw, await must(findAccount((await ctx.backend()), raw)))

export const doUndelete: Verb = {
  name: 'doUndelete',
  summary: 'Restores the items deleted (not merely moved to Trash) within a window, into their source folders.',
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'start', help: 'start of the deletion window ("dd/MM/yyyy HH:mm:ss" or first)' },
    { name: 'end', help: 'end of the window ("dd/MM/yyyy HH:mm:ss" or last); both ends included' },
  ],
  attributes: [
    { name: 'target_original_folder', help: 'true (default): each item goes to its source folder; false: all under one folder named undelete_DD_MM_YY' },
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    ownerAttr,
  ],
  examples: [
    'mailtime doUndelete alice@example.com "02/03/2026 00:00:00" "04/03/2026 23:59:59" dry_run true',
    'mailtime doUndelete alice@example.com first last notifications legal@example.com',
    'mailtime doUndelete alice@example.com first last target maildir:/srv/restore/alice',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: async (ctx, { positionals: [raw = '', rawStart = '', rawEnd = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const from = instantArg(rawStart, ctx.zone, 'start', { first: true })
    const to = instantArg(rawEnd, ctx.zone, 'end', { last: true })
    if (to < from) throw usage('doUndelete: end is before start')
    const original = booleanAttr(attrs.target_original_folder, 'target_original_folder', true)
    if (E.isLeft(original)) throw usage(original.left)
    const b = await ctx.backend()
    const versions = await must(b.index.deletedBetween(a, { from, to }))
    const latest = new Map<number, (typeof versions)[number]>()
    for (const v of versions) latest.set(v.itemId, v)
    const now = ctx.now()
    const tree = folderTreesOf(b, a)
    const end = await tree(Math.min(to, now))
    const deleted: DeletedItem[] = []
    const purged = await purgedSince(b, a, from)
    for (const v of latest.values()) {
      // The folder with the name it had in the window: at the window's end if it still existed, else as it was at the deletion.
      const t = end.has(v.state.folderId) ? end : await tree(Math.max(0, v.validFrom - 1), [v.state.folderId])
      deleted.push({ state: unlessPurged(purged, v.state), folder: t.segmentsOf(v.state.folderId) })
    }
    const d = DateTime.fromMillis(now, { zone: ctx.zone })
    const tag = undeleteTag({ day: d.day, month: d.month, year: d.year })
    const plan = planUndelete(a, deleted, tag, original.right ? undefined : tag)
    // Deletions a scan could only bound, dated after the window though they may lie in it.
    const possibly = await readDeletionsPossiblyIn(b.store, a, { from, to }, new Set(latest.keys()))
    const note = possiblyInWindowNote(latest.size, possibly, (i) => human(i, ctx.zone))
    return runRestoreVerb(
      ctx,
      {
        verb: 'doUndelete',
        params: { account: a, start: rawStart, end: rawEnd, ...attrs },
        identity: ['undelete', a, from, to, original.right, tag],
        plans: [plan],
        provision: false,
        extra: { json: { possiblyInWindow: possibly.map((p) => ({ from: when(p.from, ctx.zone), to: when(p.to, ctx.zone), deletions: p.deletions })) }, text: note === undefined ? [] : [note] },
      },
      attrs,
    )
  },
}

export const doRestoreOnNewAccount: Verb = {
  name: 'doRestoreOnNewAccount',
  summary: 'Recreates every item that existed in an account at an instant into a new account; the source is never touched. On a deleted account, "last" means the moment before it was deleted (Account Restore).',
  positionals: [
    { name: 'source', help: 'source account' },
    { name: 'destination', help: 'the new account' },
    { name: 'date', help: '"dd/MM/yyyy HH:mm:ss" or last' },
  ],
  attributes: [
    { name: 'undelete', help: 'true: also restore items deleted after undelete_start_date' },
    { name: 'undelete_start_date', help: '"dd/MM/yyyy HH:mm:ss" or first (default first)' },
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    ownerAttr,
  ],
  examples: [
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com "17/11/2026 15:01:00"',
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com last undelete true target maildir:/srv/mail/alice.restored',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: async (ctx, { positionals: [rawSrc = '', dst = '', rawDate = ''], attrs }) => {
    const src = await resolve(ctx, rawSrc)
    const at = instantArg(rawDate, ctx.zone, 'date', { last: true })
    const und = booleanAttr(attrs.undelete, 'undelete', false)
    if (E.isLeft(und)) throw usage(und.left)
    const start = attrs.undelete_start_date === undefined ? instant(0) : instantArg(attrs.undelete_start_date, ctx.zone, 'undelete_start_date', { first: true })
    const plan = await newAccountPlan((await ctx.backend()), src, dst, at, und.right ? start : undefined)
    return runRestoreVerb(
      ctx,
      { verb: 'doRestoreOnNewAccount', params: { source: src, destination: dst, date: rawDate, ...attrs }, identity: ['newAccount', src, dst, at, und.right, attrs.undelete_start_date ?? ''], plans: [plan], provision: true },
      attrs,
    )
  },
}

/**
 * Every item alive in `src` at `at`, folders included (for a deleted account, "at or after its
 * deletion" means the moment before it: Account Restore), plus, with `undeleteFrom`, the items
 * deleted since then (an item alive at `at` and deleted since is planned as it was at `at`).
 */
export const newAccountPlan = async (b: ReadBackend, src: AccountId, dst: string, at0: Instant, undeleteFrom: Instant | undefined): Promise<RestorePlan> => {
  let at = at0
  const info = accountStateAt(src, await must(b.index.accountEvents(src)), { validAt: MAX_INSTANT as Instant })
  if (info.deletedAt !== undefined && at >= info.deletedAt) at = instant(info.deletedAt - 1)
  const view = await must(accountAsOf(b.index, src, { validAt: at }))
  const tree = folderTreesOf(b, src)
  const t = await tree(at, view.items.map((i) => i.folderId))
  const purged = await purgedSince(b, src, Math.min(at, undeleteFrom ?? at))
  const placed: PlacedItem[] = view.items.map((i) => ({ state: unlessPurged(purged, i.state), folder: t.segmentsOf(i.folderId) }))
  // Every folder alive then, empty ones included: the whole tree is recreated.
  for (const f of await must(b.index.foldersAsOf(src, { validAt: at }))) placed.push({ state: unlessPurged(purged, f), folder: t.segmentsOf(f.folderId) })
  if (undeleteFrom !== undefined)
    for (const v of await must(b.index.deletedBetween(src, { from: undeleteFrom, to: MAX_INSTANT as Instant }))) {
      const td = await tree(Math.max(0, v.validFrom - 1), [v.state.folderId])
      placed.push({ state: unlessPurged(purged, v.state), folder: td.segmentsOf(v.state.folderId) })
    }
  return planRestoreOnNewAccount(src, dst, placed)
}

export const doItemRestore: Verb = {
  name: 'doItemRestore',
  summary: "Restores one item's state as of a date, into its folder then (recreated if gone) or restore_folder; never overwrites.",
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'item_id', help: 'item id (see getItem, doItemSearch)' },
  ],
  attributes: [
    { name: 'date', help: '"dd/MM/yyyy HH:mm:ss" or last (default)' },
    { name: 'restore_folder', help: 'folder path to restore into, such as Restored/March' },
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    ownerAttr,
  ],
  examples: ['mailtime doItemRestore alice@example.com 1042 date "03/03/2026 14:00:00"', 'mailtime doItemRestore alice@example.com 1042 restore_folder Restored target maildir:/srv/restore/alice'],
  exitCodes: ['3: the item never existed or did not exist at that date', ...RESTORE_EXIT_CODES],
  run: async (ctx, { positionals: [raw = '', rawItem = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const item = parseItemId(rawItem)
    if (item === undefined) throw usage(`item id must be a positive integer, got ${JSON.stringify(rawItem)}`)
    const b = await ctx.backend()
    const at = attrs.date === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.date, ctx.zone, 'date', { last: true })
    const v = await must(b.index.itemAsOf(a, item, { validAt: at }))
    if (v === undefined) throw notFound(`item ${item} did not exist in ${a} at ${human(at, ctx.zone)}`)
    // A deleted item is restored as it was just before its deletion, in the folder it was in then.
    const folderAt = v.state.status === 'live' ? at : Math.max(0, (v.state.deletedAt ?? v.validFrom) - 1)
    const t = await folderTreesOf(b, a)(folderAt, [v.state.folderId])
    const restoreFolder = attrs.restore_folder?.split('/').filter((s) => s.length > 0)
    const purged = await purgedSince(b, a, at)
    const plan = planItemRestore(a, { state: unlessPurged(purged, v.state), folder: t.segmentsOf(v.state.folderId) }, restoreFolder)
    return runRestoreVerb(ctx, { verb: 'doItemRestore', params: { account: a, item_id: rawItem, ...attrs }, identity: ['item', a, item, at, attrs.restore_folder ?? ''], plans: [plan], provision: false }, attrs)
  },
}
