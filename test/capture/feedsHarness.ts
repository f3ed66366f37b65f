/**
 * Helpers for the change-feed tests: checkpoints in memory, a follower run in the background whose
 * output the test waits on (an event, never a wall-clock window; the deadline only turns a hang into
 * a failure that says what was awaited), and doveadm.
 */
import { execFileSync } from 'child_process'
import * as E from 'fp-ts/Either'
import type { CheckpointPort, SpoolBatch, SpoolFailure, SpoolFollower } from '../../src/capture/feeds/spoolFollower'
import type { SpoolProblem, SpoolRecord } from '../../src/capture/feeds/spoolLine'
import type { Dovecot } from '../support/dovecot'

export const memoryCheckpoints = (): CheckpointPort & { readonly values: Map<string, string>; writes: number } => {
  const values = new Map<string, string>()
  const port = {
    values,
    writes: 0,
    read: (name: string) => async () => E.right(values.get(name)),
    write: (name: string, value: string) => async () => {
      values.set(name, value)
      port.writes++
      return E.right(undefined)
    },
  }
  return port
}

/** Resolves when `ok()` holds, re-checked at each `poke`; rejects after `ms` naming what was awaited. */
export const waiter = () => {
  let wake: (() => void)[] = []
  return {
    poke: () => {
      for (const w of wake.splice(0)) w()
    },
    until: async (what: string, ok: () => boolean, describe: () => string = () => '', ms = 30_000): Promise<void> => {
      const deadline = Date.now() + ms
      while (!ok()) {
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for ${what}; seen: ${describe()}`)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left)
          wake.push(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
    },
  }
}

export interface Following {
  readonly records: SpoolRecord[]
  readonly problems: SpoolProblem[]
  readonly failures: SpoolFailure[]
  readonly batches: SpoolBatch[]
  until(what: string, ok: () => boolean, ms?: number): Promise<void>
  stop(): Promise<void>
}

/** Runs a follower in the background, committing each batch after collecting it (unless `commit` is false). */
export const follow = (f: SpoolFollower, options: { readonly commit?: boolean } = {}): Following => {
  const w = waiter()
  const out = { records: [] as SpoolRecord[], problems: [] as SpoolProblem[], failures: [] as SpoolFailure[], batches: [] as SpoolBatch[] }
  let error: unknown
  const loop = (async () => {
    try {
      for await (const b of f.batches()) {
        out.batches.push(b)
        out.records.push(...b.records)
        out.problems.push(...b.problems)
        out.failures.push(...b.failures)
        if (options.commit !== false) {
          const c = await f.commit(b.position)
          if (E.isLeft(c)) throw new Error(`commit failed: ${JSON.stringify(c.left)}`)
          out.failures.push(...c.right.failures)
        }
        w.poke()
      }
    } catch (e) {
      error = e
      w.poke()
    }
  })()
  return {
    ...out,
    until: async (what, ok, ms) => {
      await w.until(
        what,
        () => {
          if (error !== undefined) throw error
          return ok()
        },
        () => JSON.stringify({ records: out.records.slice(-20), problems: out.problems, failures: out.failures }).slice(0, 4000),
        ms,
      )
    },
    stop: async () => {
      f.stop()
      await loop
      if (error !== undefined) throw error
    },
  }
}

export const doveadm = (d: Dovecot, args: readonly string[], input?: string): string =>
  execFileSync('/usr/bin/doveadm', ['-c', d.conf, ...args], { input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8')

export const message = (subject: string, body = 'hello'): string =>
  `From: sender@example.com\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.com>\r\n\r\n${body}\r\n`
