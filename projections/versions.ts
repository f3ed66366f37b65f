/**
 * Item versions: the life of one item as intervals of constant state. Each event that touches the
 * item starts a version, valid from the event's `occurredAt` until the next one's (`validTo` null
 * means "still so"). Bitemporal versions add the system-time interval during which the backup held
 * that version to be true.
 *
 * Guarantees: versions come from the item's own events only (no cross-item effects), so the
 * temporal index can recompute one item without touching others; zero-length versions (two events
 * at the same instant) are kept in the history but can never match an as-of query.
 */
import type { EventType, ItemEvent } from '../domain/events'
import type { EventId } from '../domain/ids'
import type { Instant } from '../domain/instant'
import { evolveItem } from '../domain/evolve'
import type { ItemState } from '../domain/state'
import { stateText } from '../domain/stateText'
import { type RecordedEvent, compareRecorded, sortRecorded } from './order'

export interface ItemVersion {
  readonly validFrom: Instant
  readonly validTo: Instant | null
  readonly cause: EventType
  readonly eventId: EventId
  readonly state: ItemState
}

export interface BitemporalVersion extends ItemVersion {
  readonly recordedFrom: Instant
  readonly recordedTo: Instant | null
}

/** Folds one item's events (in any order) into its versions, oldest first. */
export const itemVersions = (events: readonly RecordedEvent<ItemEvent>[]): ItemVersion[] => {
  const sorted = sortRecorded(events)
  const out: ItemVersion[] = []
  let state: ItemState | undefined
  sorted.forEach((r, i) => {
    state = evolveItem(state, r.event)
    const next = sorted[i + 1]
    out.push({
      validFrom: r.event.occurredAt,
      validTo: next === undefined ? null : next.event.occurredAt,
      cause: r.event.type,
      eventId: r.event.eventId,
      state,
    })
  })
  return out
}

/** A stable key for a version: two versions with the same key are the same fact. */
export const versionKey = (v: ItemVersion): string => rowKey(v.validFrom, v.validTo, v.cause, v.eventId, stateText(v.state))

/** The same key from a stored row, without decoding its state. */
export const rowKey = (validFrom: number, validTo: number | null, cause: string, eventId: string, stateText: string): string =>
  `${validFrom}|${validTo ?? ''}|${cause}|${eventId}|${stateText}`

/**
 * The full bitemporal history of one item: for each distinct `recordedAt`, the versions the backup
 * believed at that system time, merged into rows with a recorded interval.
 *
 * Facts recorded later usually sort after everything known before, so each system time only
 * re-folds from the first position its facts changed; the prefix is reused.
 */
export const bitemporalVersions = (events: readonly RecordedEvent<ItemEvent>[]): BitemporalVersion[] => {
  const bySystemTime = new Map<number, RecordedEvent<ItemEvent>[]>()
  for (const r of events) {
    const list = bySystemTime.get(r.event.recordedAt)
    if (list === undefined) bySystemTime.set(r.event.recordedAt, [r])
    else list.push(r)
  }
  const systemTimes = [...bySystemTime.keys()].sort((a, b) => a - b)
  const included: RecordedEvent<ItemEvent>[] = []
  const states: ItemState[] = []
  let versions: ItemVersion[] = []
  let keys: string[] = []
  const open = new Map<string, { v: ItemVersion; from: Instant }>()
  const out: BitemporalVersion[] = []
  for (const at of systemTimes) {
    const fresh = sortRecorded(bySystemTime.get(at) ?? [])
    let first = included.length
    for (const r of fresh) {
      let i = included.length
      while (i > 0 && compareRecorded(included[i - 1] as RecordedEvent, r) > 0) i--
      included.splice(i, 0, r)
      states.splice(i, 0, states[i] as ItemState)
      first = Math.min(first, i)
    }
    // Re-fold from the first changed position; the version before it changes only its end.
    for (let i = first; i < included.length; i++) states[i] = evolveItem(i === 0 ? undefined : states[i - 1], (included[i] as RecordedEvent<ItemEvent>).event)
    const from = Math.max(0, first - 1)
    const next: ItemVersion[] = versions.slice(0, from)
    for (let i = from; i < included.length; i++) {
      const r = included[i] as RecordedEvent<ItemEvent>
      const n = included[i + 1]
      next.push({ validFrom: r.event.occurredAt, validTo: n === undefined ? null : n.event.occurredAt, cause: r.event.type, eventId: r.event.eventId, state: states[i] as ItemState })
    }
    const nextKeys = [...keys.slice(0, from), ...next.slice(from).map(versionKey)]
    const live = new Set(nextKeys.slice(from))
    for (const k of keys.slice(from)) {
      if (live.has(k)) continue
      const o = open.get(k)
      if (o !== undefined) {
        out.push({ ...o.v, recordedFrom: o.from, recordedTo: at as Instant })
        open.delete(k)
      }
    }
    next.forEach((v, i) => {
      const k = nextKeys[i] as string
      if (!open.has(k)) open.set(k, { v, from: at as Instant })
    })
    versions = next
    keys = nextKeys
  }
  for (const o of open.values()) out.push({ ...o.v, recordedFrom: o.from, recordedTo: null })
  return out
}

