/**
 * Retention and legal hold: `doPurge [purgeDays N] [dry_run true]` and
 * `legalHold get|set|unset all|<account,…> [reason text]`. Both are recorded in the operations
 * stream (the audit trail), and a legal hold is an event in the account's stream with who and when
 * (the legal hold's rule is the use case src/app/retention.ts).
 */
import * as E from 'fp-ts/Either'
import type { OperationStatus } from '../../../domain/operations'
import { recorded } from '../../app/operations'
import { legalHold } from '../../app/retention'
import { purge } from '../../retention/purge'
import { appDeps } from '../appDeps'
import { orExit, usage } from '../failure'
import { booleanAttr, type Verb } from '../grammar'
import { human, table } from '../render'

const days = (raw: string | number | undefined, name: string, dflt: number): number => {
  if (raw === undefined) return dflt
  const n = typeof raw === 'number' ? raw : Number(raw)
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw usage(`${name} must be a whole number of days (0 keeps forever), got ${JSON.stringify(raw)}`)
  return n
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

export const doPurge: Verb = {
  name: 'doPurge',
  summary: 'Purges what retention lets go: items deleted longer ago than data retention, deleted accounts past account retention; frees blobs nothing retained references. Held accounts are never purged; events are never removed.',
  positionals: [],
  attributes: [
    { name: 'purgedays', help: 'purgeDays N: data retention in days for this run (default: retention.dataDays in the config, else 30; 0 purges nothing)' },
    { name: 'dry_run', help: 'true: list what would go, with sizes, and change nothing' },
  ],
  examples: ['mailtime doPurge dry_run true', 'mailtime doPurge purgeDays 90'],
  exitCodes: ['2: the test-only MAILTIME_NOW is later than the real clock (allowed with dry_run true only)'],
  run: async (ctx, { attrs }) => {
    const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
    if (E.isLeft(dry)) throw usage(dry.left)
    const r = ctx.settings.config.retention ?? {}
    const policy = { dataDays: days(attrs.purgedays, 'purgeDays', days(r.dataDays, 'retention.dataDays', 30)), accountDays: days(r.accountDays, 'retention.accountDays', 30) }
    const now = ctx.now()
    if (!dry.right && now > Date.now() + 60_000) throw usage('MAILTIME_NOW is in the future: a purge would remove data before its retention ends; use dry_run true to preview')
    const b = await ctx.backend()
    ctx.progress.start('purging', 0)
    const run = (operationId: string) =>
      purge(b, { policy, now, dryRun: dry.right, by: ctx.settings.operator, operationId, graceMs: 3_600_000, onProgress: (d) => ctx.progress.update(d) })
    const { operationId, result: rep } = dry.right
      ? { operationId: undefined, result: await run('dry-run') }
      : await recorded(appDeps(ctx), { kind: 'purge', verb: 'doPurge', params: { ...attrs } }, async (id) => {
          const rep = await run(id)
          const status: OperationStatus = 'done'
          return { result: rep, status, counts: { itemsPurged: rep.plan.purge.length, blobsDeleted: rep.blobsDeleted, accountsHeld: rep.plan.held.length } }
        })
    ctx.progress.stop()
    const size = rep.plan.purge.reduce((n, c) => n + c.size, 0)
    return {
      json: {
        dryRun: dry.right,
        ...(operationId !== undefined && { operationId }),
        policy,
        items: rep.plan.purge.map((c) => ({ account: c.account, itemId: c.itemId, itemType: c.itemType, size: c.size, reason: c.reason })),
        itemBytes: size,
        held: rep.plan.held,
        orphanBlobs: rep.orphanBlobs,
        orphanBytes: rep.orphanBytes,
        recentBlobsKept: rep.recentBlobs,
        eventsAppended: rep.eventsAppended,
        blobsDeleted: rep.blobsDeleted,
      },
      text: [
        `${dry.right ? 'dry run: would purge' : 'purged'} ${rep.plan.purge.length} item(s) (${mb(size)} of content) and ${rep.orphanBlobs} unreferenced blob(s) (${mb(rep.orphanBytes)} on disk); data retention ${policy.dataDays || 'forever'}${policy.dataDays ? ' days' : ''}, account retention ${policy.accountDays || 'forever'}${policy.accountDays ? ' days' : ''}`,
        ...(rep.plan.purge.length > 0
          ? [table([['account', 'item', 'type', 'size', 'reason'], ...rep.plan.purge.slice(0, 50).map((c) => [c.account, String(c.itemId), c.itemType, String(c.size), c.reason])])]
          : []),
        ...(rep.plan.purge.length > 50 ? [`… ${rep.plan.purge.length - 50} more (--json lists all)`] : []),
        ...rep.plan.held.map((h) => `${h.account} is under legal hold: ${h.wouldPurge} item(s) kept`),
        ...(rep.recentBlobs > 0 ? [`${rep.recentBlobs} unreferenced blob(s) younger than an hour kept (a capture may be about to reference them)`] : []),
        ...(operationId !== undefined ? [`operation ${operationId}`] : []),
      ].join('\n'),
    }
  },
}

export const legalHoldVerb: Verb = {
  name: 'legalHold',
  summary: 'Shows, sets or releases legal holds. A held account is never purged, whatever the retention; a hold set after a deletion protects the item if it was not purged yet.',
  positionals: [
    { name: 'command', help: 'get, set or unset' },
    { name: 'accounts', help: 'all, or a comma list of accounts', optional: true },
  ],
  attributes: [{ name: 'reason', help: 'why (kept in the event, e.g. a case number)' }],
  examples: ['mailtime legalHold get all', 'mailtime legalHold set alice@example.com,bob@example.com reason "case 2026-117"', 'mailtime legalHold unset alice@example.com'],
  exitCodes: ['3: an unknown account'],
  run: async (ctx, { positionals: [command = '', accounts = 'all'], attrs }) => {
    const r = orExit(await legalHold(appDeps(ctx), { command, accounts, ...(attrs.reason !== undefined && { reason: attrs.reason }) }))
    const { rows, command: cmd } = r
    return {
      json: r.json,
      text: rows.length === 0 ? 'no accounts' : rows.map((r) => `${r.account} ${r.hold}${r.since !== undefined ? ` since ${human(r.since, ctx.zone)} by ${r.by ?? '?'}${r.reason !== undefined ? ` (${r.reason})` : ''}` : ''}${r.changed ? '' : cmd === 'get' ? '' : ' (unchanged)'}`).join('\n'),
    }
  },
}
