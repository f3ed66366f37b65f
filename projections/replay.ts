/**
 * The naive replay: answers every time-travel query by reading the account's whole stream and
 * folding it. It is slow on purpose-free grounds (no index, no cache) and is the oracle the
 * temporal index is tested against.
 */
import * as TE from 'fp-ts/TaskEither'
import { pipe } from 'fp-ts/function'
import { type AccountEvent, type ItemEvent, type MailEvent, isItemEvent } from '../domain/events'
import type { AccountId, ItemId } from '../domain/ids'
import type { Instant } from '../domain/instant'
import { evolveItem } from '../domain/evolve'
import type { ItemState } from '../domain/state'
import type { StoreError } from './errors'
import { type RecordedEvent, knownAt as filterKnown, sortRecorded } from './order'
import { type AsOf, type ItemChange, type TimeTravel, type Window, byItemThenTime, refsOf } from './timeTravel'
import { type ItemVersion, beginsVersion } from './versions'

/** Reads one account's stream, whole; the replay's only input. */
export type ReadAccount = (account: AccountId) => TE.TaskEither<StoreError, RecordedEvent<MailEvent>[]>

const itemEvents = (xs: readonly RecordedEvent[]): RecordedEvent<ItemEvent>[] => xs.filter((r): r is RecordedEvent<ItemEvent> => isItemEvent(r.event))

const foldUntil = (xs: readonly RecordedEvent<ItemEvent>[], at: AsOf): Map<ItemId, ItemState> => {
  const states = new Map<ItemId, ItemState>()
  for (const r of sortRecorded(filterKnown(xs, at.knownAt))) {
    if (r.event.occurredAt > at.validAt) break
    states.set(r.event.itemId, evolveItem(states.get(r.event.itemId), r.event))
  }
  return states
}

/**
 * Every version of every item, by folding the sorted stream and cutting a version at each event
 * that changes the item's state (an event that leaves it as it was begins none: `beginsVersion`).
 */
const allVersions = (xs: readonly RecordedEvent<ItemEvent>[], known: Instant | undefined): ItemChange[] => {
  const sorted = sortRecorded(filterKnown(xs, known))
  const states = new Map<ItemId, ItemState>()
  const open = new Map<ItemId, { v: ItemChange; index: number }>()
  const out: ItemChange[] = []
  for (const r of sorted) {
    const e = r.event
    const before = states.get(e.itemId)
    const s = evolveItem(before, e)
    states.set(e.itemId, s)
    if (!beginsVersion(before, s)) continue
    const prev = open.get(e.itemId)
    if (prev !== undefined) out[prev.index] = { ...prev.v, validTo: e.occurredAt }
    const v: ItemChange = { itemId: e.itemId, validFrom: e.occurredAt, validTo: null, cause: e.type, eventId: e.eventId, state: s }
    open.set(e.itemId, { v, index: out.length })
    out.push(v)
  }
  return out.sort(byItemThenTime)
}

const sortStates = (xs: Iterable<ItemState>): ItemState[] => [...xs].sort((a, b) => a.itemId - b.itemId)

export const replayTimeTravel = (read: ReadAccount): TimeTravel => {
  const items = (account: AccountId) => pipe(read(account), TE.map(itemEvents))
  return {
    kind: 'replay',
    accountEvents: (account) =>
      pipe(
        read(account),
        TE.map((xs) => xs.filter((r): r is RecordedEvent<AccountEvent> => !isItemEvent(r.event))),
      ),
    liveItemsAsOf: (account, at) =>
      pipe(
        items(account),
        TE.map((xs) => sortStates([...foldUntil(xs, at).values()].filter((s) => s.status === 'live'))),
      ),
    liveRefsAsOf: (account, at) =>
      pipe(
        items(account),
        TE.map((xs) => refsOf(sortStates([...foldUntil(xs, at).values()].filter((s) => s.status === 'live')))),
      ),
    eachLiveItem: (account, at, visit) =>
      pipe(
        items(account),
        TE.map((xs) => {
          const live = sortStates([...foldUntil(xs, at).values()].filter((s) => s.status === 'live'))
          live.forEach((s) => visit(s))
          return live.length
        }),
      ),
    foldersAsOf: (account, at) =>
      pipe(
        items(account),
        TE.map((xs) => sortStates([...foldUntil(xs, at).values()].filter((s) => s.status === 'live' && s.itemType === 'folder'))),
      ),
    itemAsOf: (account, item, at) =>
      pipe(
        items(account),
        TE.map((xs) => {
          const hist = allVersions(
            xs.filter((r) => r.event.itemId === item),
            at.knownAt,
          )
          const v = hist.find((h) => h.validFrom <= at.validAt && (h.validTo === null || h.validTo > at.validAt))
          return v === undefined ? undefined : strip(v)
        }),
      ),
    itemHistory: (account, item, known) =>
      pipe(
        items(account),
        TE.map((xs) =>
          allVersions(
            xs.filter((r) => r.event.itemId === item),
            known,
          ).map(strip),
        ),
      ),
    changesBetween: (account, w: Window) =>
      pipe(
        items(account),
        TE.map((xs) => allVersions(xs, w.knownAt).filter((v) => v.validFrom >= w.from && v.validFrom <= w.to)),
      ),
    deletedBetween: (account, w: Window) =>
      pipe(
        items(account),
        TE.map((xs) => allVersions(xs, w.knownAt).filter((v) => v.cause === 'ItemDeleted' && v.validFrom >= w.from && v.validFrom <= w.to)),
      ),
  }
}

const strip = ({ itemId: _i, ...v }: ItemChange): ItemVersion => v
