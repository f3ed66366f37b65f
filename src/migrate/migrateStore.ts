/**
 * Copies a whole event store into another (SQLite ↔ PostgreSQL): every stream's events in global
 * order, each appended with the revision the target must be at (so a concurrent writer is a
 * conflict, not an interleaving). Event ids make it idempotent: a re-run after an interruption skips
 * what was copied. Then it verifies, stream by stream, the event count and a SHA-256 over the events
 * in revision order.
 */
import { createHash } from 'crypto'
import type { MailEvent } from '../../domain/events'
import { eventJson } from '../../domain/json'
import { orRaise } from '../../projections/errors'
import type { EventStore } from '../store/eventStore'

export interface MigrateReport {
  readonly streams: number
  readonly events: number
  readonly appended: number
  readonly duplicates: number
  /** Streams whose count or hash differ after the copy (empty when it verified). */
  readonly mismatches: readonly { stream: string; reason: string }[]
}

const PAGE = 5000

/** Count and SHA-256 of a stream's events in revision order. */
export const streamDigest = async (store: EventStore, stream: string): Promise<{ count: number; sha256: string }> => {
  const h = createHash('sha256')
  let count = 0
  for (let from = 0; ; from += PAGE) {
    const page = await orRaise(store.readStream(stream, { from, maxCount: PAGE }))
    for (const s of page) {
      h.update(eventJson(s.event)).update('\n')
      count++
    }
    if (page.length < PAGE) break
  }
  return { count, sha256: h.digest('hex') }
}

export const migrateStore = async (from: EventStore, to: EventStore, onProgress?: (done: number) => void): Promise<MigrateReport> => {
  const revisions = new Map<string, number>()
  const revisionOf = async (stream: string) => {
    const hit = revisions.get(stream)
    if (hit !== undefined) return hit
    const r = await orRaise(to.streamRevision(stream))
    revisions.set(stream, r)
    return r
  }
  let appended = 0
  let duplicates = 0
  let events = 0
  for (let after = 0; ; ) {
    const page = await orRaise(from.readAll({ after, maxCount: PAGE }))
    if (page.length === 0) break
    // Consecutive events of one stream go in one append.
    let i = 0
    while (i < page.length) {
      const stream = page[i]?.stream as string
      const run: MailEvent[] = []
      while (i < page.length && page[i]?.stream === stream) {
        run.push((page[i] as { event: MailEvent }).event)
        i++
      }
      const expected = await revisionOf(stream)
      const r = await orRaise(to.appendToStream(stream, run, { expectedRevision: expected }))
      revisions.set(stream, r.lastRevision)
      appended += r.appended
      duplicates += r.duplicates
    }
    events += page.length
    after = page[page.length - 1]?.globalPosition ?? after
    onProgress?.(events)
  }
  const mismatches: { stream: string; reason: string }[] = []
  const streams = await orRaise(from.listStreams())
  for (const s of streams) {
    const [a, b] = [await streamDigest(from, s), await streamDigest(to, s)]
    if (a.count !== b.count) mismatches.push({ stream: s, reason: `${a.count} events in the source, ${b.count} in the target` })
    else if (a.sha256 !== b.sha256) mismatches.push({ stream: s, reason: `the events differ (SHA-256 ${a.sha256.slice(0, 12)}… against ${b.sha256.slice(0, 12)}…)` })
  }
  return { streams: streams.length, events, appended, duplicates, mismatches }
}
