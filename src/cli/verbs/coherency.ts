/**
 * `doCoherencyCheck` (Carbonio's name; `restic check --read-data`, `borg check --verify-data`): reads
 * the words, runs the check (`src/coherency/check.ts`) and shows its report. With `repair true`, the
 * run is recorded in the operations stream, since it writes.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../../domain/ids'
import { findAccount } from '../../app/accounts'
import type { MirroredBackend } from '../../wiring/mirroredBackend'
import { imapSourceOf } from '../../capture/imap/source'
import { checkCoherency } from '../../coherency/check'
import { type MessageSource, imapMessageSource } from '../../coherency/messageSource'
import { type CoherencyReport, DEFAULT_SAMPLE, type Problem, isCoherent, remaining } from '../../coherency/model'
import { recorded } from '../../app/operations'
import { appDeps } from '../appDeps'
import { ExitCode, fromStoreError, usage } from '../failure'
import { booleanAttr, type Context, type Output, type Verb } from '../grammar'
import { isAlive } from '../processes'
import { foundOrFail, must, table, when } from '../render'
import { stopSignal } from '../stopSignal'

const flag = (attrs: Readonly<Record<string, string>>, name: string): boolean => {
  const v = booleanAttr(attrs[name], name, false)
  if (E.isLeft(v)) throw usage(`doCoherencyCheck: ${v.left}`)
  return v.right
}

const problemJson = (p: Problem) => ({
  kind: p.kind,
  account: p.account ?? null,
  itemId: p.itemId ?? null,
  eventId: p.eventId ?? null,
  revision: p.revision ?? null,
  digest: p.digest ?? null,
  operationId: p.operationId ?? null,
  checkpoint: p.checkpoint ?? null,
  detail: p.detail,
  repair: p.repair ?? null,
})

export const reportJson = (r: CoherencyReport, zone: string) => ({
  scope: r.scope,
  readData: r.readData,
  full: r.full,
  repair: r.repair,
  coherent: isCoherent(r),
  interrupted: r.interrupted,
  accounts: r.accounts,
  index: r.index,
  operations:
    r.operations === null
      ? null
      : { ...r.operations, open: r.operations.open.map((o) => ({ operationId: o.operationId, kind: o.kind, verb: o.verb, startedAt: when(o.startedAt, zone), resume: o.resume })) },
  problems: r.problems.map(problemJson),
  notes: r.notes,
  repairs: r.repairs,
})

const where = (p: Problem): string =>
  [
    p.account,
    p.itemId !== undefined ? `item ${p.itemId}` : undefined,
    p.revision !== undefined ? `revision ${p.revision}` : undefined,
    p.eventId !== undefined ? `event ${p.eventId}` : undefined,
    p.operationId !== undefined ? `operation ${p.operationId}` : undefined,
    p.checkpoint !== undefined ? `checkpoint ${p.checkpoint}` : undefined,
  ]
    .filter((x) => x !== undefined)
    .join(' ')

const SHOWN = 200

export const reportText = (r: CoherencyReport, zone: string): string => {
  const left = remaining(r)
  const lines = [
    `doCoherencyCheck ${r.scope}: ${r.readData ? 'blobs read and verified' : 'blobs checked for existence (read_data true reads them)'}, ${r.full ? 'every item' : `a sample of up to ${DEFAULT_SAMPLE} items per account`} compared with a replay`,
    table([
      ['account', 'events', 'undecodable', 'blob refs', 'blobs read', 'compared', 'scan checkpoint'],
      ...r.accounts.map((a) => [a.account, String(a.events), String(a.undecodable), String(a.blobReferences), String(a.blobsRead), String(a.itemsCompared), a.scanCheckpoint]),
    ]),
    `index position: ${r.index.position ?? 'none'} (the events end at ${r.index.lastPosition ?? 'none'})`,
    ...(r.operations === null
      ? []
      : [
          `operations: ${r.operations.checked} checked, ${r.operations.closed} closed, ${r.operations.running} running, ${r.operations.open.length} interrupted (resumable)`,
          ...r.operations.open.map((o) => `  ${o.operationId} ${o.verb}: ${o.resume}`),
        ]),
    ...r.notes.map((n) => `note: ${n}`),
    ...(r.repairs === null
      ? []
      : [
          `repair: ${r.repairs.blobsRestored} blob(s) fetched again, ${r.repairs.checkpointsReset} scan checkpoint(s) reset, ${r.repairs.indexRebuilt === null ? 'index not rebuilt' : `index rebuilt (${r.repairs.indexRebuilt.items} items, ${r.repairs.indexRebuilt.versions} versions)`}`,
        ]),
    ...(r.problems.length === 0 ? [] : ['', `${r.problems.length} problem(s):`]),
    ...r.problems
      .slice(0, SHOWN)
      .flatMap((p) => [`${p.kind}  ${where(p)}: ${p.detail}`, ...(p.repair === undefined ? [] : [`  ${p.repair.repaired ? 'repaired' : 'not repaired'}: ${p.repair.how}`])]),
    ...(r.problems.length > SHOWN ? [`… ${r.problems.length - SHOWN} more (use --json for all)`] : []),
    '',
    r.interrupted
      ? 'interrupted: not every check ran (run it again)'
      : left.length === 0
        ? r.problems.length === 0
          ? 'coherent: no problems found'
          : 'coherent: every problem found was repaired'
        : `NOT coherent: ${left.length} problem(s) ${r.repair ? 'could not be repaired' : 'found (repair true mends missing or damaged blobs, the index and scan checkpoints)'}`,
  ]
  return lines.join('\n')
}

const exitOf = (r: CoherencyReport): ExitCode => (r.interrupted ? ExitCode.INTERRUPTED : remaining(r).length > 0 ? ExitCode.VERIFY : ExitCode.OK)

const messagesFor = (ctx: Context, repair: boolean): E.Either<string, MessageSource> => {
  if (!repair) return E.left('repair was not asked for')
  const src = imapSourceOf(ctx.settings)
  return E.isLeft(src) ? E.left(src.left.reason) : E.right(imapMessageSource(src.right))
}

export const doCoherencyCheck: Verb = {
  name: 'doCoherencyCheck',
  summary: 'Checks that the backup is whole and agrees with itself (events, revisions, blobs, the index, checkpoints, operations); repair true mends what it can.',
  positionals: [{ name: 'account', help: 'an account (login or e-mail address), or all (the default: every account and the operations)', optional: true }],
  attributes: [
    { name: 'read_data', help: 'true: read every referenced blob and check its SHA-256 (default: only that it exists)' },
    { name: 'full', help: `true: compare every item's index history with a replay (default: a random sample of up to ${DEFAULT_SAMPLE} items per account)` },
    {
      name: 'repair',
      help: 'true: fetch missing or damaged blobs again from the IMAP server (verified by digest), rebuild the index, reset a scan checkpoint ahead of the events',
    },
  ],
  examples: [
    'mailtime doCoherencyCheck',
    'mailtime doCoherencyCheck alice@example.com read_data true full true',
    'mailtime doCoherencyCheck all read_data true repair true --json',
  ],
  exitCodes: ['8: problems found and not repaired (each is listed)', '130: interrupted (run it again)'],
  run: async (ctx, { positionals: [rawAccount], attrs }): Promise<Output> => {
    const readData = flag(attrs, 'read_data')
    const full = flag(attrs, 'full')
    const repair = flag(attrs, 'repair')
    const b = await ctx.backend()
    const all = rawAccount === undefined || rawAccount.toLowerCase() === 'all'
    const account: AccountId | undefined = all ? undefined : foundOrFail(rawAccount, await must(findAccount(b, rawAccount)))
    const messages = messagesFor(ctx, repair)
    const stop = stopSignal()
    const check = async (): Promise<CoherencyReport> => {
      const r = await checkCoherency(
        {
          store: b.store,
          indexStore: 'copy' in b ? (b as MirroredBackend).copy : b.store,
          index: b.index,
          blobs: b.blobs,
          operations: b.operations,
          isAlive,
          messages,
          shouldStop: stop.stopped,
          onProgress: (p) => {
            ctx.progress.start(`${p.stage} ${p.label}`, p.total)
            ctx.progress.update(p.done)
          },
        },
        { scope: account === undefined ? { _tag: 'All' } : { _tag: 'Account', account }, readData, full, repair },
      )
      ctx.progress.stop()
      if (E.isLeft(r)) throw fromStoreError(r.left.error)
      return r.right
    }
    try {
      const report = repair
        ? (
            await recorded(appDeps(ctx), { kind: 'check', verb: 'doCoherencyCheck', params: { account: account ?? 'all', ...attrs } }, async () => {
              const r = await check()
              const left = remaining(r).length
              return { result: r, status: r.interrupted ? 'stopped' : left > 0 ? 'partial' : 'done', counts: { problems: r.problems.length, remaining: left } }
            })
          ).result
        : await check()
      return { json: reportJson(report, ctx.zone), text: reportText(report, ctx.zone), exitCode: exitOf(report) }
    } finally {
      stop.dispose()
      if (E.isRight(messages)) await messages.right.close()
    }
  },
}
