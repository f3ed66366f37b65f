/**
 * `doExternalRestore <source>`: restores the accounts of a store another installation wrote (a
 * copied SQLite file and blob folder) into this installation's target. The source is opened
 * read-only; nothing is ever deleted in the target; a re-run skips what earlier runs restored
 * (Skipped); and the id map (source item → target folder, UIDVALIDITY and UID) is printed with
 * --json, kept in the operations stream, and written to `id_map <file>` when asked.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { type AccountId, parseAccountId } from '../../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../../domain/instant'
import type { RestorePlan } from '../../../domain/restore/plan'
import { accountStateAt } from '../../../projections/accountView'
import { listAccountIds } from '../../app/accounts'
import { openReadOnlyBackend } from '../../wiring/backend'
import { defaultBlobsFor } from '../../config'
import { fromStoreError, notFound, usage } from '../failure'
import { booleanAttr, type Verb } from '../grammar'
import { must } from '../render'
import { RESTORE_ATTRS, RESTORE_EXIT_CODES, runRestoreVerb } from '../restoreRun'
import { davHomes, newAccountPlans } from './restore'

/** A directory holding `mailtime.db` (and `blobs/`), or the SQLite file itself. */
const sourceOf = (raw: string, blobs: string | undefined): { store: string; blobs: string } => {
  const p = raw.startsWith('sqlite:') ? raw.slice('sqlite:'.length) : raw
  let st: fs.Stats
  try {
    st = fs.statSync(p)
  } catch {
    throw notFound(`external restore source ${JSON.stringify(raw)} does not exist`)
  }
  const file = st.isDirectory() ? path.join(p, 'mailtime.db') : p
  return { store: `sqlite:${file}`, blobs: blobs ?? (st.isDirectory() ? path.join(p, 'blobs') : defaultBlobsFor(`sqlite:${file}`)) }
}

export const doExternalRestore: Verb = {
  name: 'doExternalRestore',
  summary:
    "Restores the accounts of another installation's store (a copied SQLite file and blob folder) into this installation's target; never deletes, skips what earlier runs restored.",
  positionals: [{ name: 'source', help: 'a directory holding mailtime.db and blobs/, or the SQLite file' }],
  attributes: [
    { name: 'accounts', help: 'comma list of accounts (default: all)' },
    { name: 'blobs', help: "the source's blob folder, when not beside its store" },
    { name: 'filter_deleted', help: 'true (default): skip accounts deleted in the source; false: restore them as they were before deletion' },
    { name: 'id_map', help: 'also write the id map (JSON lines: account, item, location) to this file' },
    ...RESTORE_ATTRS,
  ],
  examples: [
    'mailtime doExternalRestore /mnt/old-server/mailtime-data',
    'mailtime doExternalRestore /mnt/old/mailtime.db accounts alice@example.com target imap://127.0.0.1:1143 dry_run true',
  ],
  exitCodes: ['3: the source or an account in `accounts` does not exist', ...RESTORE_EXIT_CODES],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    const where = sourceOf(raw, attrs.blobs)
    const opened = openReadOnlyBackend(where.store, where.blobs)
    if (E.isLeft(opened)) throw fromStoreError(opened.left)
    const src = opened.right
    const filter = booleanAttr(attrs.filter_deleted, 'filter_deleted', true)
    if (E.isLeft(filter)) throw usage(filter.left)
    try {
      const all = await must(listAccountIds(src))
      let wanted: AccountId[] = all
      if (attrs.accounts !== undefined) {
        wanted = []
        for (const a of attrs.accounts
          .split(',')
          .map((x) => x.trim())
          .filter((x) => x.length > 0)) {
          const id = parseAccountId(a)
          if (id === undefined || !all.includes(id)) throw notFound(`account ${JSON.stringify(a)} is not in the source store (it holds ${all.length} account(s))`)
          wanted.push(id)
        }
      }
      const plans: RestorePlan[] = []
      const skippedAccounts: string[] = []
      for (const a of wanted) {
        const info = accountStateAt(a, await must(src.index.accountEvents(a)), { validAt: MAX_INSTANT as Instant })
        if (info.deletedAt !== undefined && filter.right) {
          skippedAccounts.push(a)
          continue
        }
        plans.push(...(await newAccountPlans(src, a, a, MAX_INSTANT as Instant, undefined, davHomes(ctx, attrs.dav_target, a, a))))
      }
      for (const a of skippedAccounts) ctx.note(`${a} is deleted in the source; skipped (filter_deleted false restores it)`)
      const out = await runRestoreVerb(
        ctx,
        {
          verb: 'doExternalRestore',
          params: { source: raw, ...attrs },
          identity: ['external', path.resolve(where.store.slice('sqlite:'.length)), wanted],
          plans,
          provision: true,
          blobs: src.blobs,
        },
        attrs,
      )
      if (attrs.id_map !== undefined && (out.json as { dryRun?: boolean }).dryRun === false) {
        const map = (out.json as { idMap?: unknown[] }).idMap ?? []
        fs.writeFileSync(attrs.id_map, map.map((m) => JSON.stringify(m)).join('\n') + (map.length > 0 ? '\n' : ''))
      }
      return { ...out, json: { ...(out.json as object), skippedAccounts } }
    } finally {
      await src.close()
    }
  },
}
