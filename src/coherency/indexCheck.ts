/**
 * Compares the temporal index's history of one item with a replay of the item's own events (an
 * item's versions depend on its events only, `projections/versions.ts`), as known now and as known
 * at each earlier instant the item's facts were recorded: the second catches corrected versions
 * the index lost or kept wrongly.
 */
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import type { ItemEvent } from '../../domain/events'
import type { AccountId, ItemId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { StoreError } from '../../projections/errors'
import type { RecordedEvent } from '../../projections/order'
import { replayTimeTravel } from '../../projections/replay'
import type { TimeTravel } from '../../projections/timeTravel'
import { type ItemVersion, versionKey } from '../../projections/versions'

/** The first difference between two histories of an item, in words; undefined when they agree. */
export const historyDifference = (index: readonly ItemVersion[], replay: readonly ItemVersion[]): string | undefined => {
  const count = (vs: readonly ItemVersion[]) => {
    const m = new Map<string, { n: number; v: ItemVersion }>()
    for (const v of vs) {
      const k = versionKey(v)
      const hit = m.get(k)
      m.set(k, { n: (hit?.n ?? 0) + 1, v })
    }
    return m
  }
  const a = count(index)
  const b = count(replay)
  const describe = (v: ItemVersion) => `from ${new Date(v.validFrom).toISOString()} (${v.cause}, event ${v.eventId}, ${v.state.status})`
  for (const [k, { n, v }] of b) if ((a.get(k)?.n ?? 0) < n) return `the index lacks the version ${describe(v)}`
  for (const [k, { n, v }] of a) if ((b.get(k)?.n ?? 0) < n) return `the index holds a version the events do not give: ${describe(v)}`
  return undefined
}

/**
 * Compares one item. `events` are all of the item's events (in any order). The result is the first
 * difference found, undefined when the index agrees, or the index's read error.
 */
export const compareItem = async (
  index: TimeTravel,
  account: AccountId,
  item: ItemId,
  events: readonly RecordedEvent<ItemEvent>[],
): Promise<E.Either<StoreError, string | undefined>> => {
  const replay = replayTimeTravel(() => TE.right(events as RecordedEvent<ItemEvent>[]))
  // Now, then at each earlier system time of the item's facts (the last one is "now").
  const times = [...new Set(events.map((r) => r.event.recordedAt as number))].sort((x, y) => x - y).slice(0, -1)
  for (const knownAt of [undefined, ...times]) {
    const ix = await index.itemHistory(account, item, knownAt as Instant | undefined)()
    if (E.isLeft(ix)) return ix
    const rp = await replay.itemHistory(account, item, knownAt as Instant | undefined)()
    if (E.isLeft(rp)) return rp
    const d = historyDifference(ix.right, rp.right)
    if (d !== undefined) return E.right(knownAt === undefined ? d : `${d}, as known at ${new Date(knownAt).toISOString()}`)
  }
  return E.right(undefined)
}
