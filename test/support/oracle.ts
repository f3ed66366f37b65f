/**
 * An independent oracle for the fold: what an item or the account is at an instant of valid time,
 * as known at an instant of system time, and every version of an item.
 *
 * Why it exists: the naive replay (`projections/replay.ts`) and the temporal indexes fold with the
 * same `evolveItem` (`domain/evolve.ts`) and the same ordering helpers (`projections/order.ts`,
 * `projections/versions.ts`), so a bug in those is reproduced by both and their comparison cannot
 * see it. This file was written from the event catalogue (docs/events.md: "The catalogue",
 * "Order"; docs/capture.md: "Instants") and the shapes in `domain/events.ts` and
 * `domain/state.ts`, and it imports nothing from the product but types. Where the docs are silent,
 * the choice is said in a comment.
 *
 * It is deliberately naive: every question folds the whole event list again.
 */
import type { AccountEvent, EventType, ItemEvent, MailEvent } from '../../domain/events'
import type { EventId } from '../../domain/ids'
import type { AccountState, ItemState } from '../../domain/state'

/** An event with its stream revision (its place in append order). */
export interface OracleEvent {
  readonly event: MailEvent
  readonly revision: number
}

/** A version of an item: valid from its event's instant until the next event of the item (null: still so). */
export interface OracleVersion {
  readonly itemId: number
  readonly validFrom: number
  readonly validTo: number | null
  readonly cause: EventType
  readonly eventId: EventId
  readonly state: ItemState
}

export interface OracleAsOf {
  readonly validAt: number
  /** System time: only facts recorded at or before it count. Absent: everything recorded. */
  readonly knownAt?: number | undefined
}

// The item events of the catalogue, by name (not by the shape of the record).
const ITEM_EVENT_TYPES: ReadonlySet<string> = new Set([
  'ItemCreated',
  'ItemMoved',
  'ItemRenamed',
  'ItemFlagsChanged',
  'ItemTagsChanged',
  'ItemContentChanged',
  'ItemDeleted',
  'ItemPurged',
])
const isItem = (e: MailEvent): e is ItemEvent => ITEM_EVENT_TYPES.has(e.type)

/** "Flags and tags are carried as whole sets": a set, kept sorted so equal sets compare equal. */
const asSet = (xs: readonly string[]): string[] => {
  const out: string[] = []
  for (const x of xs) if (!out.includes(x)) out.push(x)
  return out.sort()
}

// The user root `/` (docs/events.md, "Ids, types and folders").
const USER_ROOT = 1

/**
 * The item as the first fact seen about it says, when that fact is not its creation: a stub
 * (`known: false`) "of that type, with no content" (`unknown` when the fact names no type). The docs
 * do not say where a stub lives when the fact names no folder; the oracle puts it at the user root.
 */
const stubFrom = (e: ItemEvent): ItemState => {
  const named = e as { itemType?: ItemState['itemType']; folderId?: number }
  return {
    itemId: e.itemId,
    itemType: named.itemType ?? 'unknown',
    folderId: (named.folderId ?? USER_ROOT) as ItemState['folderId'],
    flags: [],
    tags: [],
    status: 'live',
    known: false,
  }
}

/** Sets `to[key]` when the value is present: optional fields are absent, never undefined. */
const copyIfPresent = <K extends keyof ItemState>(to: Partial<ItemState>, key: K, value: ItemState[K] | undefined): void => {
  if (value !== undefined) to[key] = value
}

/**
 * Where the product is known to differ from the docs, and the oracle can be told to follow the
 * product so that the property tests still see everything else. Each divergence has a hand-written
 * example (test/support/foldExamples.ts) that the example tests expect to fail against the product;
 * when the product is fixed, that example passes, jest says so, and the divergence goes.
 */
export interface Divergences {
  /**
   * The product turns a purged item back into a deleted one (restorable, with a new `deletedAt`)
   * when a deletion takes effect after the purge; the docs say a purged item can no longer be restored.
   */
  readonly deletionAfterPurgeRevives: boolean
  /**
   * The product lists versions that began at the same instant and were superseded at it (zero-length)
   * by event id, not in the order they took effect (`byItemThenTime` in projections/timeTravel.ts),
   * so a history can show an item's folder or flags going back and forth within one instant.
   */
  readonly sameInstantVersionsByEventId: boolean
}

/** The rules exactly as the docs give them. */
export const AS_DOCUMENTED: Divergences = { deletionAfterPurgeRevives: false, sameInstantVersionsByEventId: false }
/** The rules as the product folds today (see `Divergences`). */
export const AS_FOLDED_TODAY: Divergences = { deletionAfterPurgeRevives: true, sameInstantVersionsByEventId: true }

/** One item event applied to what the item was (undefined: no fact about it yet). */
export const oracleApplyItem = (before: ItemState | undefined, e: ItemEvent, rules: Divergences = AS_DOCUMENTED): ItemState => {
  if (e.type === 'ItemCreated') {
    // "An item appears": everything it was before (a stub, a deleted life) is replaced.
    const s: ItemState = {
      itemId: e.itemId,
      itemType: e.itemType,
      folderId: e.folderId,
      flags: asSet(e.flags),
      tags: asSet(e.tags),
      status: 'live',
      known: true,
      createdAt: e.occurredAt,
    }
    copyIfPresent(s, 'name', e.name)
    copyIfPresent(s, 'content', e.content)
    copyIfPresent(s, 'headers', e.headers)
    copyIfPresent(s, 'internalDate', e.internalDate)
    copyIfPresent(s, 'imap', e.imap)
    copyIfPresent(s, 'uid', e.uid)
    copyIfPresent(s, 'dav', e.dav)
    copyIfPresent(s, 'davFields', e.davFields)
    return s
  }
  const s: ItemState = { ...(before ?? stubFrom(e)) }
  if (e.type === 'ItemMoved') {
    // "An item or folder moves"; the IMAP location follows when the fact carries it.
    s.folderId = e.folderId
    copyIfPresent(s, 'imap', e.imap)
    copyIfPresent(s, 'dav', e.dav)
  } else if (e.type === 'ItemRenamed') {
    s.name = e.name
  } else if (e.type === 'ItemFlagsChanged') {
    s.flags = asSet(e.flags)
  } else if (e.type === 'ItemTagsChanged') {
    s.tags = asSet(e.tags)
  } else if (e.type === 'ItemContentChanged') {
    // A DAV object's new version: its ETag, name, UID and fields follow when the fact carries them.
    s.content = e.content
    copyIfPresent(s, 'headers', e.headers)
    copyIfPresent(s, 'name', e.name)
    copyIfPresent(s, 'uid', e.uid)
    copyIfPresent(s, 'dav', e.dav)
    copyIfPresent(s, 'davFields', e.davFields)
  } else if (e.type === 'ItemDeleted') {
    // "A deletion recorded twice keeps the earlier instant" (docs/capture.md). A purged item "can no
    // longer be restored" (docs/events.md): a deletion seen after its purge does not make it a
    // deleted, restorable item again.
    if (s.status === 'live' || (s.status === 'purged' && rules.deletionAfterPurgeRevives)) {
      s.status = 'deleted'
      s.deletedAt = e.occurredAt
    }
  } else if (e.type === 'ItemPurged') {
    s.status = 'purged'
    s.purgedAt = e.occurredAt
    s.purgeReason = e.reason
  }
  return s
}

/** One account event applied to the account. */
export const oracleApplyAccount = (before: AccountState, e: AccountEvent): AccountState => {
  const s: { -readonly [K in keyof AccountState]: AccountState[K] } = { ...before }
  if (e.type === 'AccountCreated') {
    // Created (again): it exists from now on, under this name.
    s.name = e.name
    s.createdAt = e.occurredAt
    delete s.deletedAt
  } else if (e.type === 'AccountRenamed') {
    s.name = e.name
  } else if (e.type === 'AccountDeleted') {
    s.deletedAt = e.occurredAt
  } else if (e.type === 'LegalHoldSet') {
    // `by` comes from the envelope; the docs do not say what a hold without one shows (the oracle: "unknown").
    s.legalHold = { by: e.by ?? 'unknown', since: e.occurredAt, ...(e.reason !== undefined && { reason: e.reason }) }
  } else if (e.type === 'LegalHoldReleased') {
    delete s.legalHold
  }
  return s
}

/** "Sorted by (occurredAt, recordedAt, revision)" (docs/events.md, "Order"). */
const effectOrder = (a: OracleEvent, b: OracleEvent): number => {
  if (a.event.occurredAt !== b.event.occurredAt) return a.event.occurredAt < b.event.occurredAt ? -1 : 1
  if (a.event.recordedAt !== b.event.recordedAt) return a.event.recordedAt < b.event.recordedAt ? -1 : 1
  return a.revision - b.revision
}

export interface Oracle {
  /** Every item with at least one fact at or before the instant, as the fold says it is, by item id. */
  itemsAt(at: OracleAsOf): ItemState[]
  /** The items that are `live` at the instant, by item id. */
  liveAt(at: OracleAsOf): ItemState[]
  /** One item at the instant (undefined before its first fact). */
  itemAt(item: number, at: OracleAsOf): ItemState | undefined
  /** Every version of one item, in the order the time-travel contract lists them (`contractOrder`). */
  versionsOf(item: number, knownAt?: number): OracleVersion[]
  /** Every version of every item, in the order the time-travel contract lists them (`contractOrder`). */
  allVersions(knownAt?: number): OracleVersion[]
  /** The account's own state (name, creation, deletion, hold) at the instant. */
  accountAt(at: OracleAsOf): AccountState
}

/**
 * The oracle of one account's events, given in append order (revision = position), or with their
 * revisions when they were read back from a store.
 */
export const oracleOf = (accountId: string, events: readonly (MailEvent | OracleEvent)[], rules: Divergences = AS_DOCUMENTED): Oracle => {
  const recorded: OracleEvent[] = events.map((x, i) => ('revision' in x && 'event' in x ? x : { event: x as MailEvent, revision: i }))
  const known = (knownAt: number | undefined): OracleEvent[] => recorded.filter((r) => knownAt === undefined || r.event.recordedAt <= knownAt).sort(effectOrder)

  const itemsAt = (at: OracleAsOf): ItemState[] => {
    const states = new Map<number, ItemState>()
    for (const r of known(at.knownAt)) {
      const e = r.event
      if (!isItem(e) || e.occurredAt > at.validAt) continue
      states.set(e.itemId, oracleApplyItem(states.get(e.itemId), e, rules))
    }
    return [...states.values()].sort((a, b) => a.itemId - b.itemId)
  }

  const allVersions = (knownAt?: number): OracleVersion[] => {
    const byItem = new Map<number, OracleEvent[]>()
    for (const r of known(knownAt)) {
      const e = r.event
      if (!isItem(e)) continue
      const list = byItem.get(e.itemId) ?? []
      list.push(r)
      byItem.set(e.itemId, list)
    }
    const out: OracleVersion[] = []
    for (const item of [...byItem.keys()].sort((a, b) => a - b)) {
      const list = byItem.get(item) ?? []
      // docs/events.md: an item's versions begin at the events that change its state; an event that
      // leaves it as it was (the same change recorded twice) begins none, and the version it repeats
      // goes on.
      let state: ItemState | undefined
      let open: Omit<OracleVersion, 'itemId' | 'validTo'> | undefined
      for (const r of list) {
        const e = r.event as ItemEvent
        state = oracleApplyItem(state, e, rules)
        if (open !== undefined && sameState(open.state, state)) continue
        if (open !== undefined) out.push({ itemId: item, ...open, validTo: e.occurredAt })
        open = { validFrom: e.occurredAt, cause: e.type, eventId: e.eventId, state }
      }
      if (open !== undefined) out.push({ itemId: item, ...open, validTo: null })
    }
    return contractOrder(out, rules)
  }

  return {
    itemsAt,
    liveAt: (at) => itemsAt(at).filter((s) => s.status === 'live'),
    itemAt: (item, at) => itemsAt(at).find((s) => s.itemId === item),
    versionsOf: (item, knownAt) => allVersions(knownAt).filter((v) => v.itemId === item),
    allVersions,
    accountAt: (at) =>
      known(at.knownAt)
        .map((r) => r.event)
        .filter((e): e is AccountEvent => !isItem(e) && e.occurredAt <= at.validAt)
        .reduce(oracleApplyAccount, { accountId: accountId as AccountState['accountId'], name: accountId }),
  }
}

/**
 * The order in which the time-travel contract lists versions (projections/timeTravel.ts): by item,
 * then by the instant they began, and versions that began at the same instant "in the order they
 * took effect: the zero-length ones (superseded within that instant) before the one that lasted".
 * `versions` come in the order they took effect (as `allVersions` gives them) and the sort is
 * stable, so ties keep that order; unless the rules say to follow the product, which breaks ties
 * between zero-length versions by event id.
 */
export const contractOrder = (versions: readonly OracleVersion[], rules: Divergences = AS_DOCUMENTED): OracleVersion[] =>
  [...versions].sort(
    (a, b) =>
      a.itemId - b.itemId ||
      a.validFrom - b.validFrom ||
      (a.validTo ?? Infinity) - (b.validTo ?? Infinity) ||
      (rules.sameInstantVersionsByEventId ? (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0) : 0),
  )

/** Two states are the same when every field is: key order and absent keys aside. */
const sameState = (a: ItemState, b: ItemState): boolean => canonical(a) === canonical(b)
const canonical = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(canonical).join(',')}]`
    : typeof v === 'object' && v !== null
      ? `{${Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : JSON.stringify(v)

/** The version of an item valid at the instant: began at or before it and ended after it. */
export const versionAt = (versions: readonly OracleVersion[], validAt: number): OracleVersion | undefined =>
  versions.find((v) => v.validFrom <= validAt && (v.validTo === null || v.validTo > validAt))
