/**
 * Where a log import's events go, and what the import reads back while it runs. Some lines can only
 * be resolved against the backup as it stands at that line (`Emptying N items from /Trash` deletes
 * what the folder held then; a copy has its original's content), including what the same import
 * recorded before that line.
 *
 * Guarantees:
 * 1. A real import appends an account's queued events before it reads anything back about that
 *    account, so the temporal index sees them.
 * 2. A dry run appends nothing, yet reads back exactly what a real run would: the index's answer,
 *    with every item the import has touched folded again from its stored events and the queued
 *    ones (the fold the index and the replay share). So a dry run resolves each line into the same
 *    events a real run records.
 * 3. A dry run knows which events the store already holds (a file imported before) and does not
 *    count them as new, as the store would not append them: before queuing events of an account, it
 *    reads that account's stream once, keeping the ids of events from the files being imported and
 *    the positions of each item's events (not the events themselves).
 */
import * as E from 'fp-ts/Either'
import type { ItemEvent, MailEvent } from '../../../domain/events'
import { isItemEvent } from '../../../domain/events'
import { evolveItem } from '../../../domain/evolve'
import { type AccountId, type ItemId, streamOfAccount } from '../../../domain/ids'
import type { Instant } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import type { StoreError } from '../../../projections/errors'
import { type RecordedEvent, sortRecorded } from '../../../projections/order'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { EventStore } from '../../store/eventStore'

export interface Recorder {
  /** Gets ready to queue events of the account (a dry run reads what the store holds of it, once). */
  prepare(account: AccountId): Promise<E.Either<StoreError, void>>
  /** Queues an event of a prepared account; false when a dry run finds it already stored. */
  queue(e: MailEvent): boolean
  /** Events queued and not yet appended, over all accounts. */
  waiting(): number
  /** Appends what is queued for the account, or for every account (a dry run appends nothing). */
  flush(account?: AccountId): Promise<E.Either<StoreError, void>>
  /** What the store appended so far, and the events it already held. */
  appended(): { readonly appended: number; readonly duplicates: number }
  /** Every item alive at the instant, with the events queued so far. */
  liveItemsAsOf(account: AccountId, at: Instant): Promise<E.Either<StoreError, ItemState[]>>
  /** One item's state at the instant, with the events queued so far; undefined before it existed. */
  itemAsOf(account: AccountId, item: ItemId, at: Instant): Promise<E.Either<StoreError, ItemState | undefined>>
}

/** A real import: events are appended at each flush, and before every read about their account. */
export const appendingRecorder = (store: EventStore, index: TimeTravel): Recorder => {
  const pending = new Map<AccountId, MailEvent[]>()
  const totals = { appended: 0, duplicates: 0 }
  const flush: Recorder['flush'] = async (account) => {
    for (const [a, evs] of pending) {
      if ((account !== undefined && a !== account) || evs.length === 0) continue
      const r = await store.appendToStream(streamOfAccount(a), evs)()
      if (E.isLeft(r)) return r
      pending.set(a, [])
      totals.appended += r.right.appended
      totals.duplicates += r.right.duplicates
    }
    return E.right(undefined)
  }
  return {
    prepare: async () => E.right(undefined),
    queue: (e) => {
      const list = pending.get(e.accountId)
      if (list === undefined) pending.set(e.accountId, [e])
      else list.push(e)
      return true
    },
    waiting: () => [...pending.values()].reduce((n, l) => n + l.length, 0),
    flush,
    appended: () => ({ ...totals }),
    liveItemsAsOf: async (account, at) => {
      const f = await flush(account)
      if (E.isLeft(f)) return f
      return index.liveItemsAsOf(account, { validAt: at })()
    },
    itemAsOf: async (account, item, at) => {
      const f = await flush(account)
      if (E.isLeft(f)) return f
      const v = await index.itemAsOf(account, item, { validAt: at })()
      return E.isLeft(v) ? v : E.right(v.right?.state)
    },
  }
}

/** What a dry run knows of one account. */
interface DryAccount {
  /** Ids of stored events that came from the files being imported. */
  readonly stored: ReadonlySet<string>
  /** The revisions of each item's stored events. */
  readonly revisions: ReadonlyMap<number, readonly number[]>
  /** Stored events read back, by item (only for items the import touched). */
  readonly storedEvents: Map<number, RecordedEvent<ItemEvent>[]>
  /** Queued events by item, with the revisions a real append would give them. */
  readonly queued: Map<number, RecordedEvent<ItemEvent>[]>
  readonly ids: Set<string>
  next: number
}

/** The state at `at` of an item from all its events, folded as the index and the replay fold them. */
const foldAt = (events: readonly RecordedEvent<ItemEvent>[], at: Instant): ItemState | undefined => {
  let s: ItemState | undefined
  for (const r of sortRecorded(events)) {
    if (r.event.occurredAt > at) break
    s = evolveItem(s, r.event)
  }
  return s
}

/**
 * A dry run: nothing is appended; reads fold the queued events in (see the guarantees above).
 * `identities` are the identities of the files being imported (`fileIdentity`).
 */
export const dryRunRecorder = (store: EventStore, index: TimeTravel, identities: ReadonlySet<string>): Recorder => {
  const accounts = new Map<AccountId, DryAccount>()
  const PAGE = 5000

  const prepare: Recorder['prepare'] = async (account) => {
    if (accounts.has(account)) return E.right(undefined)
    const stream = streamOfAccount(account)
    const stored = new Set<string>()
    const revisions = new Map<number, number[]>()
    let from = 0
    let last = -1
    for (;;) {
      const page = await store.readStream(stream, { from, maxCount: PAGE })()
      if (E.isLeft(page)) return page
      for (const s of page.right) {
        const e = s.event
        last = s.revision
        const file = (e.source as { file?: unknown }).file
        if (typeof file === 'string' && identities.has(file)) stored.add(e.eventId)
        if (isItemEvent(e)) {
          const list = revisions.get(e.itemId)
          if (list === undefined) revisions.set(e.itemId, [s.revision])
          else list.push(s.revision)
        }
      }
      if (page.right.length < PAGE) break
      from = last + 1
    }
    accounts.set(account, { stored, revisions, storedEvents: new Map(), queued: new Map(), ids: new Set(), next: last + 1 })
    return E.right(undefined)
  }

  const accountOf = (account: AccountId): DryAccount => {
    const a = accounts.get(account)
    if (a === undefined) throw new Error(`log import: account ${account} was not prepared`)
    return a
  }

  /** The stored events of an item, read back by revision the first time they are needed. */
  const storedOf = async (account: AccountId, a: DryAccount, item: number): Promise<E.Either<StoreError, RecordedEvent<ItemEvent>[]>> => {
    const hit = a.storedEvents.get(item)
    if (hit !== undefined) return E.right(hit)
    const out: RecordedEvent<ItemEvent>[] = []
    for (const revision of a.revisions.get(item) ?? []) {
      const r = await store.readStream(streamOfAccount(account), { from: revision, maxCount: 1 })()
      if (E.isLeft(r)) return r
      for (const s of r.right) if (isItemEvent(s.event)) out.push({ event: s.event, revision: s.revision })
    }
    a.storedEvents.set(item, out)
    return E.right(out)
  }

  /** The item's state at `at` with its queued events, for an item the import touched. */
  const touchedAt = async (account: AccountId, a: DryAccount, item: number, at: Instant): Promise<E.Either<StoreError, ItemState | undefined>> => {
    const stored = await storedOf(account, a, item)
    if (E.isLeft(stored)) return stored
    return E.right(foldAt([...stored.right, ...(a.queued.get(item) ?? [])], at))
  }

  return {
    prepare,
    queue: (e) => {
      const a = accountOf(e.accountId)
      if (a.stored.has(e.eventId) || a.ids.has(e.eventId)) return false
      a.ids.add(e.eventId)
      const revision = a.next++
      if (isItemEvent(e)) {
        const list = a.queued.get(e.itemId)
        if (list === undefined) a.queued.set(e.itemId, [{ event: e, revision }])
        else list.push({ event: e, revision })
      }
      return true
    },
    waiting: () => 0,
    flush: async () => E.right(undefined),
    appended: () => ({ appended: 0, duplicates: 0 }),
    liveItemsAsOf: async (account, at) => {
      const base = await index.liveItemsAsOf(account, { validAt: at })()
      if (E.isLeft(base)) return base
      const a = accounts.get(account)
      if (a === undefined) return base
      const live = new Map(base.right.map((s) => [s.itemId as number, s]))
      for (const item of a.queued.keys()) {
        const s = await touchedAt(account, a, item, at)
        if (E.isLeft(s)) return s
        if (s.right?.status === 'live') live.set(item, s.right)
        else live.delete(item)
      }
      return E.right([...live.values()].sort((x, y) => x.itemId - y.itemId))
    },
    itemAsOf: async (account, item, at) => {
      const a = accounts.get(account)
      if (a !== undefined && a.queued.has(item)) return touchedAt(account, a, item, at)
      const v = await index.itemAsOf(account, item, { validAt: at })()
      return E.isLeft(v) ? v : E.right(v.right?.state)
    },
  }
}
