/** `getCaptureStatus`: the capture fleet's workers, their accounts, last round, lag and last error (src/app/captureStatus.ts). */
import { type AccountCapture, type CaptureStatus, getCaptureStatus as statusOf } from '../../app/captureStatus'
import { appDeps } from '../appDeps'
import { orExit } from '../failure'
import type { Verb } from '../grammar'
import { human, table } from '../render'

const ago = (ms: number | null): string => (ms === null ? 'never captured' : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`)

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

const accountJson = (a: AccountCapture) => ({
  account: a.account,
  holder: a.holder,
  acquiredAt: iso(a.acquiredAt),
  lastCaptureAt: iso(a.lastCaptureAt),
  lagMs: a.lagMs,
  lastError: a.lastError,
})

const json = (s: CaptureStatus) =>
  !s.fleet
    ? s
    : {
        fleet: true,
        store: s.store,
        now: iso(s.now),
        workers: s.workers.map((w) => ({
          holder: w.holder,
          host: w.host,
          pid: w.pid,
          live: w.live,
          startedAt: iso(w.startedAt),
          heartbeatAt: iso(w.heartbeatAt),
          expiresAt: iso(w.expiresAt),
          lastRoundAt: iso(w.lastRoundAt),
          lagMs: w.lagMs,
          lastError: w.lastError,
          accounts: w.accounts.map(accountJson),
        })),
        unheld: s.unheld.map(accountJson),
      }

export const getCaptureStatus: Verb = {
  name: 'getCaptureStatus',
  summary: 'Shows the capture fleet on a PostgreSQL store: each doSmartScan worker, the accounts it holds, its last round, lag and last error.',
  positionals: [],
  attributes: [],
  examples: ['mailtime --store postgres://mailtime@db.example.com/mailtime getCaptureStatus', 'mailtime getCaptureStatus --json'],
  exitCodes: [],
  run: async (ctx) => {
    const deps = appDeps(ctx)
    const s = orExit(await statusOf(deps))
    if (!s.fleet)
      return { json: json(s), text: `no capture fleet: ${s.store} is not a PostgreSQL store; one doSmartScan process captures every account, and its leases are in its memory` }
    const live = s.workers.filter((w) => w.live)
    const total = s.workers.reduce((n, w) => n + w.accounts.length, 0) + s.unheld.length
    const rows = (as: readonly AccountCapture[], worker: string) => as.map((a) => [a.account, worker, human(a.lastCaptureAt, deps.zone), ago(a.lagMs), a.lastError ?? ''])
    return {
      json: json(s),
      text: [
        `capture fleet at ${s.store}: ${live.length} live worker(s), ${total} account(s), ${s.unheld.length} held by no live worker`,
        table([
          ['worker', 'state', 'accounts', 'last round', 'largest lag', 'last error'],
          ...s.workers.map((w) => [
            w.holder,
            w.live ? 'live' : 'gone',
            String(w.accounts.length),
            human(w.lastRoundAt, deps.zone),
            w.accounts.length === 0 ? '' : ago(w.lagMs),
            w.lastError ?? '',
          ]),
        ]),
        '',
        table([['account', 'worker', 'last capture', 'lag', 'last error'], ...s.workers.flatMap((w) => rows(w.accounts, w.holder)), ...rows(s.unheld, '(none)')]),
      ].join('\n'),
    }
  },
}
