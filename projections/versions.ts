/**
 * Item versions: the life of one item as intervals of constant state. An event that changes the
 * item's state starts a version, valid from the event's `occurredAt` until the next change's
 * (`validTo` null means "still so"). Bitemporal versions add the system-time interval during which
 * the backup held that version to be true.
 *
 * Guarantees:
 * 1. Versions come from the item's own events only (no cross-item effects), so the temporal index
 *    can recompute one item without touching others.
 * 2. Two neighbouring versions always differ in state. An event that leaves the state as it was
 *    (the same change recorded twice: by a scan, dated at the end of its window, and by a log line
 *    at the exact instant) begins no version, whatever its source: the earlier fact begins the
 *    version and the later one is absorbed by it. The fold of states is unchanged by this rule.
 * 3. Zero-length versions (two changes at the same instant) are kept in the history but can never
 *    match an as-of query.
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

/**
 * The version of the rule by which events become versions. A stored index records the rule it was
 * built by and is rebuilt when it differs, so that it never disagrees with the replay after an
 * upgrade. 2: an event that changes nothing begins no version (1: every event began one).
 */
export const VERSION_RULES = 2

/**
 * Whether `after` (the state an event produced) begins a new version after `before`: always for an
 * item's first event, otherwise only when the state changed. States are compared by their canonical
 * text, the form the temporal index stores, so every implementation decides alike.
 */
export const beginsVersion = (before: ItemState | undefined, after: ItemState): boolean => before === undefined || (before !== after && stateText(before) !== stateText(after))

/**
 * The versions that events add to an item whose last version has state `last` (undefined for an
 * item with no version yet), when every event sorts after all that is already folded (`fresh` in
 * fold order): the instant at which the last version ends (undefined when no event changes it)
 * and the new versions, the last of them open.
 */
export const appendVersions = (
  last: ItemState | undefined,
  fresh: readonly RecordedEvent<ItemEvent>[],
): { readonly closesAt: Instant | undefined; readonly versions: ItemVersion[] } => {
  const versions: ItemVersion[] = []
  let closesAt: Instant | undefined
  let state = last
  for (const r of fresh) {
    const next = evolveItem(state, r.event)
    if (!beginsVersion(state, next)) continue
    const prev = versions[versions.length - 1]
    if (prev !== undefined) versions[versions.length - 1] = { ...prev, validTo: r.event.occurredAt }
    else if (state !== undefined) closesAt = r.event.occurredAt
    versions.push({ validFrom: r.event.occurredAt, validTo: null, cause: r.event.type, eventId: r.event.eventId, state: next })
    state = next
  }
  return { closesAt, versions }
}

/** Folds one item's events (in any order) into its versions, oldest first. */
export const itemVersions = (events: readonly RecordedEvent<ItemEvent>[]): ItemVersion[] => appendVersions(undefined, sortRecorded(events)).versions

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
 * re-folds from the first position its facts changed; the versions that began before it are reused
 * (the last of them only changes its end).
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
  // The position in `included` of the event that began each version.
  let starts: number[] = []
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
    for (let i = first; i < included.length; i++) states[i] = evolveItem(i === 0 ? undefined : states[i - 1], (included[i] as RecordedEvent<ItemEvent>).event)
    // Versions that began before the first changed position stay; the last of them may end elsewhere
    // now, so the versions are derived again from its start.
    let kept = 0
    while (kept < starts.length && (starts[kept] as number) < first) kept++
    kept = Math.max(0, kept - 1)
    const from = starts[kept] ?? 0
    const next: ItemVersion[] = versions.slice(0, kept)
    const nextStarts = starts.slice(0, kept)
    for (let i = from; i < included.length; i++) {
      if (i > from && !beginsVersion(states[i - 1], states[i] as ItemState)) continue
      const r = included[i] as RecordedEvent<ItemEvent>
      const prev = next[next.length - 1]
      if (next.length > kept && prev !== undefined) next[next.length - 1] = { ...prev, validTo: r.event.occurredAt }
      next.push({ validFrom: r.event.occurredAt, validTo: null, cause: r.event.type, eventId: r.event.eventId, state: states[i] as ItemState })
      nextStarts.push(i)
    }
    const nextKeys = [...keys.slice(0, kept), ...next.slice(kept).map(versionKey)]
    const live = new Set(nextKeys.slice(kept))
    for (const k of keys.slice(kept)) {
      if (live.has(k)) continue
      const o = open.get(k)
      if (o !== undefined) {
        out.push({ ...o.v, recordedFrom: o.from, recordedTo: at as Instant })
        open.delete(k)
      }
    }
    for (let i = kept; i < next.length; i++) {
      const k = nextKeys[i] as string
      if (!open.has(k)) open.set(k, { v: next[i] as ItemVersion, from: at as Instant })
    }
    versions = next
    starts = nextStarts
    keys = nextKeys
  }
  for (const o of open.values()) out.push({ ...o.v, recordedFrom: o.from, recordedTo: null })
  return out
}
