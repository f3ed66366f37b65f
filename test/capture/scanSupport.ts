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

/** The span of real time in which a store's scans of one round ran, and the name its instants get. */
export interface Round {
  readonly name: string
  readonly from: number
  readonly to: number
}

/** Runs `scans` (a round's scans of one store) and widens that round's span to cover them. */
export const inRound = async <T>(rounds: Round[], name: string, scans: () => T | Promise<T>): Promise<T> => {
  const from = Date.now()
  try {
    return await scans()
  } finally {
    const to = Date.now()
    const i = rounds.findIndex((r) => r.name === name)
    const r = rounds[i]
    if (r === undefined) rounds.push({ name, from, to })
    else rounds[i] = { name, from: Math.min(r.from, from), to: Math.max(r.to, to) }
  }
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/**
 * `doc` with every instant that falls in one of the rounds replaced by the round's name. Capture runs
 * on the real clock, so two stores scanned in the same rounds record different instants for the
 * same change; what they must agree on is the round each instant belongs to (the scan that recorded
 * it, the window it bounds), and every other instant (an INTERNALDATE, a date inside a window)
 * exactly.
 */
export const byRound = (doc: unknown, rounds: readonly Round[]): unknown => {
  if (typeof doc === 'string' && ISO_INSTANT.test(doc)) {
    const t = Date.parse(doc)
    return rounds.find((r) => r.from <= t && t <= r.to)?.name ?? doc
  }
  if (Array.isArray(doc)) return doc.map((x) => byRound(x, rounds))
  if (typeof doc === 'object' && doc !== null) return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, byRound(v, rounds)]))
  return doc
}

/**
 * An account's events, each as its JSON text, sorted: what two stores must agree on event for event
 * (with `rounds`, their instants named by round, see `byRound`).
 */
export const eventsOf = (s: TestStore, account: string, rounds: readonly Round[] = []): string[] => {
  const dest = path.join(tmpDir(), 'events')
  const r = mailtime([...s.args, 'exportHistory', account, 'dest', dest])
  if (r.code !== 0) throw new Error(`exportHistory exited ${r.code}: ${r.stderr}`)
  return fs
    .readFileSync(path.join(dest, 'timeline.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.stringify(byRound((JSON.parse(l) as { event: unknown }).event, rounds)))
    .sort()
}

export const eventCount = (s: TestStore, account: string): number => (JSON.parse(mailtime([...s.args, '--json', 'getAccountInfo', account]).stdout) as { events: number }).events

export const accountState = (s: TestStore, account: string, rounds: readonly Round[] = []): unknown =>
  byRound(JSON.parse(mailtime([...s.args, '--json', 'getAccountState', account]).stdout), rounds)
