/**
 * Activity: how many changes an account saw per hour or per day, with deletions counted apart, so
 * that a mass deletion shows as one spike. Buckets are contiguous (empty ones included) and start
 * at local midnights or hours of a time zone, which is why the bucket boundaries come in as a
 * function: days are 23 or 25 hours long at DST changes, and some zones are offset by half hours.
 */
import type { EventType } from '../domain/events'

export interface ActivityBucket {
  readonly start: number
  readonly end: number
  /** Every item version that began in the bucket (folders included). */
  readonly changes: number
  readonly created: number
  /** Items deleted (not moved to Trash: that is a move). */
  readonly deleted: number
  readonly moved: number
  /** Flag and tag changes. */
  readonly flagged: number
  readonly purged: number
}

export interface Boundaries {
  /** The start of the bucket holding `ms`. */
  readonly floor: (ms: number) => number
  /** The start of the bucket after the one starting at `start`. */
  readonly next: (start: number) => number
}

type Counts = { changes: number; created: number; deleted: number; moved: number; flagged: number; purged: number }

const KIND: Partial<Record<EventType, keyof Omit<Counts, 'changes'>>> = {
  ItemCreated: 'created',
  ItemDeleted: 'deleted',
  ItemMoved: 'moved',
  ItemFlagsChanged: 'flagged',
  ItemTagsChanged: 'flagged',
  ItemPurged: 'purged',
}

/**
 * Counts the changes (each with the instant it began and its cause) into buckets covering
 * [from, to]; changes outside that window are ignored. At most `maxBuckets` buckets, or undefined
 * (the caller asks for coarser buckets).
 */
export const activity = (
  changes: Iterable<{ readonly validFrom: number; readonly cause: EventType }>,
  window: { readonly from: number; readonly to: number },
  b: Boundaries,
  maxBuckets: number,
): ActivityBucket[] | undefined => {
  const starts: number[] = []
  for (let s = b.floor(window.from); s <= window.to; s = b.next(s)) {
    if (starts.length >= maxBuckets) return undefined
    starts.push(s)
  }
  const counts = new Map<number, Counts>(starts.map((s) => [s, { changes: 0, created: 0, deleted: 0, moved: 0, flagged: 0, purged: 0 }]))
  for (const c of changes) {
    if (c.validFrom < window.from || c.validFrom > window.to) continue
    const k = counts.get(b.floor(c.validFrom))
    if (k === undefined) continue
    k.changes += 1
    const kind = KIND[c.cause]
    if (kind !== undefined) k[kind] += 1
  }
  return starts.map((start) => ({ start, end: b.next(start), ...(counts.get(start) as Counts) }))
}
