/**
 * Puts a verb's runs in the operations stream (the audit trail): who ran it, when, with which
 * words, and how it ended (its exit code as a state). Dry runs change nothing and are not recorded.
 */
import type { OperationStatus } from '../../domain/operations'
import { recorded } from '../app/operations'
import { appDeps } from './appDeps'
import { ExitCode } from './failure'
import type { Verb } from './grammar'

/** How a verb's exit code reads as an operation's end state (the audit trail and the console's jobs). */
export const statusOf = (code: number | undefined): OperationStatus =>
  code === undefined || code === ExitCode.OK ? 'done' : code === ExitCode.PARTIAL ? 'partial' : code === ExitCode.INTERRUPTED ? 'stopped' : 'failed'

export const audited = (kind: string, verb: Verb): Verb => ({
  ...verb,
  run: async (ctx, args) => {
    if ((args.attrs.dry_run ?? '').toLowerCase() === 'true') return verb.run(ctx, args)
    const params: Record<string, string> = {}
    args.positionals.forEach((p, i) => {
      const name = verb.positionals[Math.min(i, verb.positionals.length - 1)]?.name ?? `arg${i}`
      params[name] = params[name] === undefined ? p : `${params[name]},${p}`
    })
    Object.assign(params, args.attrs)
    const { result } = await recorded(appDeps(ctx), { kind, verb: verb.name, params }, async () => {
      const out = await verb.run(ctx, args)
      return { result: out, status: statusOf(out.exitCode), counts: {} }
    })
    return result
  },
})
