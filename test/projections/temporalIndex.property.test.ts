/**
 * For all histories: the temporal index and the naive replay give the same answer to every
 * time-travel query, at random instants of valid time and of system time, whether the index was
 * kept up to date batch by batch or rebuilt from scratch.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import { accountAsOf, diff } from '../../projections/accountView'
import { replayTimeTravel } from '../../projections/replay'
import type { TimeTravel } from '../../projections/timeTravel'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { sqliteTemporalIndex } from '../../src/store/sqliteTemporalIndex'
import { streamReader } from '../../src/store/streamReader'
import { ACCOUNT, historyArb } from '../support/histories'
import { ok } from '../support/run'

const account = ACCOUNT as AccountId
const ITEMS = [256, 257, 258, 300, 301, 302, 303, 304, 305, 306, 307, 999]

/** What `eachLiveItem` visits, in item order. */
const visited = async (tt: TimeTravel, at: { validAt: Instant; knownAt?: Instant }) => {
  const seen: ItemState[] = []
  const n = await ok(tt.eachLiveItem(account, at, (s) => seen.push(s)))
  expect(n).toBe(seen.length)
  return seen.sort((a, b) => a.itemId - b.itemId)
}

const compareAll = async (index: TimeTravel, replay: TimeTravel, validAt: number[], knownAt: (number | undefined)[]) => {
  for (const k of knownAt) {
    const known = k === undefined ? {} : { knownAt: k as Instant }
    for (const t of validAt) {
      const at = { validAt: t as Instant, ...known }
      expect(await ok(index.liveItemsAsOf(account, at))).toEqual(await ok(replay.liveItemsAsOf(account, at)))
      expect(await ok(index.foldersAsOf(account, at))).toEqual(await ok(replay.foldersAsOf(account, at)))
      expect(await visited(index, at)).toEqual(await ok(replay.liveItemsAsOf(account, at)))
      expect(await ok(accountAsOf(index, account, at))).toEqual(await ok(accountAsOf(replay, account, at)))
      for (const item of ITEMS)
        expect(await ok(index.itemAsOf(account, item as never, at))).toEqual(await ok(replay.itemAsOf(account, item as never, at)))
    }
    for (const item of ITEMS)
      expect(await ok(index.itemHistory(account, item as never, k as Instant | undefined))).toEqual(
        await ok(replay.itemHistory(account, item as never, k as Instant | undefined)),
      )
    const [a = 0, b = 0] = [...validAt].sort((x, y) => x - y)
    const w = { from: a as Instant, to: b as Instant, ...known }
    expect(await ok(index.changesBetween(account, w))).toEqual(await ok(replay.changesBetween(account, w)))
    expect(await ok(index.deletedBetween(account, w))).toEqual(await ok(replay.deletedBetween(account, w)))
    expect(await ok(diff(index, account, a as Instant, b as Instant, k as Instant | undefined))).toEqual(
      await ok(diff(replay, account, a as Instant, b as Instant, k as Instant | undefined)),
    )
  }
}

describe('temporal index against the naive replay', () => {
  it('agrees on every query for random histories, instants and system times', async () => {
    await fc.assert(
      fc.asyncProperty(
        historyArb,
        fc.array(
          fc.oneof(
            fc.integer({ min: 0, max: 45_000 }),
            // Event instants and their neighbours: where off-by-one errors live.
            fc.tuple(fc.integer({ min: 0, max: 41 }), fc.constantFrom(-1, 0, 0, 1)).map(([n, d]) => Math.max(0, n * 1000 + d)),
          ),
          { minLength: 2, maxLength: 4 },
        ),
        fc.array(
          fc.option(
            fc.oneof(fc.integer({ min: 20_000, max: 160_000 }), fc.integer({ min: 20, max: 160 }).map((n) => n * 1000)),
            { nil: undefined },
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.boolean(),
        async (history, validAt, knownAt, catchUpEachBatch) => {
          const h = openSqliteDatabase(':memory:')
          if (E.isLeft(h)) throw new Error('open')
          const index = sqliteTemporalIndex(h.right)
          const store = sqliteEventStore(h.right, catchUpEachBatch ? () => index.catchUp() : undefined)
          for (const batch of history.batches) await ok(store.appendToStream(`account-${ACCOUNT}`, batch))
          const replay = replayTimeTravel(streamReader(store))
          // Include the history's own system times: corrections happen exactly there.
          const known = [...knownAt, ...history.recordedTimes.slice(0, 2)]
          await compareAll(index, replay, validAt, known)
          const rebuilt = index.rebuild()
          expect(E.isRight(rebuilt)).toBe(true)
          await compareAll(index, replay, validAt, [undefined, ...history.recordedTimes.slice(-1)])
          await store.close()
        },
      ),
      { numRuns: Number(process.env.MAILTIME_PROPERTY_RUNS ?? 40) },
    )
  })
})
