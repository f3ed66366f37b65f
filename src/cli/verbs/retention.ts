/**
 * Retention and legal hold: `doPurge [purgeDays N] [dry_run true]` and
 * `legalHold get|set|unset all|<account,…> [reason text]`. Both are recorded in the operations
 * stream (the audit trail), and a legal hold is an event in the account's stream with who and when
 * (the rules are the use cases src/app/purge.ts and src/app/retention.ts).
 */
import { purge } from '../../app/purge'
import { legalHold } from '../../app/retention'
import { appDeps } from '../appDeps'
import { orExit } from '../failure'
import type { Verb } from '../grammar'
import { human, table } from '../render'

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`

export const doPurge: Verb = {
  name: 'doPurge',
  summary:
    'Purges what retention lets go: items deleted longer ago than data retention, deleted accounts past account retention; frees blobs nothing retained references. Held accounts are never purged; events are never removed.',
  positionals: [],
  attributes: [
    { name: 'purgedays', help: 'purgeDays N: data retention in days for this run (default: retention.dataDays in the config, else 30; 0 purges nothing)' },
    { name: 'dry_run', help: 'true: list what would go, with sizes, and change nothing' },
  ],
  examples: ['mailtime doPurge dry_run true', 'mailtime doPurge purgeDays 90'],
  exitCodes: ['2: the test-only MAILTIME_NOW is later than the real clock (allowed with dry_run true only)'],
  run: async (ctx, { attrs }) => {
    const retention = ctx.settings.config.retention
    const {
      dryRun,
      operationId,
      policy,
      report: rep,
      json,
    } = orExit(
      await purge(appDeps(ctx), {
        ...(attrs.purgedays !== undefined && { purgeDays: attrs.purgedays }),
        ...(attrs.dry_run !== undefined && { dryRun: attrs.dry_run }),
        ...(retention !== undefined && { retention }),
        params: { ...attrs },
      }),
    )
    const size = rep.plan.purge.reduce((n, c) => n + c.size, 0)
    return {
      json,
      text: [
        `${dryRun ? 'dry run: would purge' : 'purged'} ${rep.plan.purge.length} item(s) (${mb(size)} of content) and ${rep.orphanBlobs} unreferenced blob(s) (${mb(rep.orphanBytes)} on disk); data retention ${policy.dataDays || 'forever'}${policy.dataDays ? ' days' : ''}, account retention ${policy.accountDays || 'forever'}${policy.accountDays ? ' days' : ''}`,
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
      text:
        rows.length === 0
          ? 'no accounts'
          : rows
              .map(
                (r) =>
                  `${r.account} ${r.hold}${r.since !== undefined ? ` since ${human(r.since, ctx.zone)} by ${r.by ?? '?'}${r.reason !== undefined ? ` (${r.reason})` : ''}` : ''}${r.changed ? '' : cmd === 'get' ? '' : ' (unchanged)'}`,
              )
              .join('\n'),
    }
  },
}
