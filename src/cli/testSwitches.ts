/**
 * Test-only switches, and the marker without which they do nothing (docs/reliability.md):
 *
 * - `MAILTIME_FAULT` kills or slows a command at a batch boundary (faults.ts);
 * - `MAILTIME_TEST_BUG` plants a bug for the torture harness to find;
 * - `MAILTIME_NOW` replaces the clock, except for the verbs that capture (`REAL_CLOCK_VERBS`), which
 *   refuse it.
 *
 * Each can hurt a user who sets it by mistake (a killed restore, a wrong capture, a purge at a false
 * instant), so they act only when `MAILTIME_TEST_MODE=1` is also set, as the test harness does
 * (test/support/cli.ts), and a run in which they act says so loudly on stderr. A switch set without
 * the marker is dropped, and the run says that it ignored it: a user who expected it to act is not
 * left to believe it did.
 */
import * as E from 'fp-ts/Either'

export const TEST_MARKER = 'MAILTIME_TEST_MODE'
export const TEST_SWITCHES = ['MAILTIME_FAULT', 'MAILTIME_TEST_BUG', 'MAILTIME_NOW'] as const

/**
 * The verbs that capture, and so record the instants at which they saw each change: a capture dated
 * by a false clock would write its events into the past or the future of the real history, for good.
 * They refuse `MAILTIME_NOW`, with the marker or without it (its tests record real instants between
 * their rounds instead). `doRewind` captures the account before it acts.
 */
export const REAL_CLOCK_VERBS: readonly string[] = ['doAccountScan', 'doSmartScan', 'importLog', 'doRewind']

type Env = Readonly<Record<string, string | undefined>>

export interface GatedEnv {
  /** The environment the command runs with: without the switches unless the marker is set. */
  readonly env: Env
  /** Lines for stderr (without the newline): what acts, or what was ignored. */
  readonly warnings: readonly string[]
}

/**
 * Which test switches a run of `verb` may act on, from its environment; a usage error naming the
 * variable when `MAILTIME_NOW` is set for a verb that captures.
 */
export const gateTestSwitches = (env: Env, verb: string): E.Either<string, GatedEnv> => {
  const set = TEST_SWITCHES.filter((k) => env[k] !== undefined && env[k] !== '')
  if (set.includes('MAILTIME_NOW') && REAL_CLOCK_VERBS.includes(verb))
    return E.left(`MAILTIME_NOW cannot be used with ${verb}: capture runs on the real clock (an instant it records stays in the backup for good); unset MAILTIME_NOW`)
  if (set.length === 0) return E.right({ env, warnings: [] })
  if (env[TEST_MARKER] !== '1') {
    const kept: Record<string, string | undefined> = { ...env }
    for (const k of set) delete kept[k]
    return E.right({
      env: kept,
      warnings: [`mailtime: ignoring ${set.join(', ')}: test-only switches act only under the test harness (${TEST_MARKER}=1); this is a normal run`],
    })
  }
  return E.right({
    env,
    warnings: [
      `mailtime: WARNING: TEST-ONLY SWITCHES ACTIVE (${TEST_MARKER}=1): ${set.map((k) => `${k}=${env[k] ?? ''}`).join(', ')}; this run may be killed, slowed, given a planted bug or a false clock on purpose`,
    ],
  })
}
