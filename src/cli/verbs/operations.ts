/**
 * Operations: `getAllOperations` lists every restore with its state and counts, `monitor <id>`
 * shows one (and follows it with `follow true`), `doStopOperation <id>` asks a running one to stop
 * after its current batch. A stopped or interrupted restore resumes by running the same command.
 */
import * as E from 'fp-ts/Either'
import { type OperationSummary, summarize } from '../../../domain/operations'
import { CliFailure, ExitCode, notFound, usage } from '../failure'
import { booleanAttr, type Context, type Verb } from '../grammar'
import { human, must, table, when } from '../render'
import { isAlive } from '../processes'
import { initiatorOf } from '../initiator'

const load = async (ctx: Context, id: string): Promise<OperationSummary> => {
  const events = await must((await ctx.backend()).operations.read(id))
  const s = summarize(events, isAlive)
  if (s === undefined) throw notFound(`no operation ${JSON.stringify(id)} (getAllOperations lists them)`)
  return s
}

const summaryJson = (s: OperationSummary, zone: string) => ({
  operationId: s.operationId,
  kind: s.kind,
  verb: s.verb,
  params: s.params,
  state: s.state,
  initiator: s.initiator,
  host: s.host,
  pid: s.pid,
  startedAt: when(s.startedAt, zone),
  endedAt: when(s.endedAt, zone),
  total: s.total ?? null,
  restored: s.restored,
  skipped: s.skipped,
  unrestored: s.unrestored.map((u) => ({ account: u.account, itemId: u.itemId, reason: u.reason ?? '' })),
  stopRequested: s.stopRequested,
  notifications: s.notifications,
  target: s.target ?? null,
  error: s.error ?? null,
})

const progressText = (s: OperationSummary): string => {
  const n = s.restored + s.skipped + s.unrestored.length
  return s.total !== undefined && s.total > 0 ? `${n}/${s.total} (${Math.floor((100 * n) / s.total)}%)` : String(n)
}

export const getAllOperations: Verb = {
  name: 'getAllOperations',
  summary: 'Lists the operations (restores) recorded in the store, oldest first, with their state and counts.',
  positionals: [],
  attributes: [{ name: 'state', help: 'only operations in this state', values: ['running', 'interrupted', 'done', 'partial', 'failed', 'stopped'] }],
  examples: ['mailtime getAllOperations', 'mailtime getAllOperations state running --json'],
  run: async (ctx, { attrs }) => {
    const ids = await must((await ctx.backend()).operations.list())
    const all: OperationSummary[] = []
    for (const id of ids) {
      const s = summarize(await must((await ctx.backend()).operations.read(id)), isAlive)
      if (s !== undefined && (attrs.state === undefined || s.state === attrs.state)) all.push(s)
    }
    return {
      json: { operations: all.map((s) => summaryJson(s, ctx.zone)) },
      text:
        all.length === 0
          ? 'no operations'
          : table([
              ['operation', 'verb', 'state', 'started', 'progress', 'restored', 'skipped', 'unrestored', 'by'],
              ...all.map((s) => [s.operationId, s.verb, s.state, human(s.startedAt, ctx.zone), progressText(s), String(s.restored), String(s.skipped), String(s.unrestored.length), s.initiator]),
            ]),
    }
  },
}

const monitorText = (s: OperationSummary, zone: string): string =>
  [
    `operation ${s.operationId}: ${s.verb} ${Object.values(s.params).join(' ')}`,
    `state: ${s.state}${s.stopRequested && s.state === 'running' ? ' (stop requested)' : ''}`,
    `started: ${human(s.startedAt, zone)} by ${s.initiator} on ${s.host} (pid ${s.pid})`,
    ...(s.endedAt !== undefined ? [`ended: ${human(s.endedAt, zone)}`] : []),
    ...(s.target !== undefined ? [`target: ${s.target}`] : []),
    `progress: ${progressText(s)}`,
    `Restored Items: ${s.restored}`,
    `Skipped Items:  ${s.skipped}`,
    `Unrestored Items: ${s.unrestored.length}`,
    ...s.unrestored.slice(0, 20).map((u) => `  ${u.account} ${u.itemId}: ${u.reason ?? ''}`),
    ...s.notifications.map((n) => `${n.phase} notification to ${n.to.join(', ')}: ${n.sent ? 'sent' : `not sent (${n.error ?? 'unknown error'})`}`),
    ...(s.error !== undefined ? [`error: ${s.error}`] : []),
    ...(s.state === 'interrupted' || s.state === 'stopped' || s.state === 'failed' ? ['run the same command again to resume'] : []),
  ].join('\n')

export const monitor: Verb = {
  name: 'monitor',
  summary: "Shows an operation's state, progress and counts; with follow true, waits until it ends.",
  positionals: [{ name: 'operation', help: 'operation id (see getAllOperations)' }],
  attributes: [{ name: 'follow', help: 'true: show progress until the operation ends' }],
  examples: ['mailtime monitor op-20261127T010400-ab12cd', 'mailtime monitor op-20261127T010400-ab12cd follow true'],
  exitCodes: ['3: no such operation'],
  run: async (ctx, { positionals: [id = ''], attrs }) => {
    const follow = booleanAttr(attrs.follow, 'follow', false)
    if (E.isLeft(follow)) throw usage(follow.left)
    let s = await load(ctx, id)
    if (follow.right && s.state === 'running') {
      ctx.progress.start(`operation ${id}`, s.total ?? 0)
      while (s.state === 'running') {
        await new Promise((r) => setTimeout(r, 500))
        s = await load(ctx, id)
        ctx.progress.update(s.restored + s.skipped + s.unrestored.length)
      }
      ctx.progress.stop()
    }
    return { json: summaryJson(s, ctx.zone), text: monitorText(s, ctx.zone) }
  },
}

export const doStopOperation: Verb = {
  name: 'doStopOperation',
  summary: 'Asks a running operation to stop after its current batch; what it restored stays recorded, and the same command resumes it.',
  positionals: [{ name: 'operation', help: 'operation id (see getAllOperations)' }],
  attributes: [],
  examples: ['mailtime doStopOperation op-20261127T010400-ab12cd'],
  exitCodes: ['3: no such operation', '5: the operation is not running'],
  run: async (ctx, { positionals: [id = ''] }) => {
    const s = await load(ctx, id)
    if (s.state !== 'running') throw new CliFailure(`operation ${id} is not running (state: ${s.state})`, ExitCode.CONFLICT)
    await must((await ctx.backend()).operations.append(id, [{ type: 'StopRequested', operationId: id, at: ctx.now(), by: initiatorOf(ctx.settings) }]))
    return { json: { operationId: id, stopRequested: true }, text: `asked operation ${id} to stop; it stops after its current batch (monitor ${id} follow true)` }
  },
}

