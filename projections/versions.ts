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
import * as t from 'io-ts'
import type { EventType, ItemEvent } from '../domain/events'
import { EventTypeCodec } from '../domain/events'
import { EventId } from '../domain/ids'
import { Instant, InstantFromISO } from '../domain/instant'
import { evolveItem } from '../domain/evolve'
import { ItemState } from '../domain/state'
import { type RecordedEvent, sortRecorded } from './order'

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

export const ItemVersionCodec = t.type({
  validFrom: InstantFromISO,
  validTo: t.union([InstantFromISO, t.null]),
  cause: EventTypeCodec,
  eventId: EventId,
  state: ItemState,
})

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
export const versionKey = (v: ItemVersion): string =>
  JSON.stringify([v.validFrom, v.validTo, v.cause, v.eventId, ItemState.encode(v.state)])

/**
 * The full bitemporal history of one item: for each distinct `recordedAt`, the versions the backup
 * believed at that system time, merged into rows with a recorded interval.
 */
export const bitemporalVersions = (events: readonly RecordedEvent<ItemEvent>[]): BitemporalVersion[] => {
  const systemTimes = [...new Set(events.map((r) => r.event.recordedAt))].sort((a, b) => a - b)
  const open = new Map<string, { v: ItemVersion; from: Instant }>()
  const out: BitemporalVersion[] = []
  for (const at of systemTimes) {
    const current = itemVersions(events.filter((r) => r.event.recordedAt <= at))
    const keys = new Set<string>()
    for (const v of current) {
      const k = versionKey(v)
      keys.add(k)
      if (!open.has(k)) open.set(k, { v, from: at })
    }
    for (const [k, o] of open) {
      if (!keys.has(k)) {
        out.push({ ...o.v, recordedFrom: o.from, recordedTo: at })
        open.delete(k)
      }
    }
  }
  for (const o of open.values()) out.push({ ...o.v, recordedFrom: o.from, recordedTo: null })
  return out
}

export const validAt = (v: { validFrom: number; validTo: number | null }, at: number): boolean =>
  v.validFrom <= at && (v.validTo === null || v.validTo > at)

export const recordedAt = (v: { recordedFrom: number; recordedTo: number | null }, at: number | undefined): boolean =>
  at === undefined ? v.recordedTo === null : v.recordedFrom <= at && (v.recordedTo === null || v.recordedTo > at)
