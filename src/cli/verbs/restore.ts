/**
 * Restore verbs (Carbonio syntax): `doUndelete`, `doRestoreOnNewAccount` and `doItemRestore`. Each
 * computes a pure plan from the projections; `dry_run true` prints it and writes nothing; otherwise
 * the plan is written into the target.
 */
import { createHash } from 'crypto'
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, parseItemId } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import { type DeletedItem, type PlacedItem, type RestorePlan, planItemRestore, planRestoreOnNewAccount, planUndelete, undeleteTag } from '../../../domain/restore/plan'
import { accountAsOf, accountStateAt } from '../../../projections/accountView'
import { findAccount } from '../../app/accounts'
import { maildirTarget } from '../../restore/maildirTarget'
import type { RestoreTarget } from '../../restore/target'
import { instantArg } from '../dateArgs'
import { folderTreesOf } from '../folderTrees'
import { CliFailure, ExitCode, notFound, usage } from '../failure'
import { booleanAttr, type Context, type Output, type Verb } from '../grammar'
import { clip, foundOrFail, human, must, table, when } from '../render'

const targetAttr = { name: 'target', help: 'maildir:<dir> (the IMAP target arrives in a later version)' }
const dryRunAttr = { name: 'dry_run', help: 'true: print the plan, write nothing' }

const resolve = async (ctx: Context, raw: string): Promise<AccountId> => foundOrFail(raw, await must(findAccount(ctx.backend(), raw)))

const targetOf = (raw: string | undefined): RestoreTarget => {
  if (raw === undefined)
    throw usage('restoring into the IMAP server is not available in this version; give target maildir:<dir> (Dovecot serves that tree as is), or dry_run true')
  if (raw.startsWith('maildir:') && raw.length > 'maildir:'.length) return maildirTarget(raw.slice('maildir:'.length))
  throw usage(`unsupported target ${JSON.stringify(raw)}: use maildir:<dir>`)
}

/** A restore's identity: the same command against the same target gets the same key, so a re-run skips what is done. */
const opKeyOf = (parts: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 12)

const planJson = (p: RestorePlan, zone: string) => ({
  kind: p.kind,
  sourceAccount: p.sourceAccount,
  targetAccount: p.targetAccount,
  counts: { items: p.items.length, unrestorable: p.unrestorable.length, folders: p.folders.length },
  folders: p.folders.map((f) => f.join('/')),
  items: p.items.map((i) => ({ ...i, folder: i.folder.join('/'), internalDate: when(i.internalDate, zone) })),
  unrestorable: p.unrestorable,
})

const planText = (p: RestorePlan, zone: string): string =>
  [
    `${p.kind} plan for ${p.sourceAccount}${p.targetAccount !== p.sourceAccount ? ` → ${p.targetAccount}` : ''}: ${p.items.length} item(s) in ${p.folders.length} folder(s), ${p.unrestorable.length} unrestorable`,
    table([
      ['id', 'folder', 'flags', 'tags', 'date', 'subject'],
      ...p.items.slice(0, 50).map((i) => [String(i.itemId), `/${i.folder.join('/')}`, i.flags.join(' ') || '-', i.tags.join(',') || '-', human(i.internalDate, zone), clip(i.subject ?? '')]),
    ]),
    ...(p.items.length > 50 ? [`… ${p.items.length - 50} more (--json lists all)`] : []),
    ...p.unrestorable.slice(0, 20).map((u) => `unrestorable ${u.itemId} (${u.itemType}): ${u.reason}`),
  ].join('\n')

const run = async (ctx: Context, plan: RestorePlan, attrs: Readonly<Record<string, string>>, opKey: string): Promise<Output> => {
  const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
  if (E.isLeft(dry)) throw usage(dry.left)
  if (dry.right) return { json: { dryRun: true, plan: planJson(plan, ctx.zone) }, text: `dry run: nothing written\n${planText(plan, ctx.zone)}` }
  const target = targetOf(attrs.target)
  const started = Date.now()
  ctx.progress.start(`restoring into ${target.description}`, plan.items.length)
  const r = await target.materialize(plan, ctx.backend().blobs, opKey, (done) => ctx.progress.update(done))
  ctx.progress.stop()
  if (E.isLeft(r)) throw new CliFailure(`restore into ${r.left.target} failed: ${r.left.reason}`, ExitCode.UNAVAILABLE)
  const rep = r.right
  const unrestored = [...plan.unrestorable.map((u) => ({ itemId: u.itemId, reason: u.reason })), ...rep.unrestored]
  const seconds = (Date.now() - started) / 1000
  return {
    json: {
      dryRun: false,
      target: target.description,
      restored: rep.restored,
      skipped: rep.skipped,
      unrestored,
      renamedFolders: rep.renamedFolders,
      idMap: rep.locations,
      seconds,
    },
    text: [
      `Restored Items: ${rep.restored}`,
      `Skipped Items:  ${rep.skipped}`,
      `Unrestored Items: ${unrestored.length}`,
      ...unrestored.slice(0, 20).map((u) => `  ${u.itemId}: ${u.reason}`),
      ...rep.renamedFolders.map((f) => `folder ${JSON.stringify(f.original.join('/'))} written as ${JSON.stringify(f.mapped)}`),
      `into ${target.description} in ${seconds.toFixed(1)} s`,
    ].join('\n'),
    exitCode: unrestored.length > 0 ? ExitCode.PARTIAL : ExitCode.OK,
  }
}

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
    dryRunAttr,
    targetAttr,
  ],
  examples: ['mailtime doUndelete alice@example.com "02/03/2026 00:00:00" "04/03/2026 23:59:59" dry_run true', 'mailtime doUndelete alice@example.com first last target maildir:/srv/restore/alice'],
  exitCodes: ['7: some items could not be restored (listed with the reason)'],
  run: async (ctx, { positionals: [raw = '', rawStart = '', rawEnd = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const from = instantArg(rawStart, ctx.zone, 'start', { first: true })
    const to = instantArg(rawEnd, ctx.zone, 'end', { last: true })
    if (to < from) throw usage('doUndelete: end is before start')
    const original = booleanAttr(attrs.target_original_folder, 'target_original_folder', true)
    if (E.isLeft(original)) throw usage(original.left)
    const b = ctx.backend()
    const versions = await must(b.index.deletedBetween(a, { from, to }))
    const latest = new Map<number, (typeof versions)[number]>()
    for (const v of versions) latest.set(v.itemId, v)
    const now = ctx.now()
    const tree = folderTreesOf(b, a)
    const end = await tree(Math.min(to, now))
    const deleted: DeletedItem[] = []
    for (const v of latest.values()) {
      // The folder with the name it had in the window: at the window's end if it still existed, else as it was at the deletion.
      const t = end.has(v.state.folderId) ? end : await tree(Math.max(0, v.validFrom - 1))
      deleted.push({ state: v.state, folder: t.segmentsOf(v.state.folderId) })
    }
    const d = DateTime.fromMillis(now, { zone: ctx.zone })
    const tag = undeleteTag({ day: d.day, month: d.month, year: d.year })
    const plan = planUndelete(a, deleted, tag, original.right ? undefined : tag)
    return run(ctx, plan, attrs, opKeyOf(['undelete', a, from, to, original.right, tag, attrs.target ?? '']))
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
    dryRunAttr,
    targetAttr,
  ],
  examples: ['mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com "17/11/2026 15:01:00" target maildir:/srv/mail/alice.restored'],
  exitCodes: ['7: some items could not be restored (listed with the reason)'],
  run: async (ctx, { positionals: [rawSrc = '', dst = '', rawDate = ''], attrs }) => {
    const src = await resolve(ctx, rawSrc)
    const b = ctx.backend()
    let at = instantArg(rawDate, ctx.zone, 'date', { last: true })
    const info = accountStateAt(src, await must(b.index.accountEvents(src)), { validAt: MAX_INSTANT as Instant })
    // Account Restore: a deleted account is restored as it was the moment before its deletion.
    if (info.deletedAt !== undefined && at >= info.deletedAt) at = instant(info.deletedAt - 1)
    const view = await must(accountAsOf(b.index, src, { validAt: at }))
    const tree = folderTreesOf(b, src)
    const t = await tree(at)
    const placed: PlacedItem[] = view.items.map((i) => ({ state: i.state, folder: t.segmentsOf(i.folderId) }))
    const und = booleanAttr(attrs.undelete, 'undelete', false)
    if (E.isLeft(und)) throw usage(und.left)
    if (und.right) {
      const start = attrs.undelete_start_date === undefined ? instant(0) : instantArg(attrs.undelete_start_date, ctx.zone, 'undelete_start_date', { first: true })
      for (const v of await must(b.index.deletedBetween(src, { from: start, to: MAX_INSTANT as Instant }))) {
        const td = await tree(Math.max(0, v.validFrom - 1))
        placed.push({ state: v.state, folder: td.segmentsOf(v.state.folderId) })
      }
    }
    const plan = planRestoreOnNewAccount(src, dst, placed)
    return run(ctx, plan, attrs, opKeyOf(['newAccount', src, dst, at, und.right, attrs.undelete_start_date ?? '', attrs.target ?? '']))
  },
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
    dryRunAttr,
    targetAttr,
  ],
  examples: ['mailtime doItemRestore alice@example.com 1042 date "03/03/2026 14:00:00" target maildir:/srv/restore/alice'],
  exitCodes: ['3: the item never existed or did not exist at that date', '7: the item could not be restored (the reason is given)'],
  run: async (ctx, { positionals: [raw = '', rawItem = ''], attrs }) => {
    const a = await resolve(ctx, raw)
    const item = parseItemId(rawItem)
    if (item === undefined) throw usage(`item id must be a positive integer, got ${JSON.stringify(rawItem)}`)
    const b = ctx.backend()
    const at = attrs.date === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.date, ctx.zone, 'date', { last: true })
    const v = await must(b.index.itemAsOf(a, item, { validAt: at }))
    if (v === undefined) throw notFound(`item ${item} did not exist in ${a} at ${human(at, ctx.zone)}`)
    // A deleted item is restored as it was just before its deletion, in the folder it was in then.
    const folderAt = v.state.status === 'live' ? at : Math.max(0, (v.state.deletedAt ?? v.validFrom) - 1)
    const t = await folderTreesOf(b, a)(folderAt)
    const restoreFolder = attrs.restore_folder?.split('/').filter((s) => s.length > 0)
    const plan = planItemRestore(a, { state: v.state, folder: t.segmentsOf(v.state.folderId) }, restoreFolder)
    return run(ctx, plan, attrs, opKeyOf(['item', a, item, at, attrs.restore_folder ?? '', attrs.target ?? '']))
  },
}
