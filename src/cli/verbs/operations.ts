/**
 * Operations: `getAllOperations` lists every restore with its state and counts, `monitor <id>`
 * shows one (and follows it with `follow true`), `doStopOperation <id>` asks a running one to stop
 * after its current batch. A stopped or interrupted restore resumes by running the same command.
 */
import * as E from 'fp-ts/Either'
import type { OperationSummary } from '../../../domain/operations'
import { getOperation, listOperations, stopOperation, summaryJson } from '../../app/operations'
import { appDeps } from '../appDeps'
import { orExit, usage } from '../failure'
import { booleanAttr, type Context, type Verb } from '../grammar'
import { human, table } from '../render'

const load = async (ctx: Context, id: string): Promise<OperationSummary> => orExit(await getOperation(appDeps(ctx), { operationId: id })).summary

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
    const { json, operations: all } = orExit(await listOperations(appDeps(ctx), attrs.state === undefined ? {} : { state: attrs.state }))
    return {
      json,
      text:
        all.length === 0
          ? 'no operations'
          : table([
              ['operation', 'verb', 'state', 'started', 'progress', 'restored', 'skipped', 'unrestored', 'by'],
              ...all.map((s) => [
                s.operationId,
                s.verb,
                s.state,
                human(s.startedAt, ctx.zone),
                progressText(s),
                String(s.restored),
                String(s.skipped),
                String(s.unrestored.length),
                s.initiator,
              ]),
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
    const { json } = orExit(await stopOperation(appDeps(ctx), { operationId: id }))
    return { json, text: `asked operation ${id} to stop; it stops after its current batch (monitor ${id} follow true)` }
  },
}
