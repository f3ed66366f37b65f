/**
 * Helpers for the scanner's tests against a real Dovecot: a store per run, the blob count that tells
 * how far a running scan has read, a scan cut by a server outage, and an account's events as a
 * backup export lists them, for event-for-event comparisons.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type CliResult, mailtime, mailtimeAsync } from '../support/cli'
import type { Dovecot } from '../support/dovecot'
import { tmpDir } from '../support/tmp'

export interface TestStore {
  /** The global flags that select this store. */
  readonly args: readonly string[]
  readonly blobs: string
}

export const newStore = (): TestStore => {
  const dir = tmpDir()
  return { args: ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC'], blobs: path.join(dir, 'blobs') }
}

export const imapEnv = (d: Dovecot, extra: Record<string, string> = {}): Record<string, string> => ({
  MAILTIME_IMAP_URL: d.url,
  MAILTIME_IMAP_USER: 'admin',
  MAILTIME_IMAP_PASSWORD: 'adminpw',
  ...extra,
})

/** How many message bodies the store holds (a running scan stores each body as it reads it). */
export const blobCount = (s: TestStore): number => {
  if (!fs.existsSync(s.blobs)) return 0
  let n = 0
  for (const d of fs.readdirSync(s.blobs)) for (const f of fs.readdirSync(path.join(s.blobs, d))) if (!f.endsWith('.tmp')) n++
  return n
}

export const until = async (what: string, ok: () => boolean, ms = 60_000): Promise<void> => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/**
 * Runs a scan that pauses after each folder it read, stops Dovecot (dropping its connections, as a
 * crash does) once `ready` says the scan is where the outage should land, waits for the scan's end
 * and starts Dovecot again.
 */
export const scanCutByOutage = async (d: Dovecot, args: readonly string[], env: Record<string, string>, ready: () => boolean): Promise<CliResult> => {
  const run = mailtimeAsync(args, { ...env, MAILTIME_FAULT: 'pause-after-folder:3000' })
  let ended = false
  void run.done.then(() => (ended = true))
  await until('the scan to reach the outage point', () => ready() || ended)
  if (ended) throw new Error(`the scan ended before the outage: ${(await run.done).stderr}`)
  await d.stop(true)
  const r = await run.done
  await d.start()
  return r
}

/** An account's events, each as its JSON text, sorted: what two stores must agree on event for event. */
export const eventsOf = (s: TestStore, account: string): string[] => {
  const dest = path.join(tmpDir(), 'events')
  const r = mailtime([...s.args, 'exportHistory', account, 'dest', dest])
  if (r.code !== 0) throw new Error(`exportHistory exited ${r.code}: ${r.stderr}`)
  return fs
    .readFileSync(path.join(dest, 'timeline.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.stringify((JSON.parse(l) as { event: unknown }).event))
    .sort()
}

export const eventCount = (s: TestStore, account: string): number => (JSON.parse(mailtime([...s.args, '--json', 'getAccountInfo', account]).stdout) as { events: number }).events

export const accountState = (s: TestStore, account: string): unknown => JSON.parse(mailtime([...s.args, '--json', 'getAccountState', account]).stdout)
