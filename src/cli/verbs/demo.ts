/**
 * `demo`: writes the synthetic 90-day history of three accounts into the store, then prints a
 * short guided tour (the account now, the account just before its mass deletion, one item's
 * life). Running it again appends nothing: the events' ids are derived from their position in the
 * generated history.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { type Instant, instant, MAX_INSTANT } from '../../../domain/instant'
import type { ItemId } from '../../../domain/ids'
import { streamOfAccount } from '../../../domain/ids'
import { type AccountView, accountAsOf, diffViews } from '../../../projections/accountView'
import { demoHistory } from '../../demo/generator'
import { instantArg } from '../dateArgs'
import { fromBlobError } from '../failure'
import type { Context, Verb } from '../grammar'
import { human, must, table, when } from '../render'
import { getItem } from './inspect'

const DemoMeta = t.type({ end: t.number, massDeletionAt: t.union([t.number, t.null]), showcaseItem: t.union([t.number, t.null]) })
type DemoMeta = t.TypeOf<typeof DemoMeta>
const META = (account: string) => `demo:${account}`

const folderSummary = async (ctx: Context, account: string, at: Instant): Promise<{ text: string; items: number; view: AccountView }> => {
  const v = await must(accountAsOf((await ctx.backend()).index, account as never, { validAt: at }))
  const rows = v.folders.filter((f) => f.itemCount > 0 || !f.system).map((f) => [`  ${f.path}`, String(f.itemCount)])
  return { text: table(rows), items: v.items.length, view: v }
}

export const demo: Verb = {
  name: 'demo',
  summary: 'Writes a realistic 90-day history of three accounts into the store and shows a guided tour.',
  positionals: [],
  attributes: [{ name: 'end', help: 'instant at which the demo history ends (default: the current hour); the same end gives the same history and the same tour' }],
  examples: ['mailtime demo', 'mailtime demo end "26/11/2026 12:00:00" --tz Europe/Rome', 'mailtime demo --store sqlite:/tmp/demo.db --tz Europe/Rome'],
  run: async (ctx, { attrs }) => {
    const b = await ctx.backend()
    const { zone } = ctx
    const defaultEnd = instant(Math.floor(ctx.now() / 3_600_000) * 3_600_000)
    const end = attrs.end === undefined ? defaultEnd : instantArg(attrs.end, zone, 'end')
    const history = demoHistory(end)
    let appended = 0
    let blobsWritten = 0
    let bytes = 0
    const total = history.reduce((n, a) => n + a.events.length, 0)
    ctx.progress.start('writing demo history', total)
    let done = 0
    const metas: Record<string, DemoMeta> = {}
    for (const a of history) {
      const existing = await must(b.store.readCheckpoint(META(a.accountId)))
      const decoded = existing === undefined ? undefined : DemoMeta.decode(JSON.parse(existing))
      if (decoded !== undefined && E.isRight(decoded)) {
        // Already written (perhaps for another end instant): keep what is there.
        metas[a.accountId] = decoded.right
        done += a.events.length
        ctx.progress.update(done)
        continue
      }
      const put = await b.blobs.putAll(a.blobs.values())
      if (E.isLeft(put)) throw fromBlobError(put.left)
      for (const r of put.right) {
        if (r.written) {
          blobsWritten++
          bytes += r.size
        }
      }
      // Durable before the events that name them (docs/reliability.md).
      const synced = b.blobs.sync()
      if (E.isLeft(synced)) throw fromBlobError(synced.left)
      const meta: DemoMeta = { end, massDeletionAt: a.massDeletionAt ?? null, showcaseItem: a.showcaseItem ?? null }
      const BATCH = 50_000
      for (let i = 0; i < a.events.length; i += BATCH) {
        const last = i + BATCH >= a.events.length
        const r = await must(
          b.store.appendToStream(streamOfAccount(a.accountId), a.events.slice(i, i + BATCH), last ? { checkpoint: { name: META(a.accountId), value: JSON.stringify(meta) } } : {}),
        )
        appended += r.appended
        done += Math.min(BATCH, a.events.length - i)
        ctx.progress.update(done, a.accountId)
      }
      metas[a.accountId] = meta
    }
    ctx.progress.stop()

    const alice = 'alice@example.com'
    const m = metas[alice]
    const wipe = m?.massDeletionAt ?? null
    const now = await folderSummary(ctx, alice, MAX_INSTANT as Instant)
    const before = wipe === null ? undefined : await folderSummary(ctx, alice, instant(wipe - 60_000))
    const showcase = m?.showcaseItem ?? null
    const life = showcase === null ? undefined : await getItem.run(ctx, { positionals: [alice, String(showcase)], attrs: { date: 'all' } })
    const q = (i: number) => `"${human(i, zone).slice(0, 19)}"`
    const lines = [
      appended > 0
        ? `Demo history written: ${history.length} accounts, ${appended} events, ${blobsWritten} message bodies (${(bytes / 1e6).toFixed(1)} MB).`
        : 'The demo history was already in this store; nothing was appended.',
      `Store: ${b.store.description}   Blobs: ${b.blobs.root}   Times in ${zone}.`,
      '',
      `1. ${alice} now (${now.items} items):`,
      now.text,
      ...(before !== undefined && wipe !== null
        ? [
            '',
            `2. ${alice} one minute before the mass deletion of ${human(wipe, zone)} (${before.items} items):`,
            before.text,
            // The items there then and not now (what `diff` lists as removed), not the difference of the
            // two counts: items that arrived since would hide as many that went.
            `   ${diffViews(before.view, now.view).removed.length} items that are gone now were there then.`,
          ]
        : []),
      ...(life !== undefined ? ['', `3. The life of item ${showcase}: delivered, moved to Trash, deleted when Trash was emptied:`, life.text] : []),
      '',
      'Try next:',
      ...(wipe !== null
        ? [
            `  mailtime getAccountState ${alice} date ${q(wipe - 60_000)}`,
            `  mailtime diff ${alice} ${q(wipe - 60_000)} ${q(wipe + 600_000)}`,
            `  mailtime doItemSearch ${alice} after ${q(wipe - 60_000)}`,
            `  mailtime doUndelete ${alice} ${q(wipe - 60_000)} ${q(wipe + 600_000)} dry_run true`,
            `  mailtime doUndelete ${alice} ${q(wipe - 60_000)} ${q(wipe + 600_000)} target maildir:./restored/alice`,
          ]
        : []),
      ...(showcase !== null ? [`  mailtime getItem ${alice} ${showcase} date all`] : []),
      '  mailtime getAvailableAccounts',
    ]
    return {
      json: {
        appended,
        blobsWritten,
        accounts: history.map((a) => ({
          account: a.accountId,
          events: a.events.length,
          massDeletionAt: when(metas[a.accountId]?.massDeletionAt, zone),
          showcaseItem: (metas[a.accountId]?.showcaseItem ?? null) as ItemId | null,
        })),
        end: when(m?.end ?? end, zone),
      },
      text: lines.join('\n'),
    }
  },
}
