/**
 * PostgreSQL's temporal index against the naive replay and the independent oracle, for random
 * histories (the same property as SQLite's index, test/support/indexProperty.ts), and against the
 * hand-written examples of the fold (test/support/foldExamples.ts), on a real PostgreSQL 15; and two
 * processes' worth of indexes catching up on one store at once, which must index every event exactly once.
 */
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { pgTemporalIndex } from '../../src/store/postgres/pgTemporalIndex'
import { ev } from '../support/build'
import { EXAMPLE_ACCOUNT, FOLD_EXAMPLES, expectedAnswer, timeTravelAnswers } from '../support/foldExamples'
import { boundaryExamples, indexAgreesWithReplay } from '../support/indexProperty'
import { openPg, postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { ok } from '../support/run'
import { describeWithService } from '../support/services'

jest.setTimeout(300_000)

const server = sharedPostgres
const open = openPg
afterAll(stopSharedPostgres)

describeWithService(postgresAvailable(), 'PostgreSQL')('PostgreSQL temporal index', () => {
  it('agrees with the naive replay and the independent oracle on every query for random histories, instants and system times', async () => {
    const store = await open(await (await server()).freshDatabase())
    try {
      await indexAgreesWithReplay(async () => {
        await store.pool.query('TRUNCATE events, streams, checkpoints, item_versions')
        const index = pgTemporalIndex(store.pool, 'test')
        return {
          store,
          index,
          catchUp: async () => void (await ok(index.catchUp())),
          rebuild: async () => void (await ok(index.rebuild())),
          dispose: async () => undefined,
        }
      }, Number(process.env.MAILTIME_PROPERTY_RUNS ?? 25))
    } finally {
      await store.close()
    }
  })

  it('answers exactly at the end of a version', async () => {
    const store = await open(await (await server()).freshDatabase())
    const index = pgTemporalIndex(store.pool, 'test')
    await boundaryExamples(async () => ({
      store,
      index,
      catchUp: async () => void (await ok(index.catchUp())),
      rebuild: async () => void (await ok(index.rebuild())),
      dispose: () => store.close(),
    }))
  })

  describe('given the events, caught up after each, when asked, then it answers as the docs say:', () => {
    let store: Awaited<ReturnType<typeof open>> | undefined
    beforeAll(async () => {
      store = await open(await (await server()).freshDatabase())
    })
    afterAll(async () => {
      await store?.close()
    })
    for (const ex of FOLD_EXAMPLES) {
      const test = ex.divergence !== undefined ? it.failing : it
      test(ex.divergence !== undefined ? `${ex.name} (known divergence: ${ex.divergence})` : ex.name, async () => {
        const s = store as NonNullable<typeof store>
        await s.pool.query('TRUNCATE events, streams, checkpoints, item_versions')
        const index = pgTemporalIndex(s.pool, 'examples')
        for (const e of ex.given) {
          await ok(s.appendToStream(`account-${EXAMPLE_ACCOUNT}`, [e]))
          await ok(index.catchUp())
        }
        expect(await timeTravelAnswers(index)(ex.when)).toEqual(expectedAnswer(ex))
      })
    }
  })

  it('two indexes catching up on one store at once index every event once', async () => {
    const url = await (await server()).freshDatabase()
    const a = await open(url)
    const b = await open(url)
    const account = 'par@example.com'
    const events = Array.from({ length: 3000 }, (_, i) =>
      ev('ItemCreated', account, 1000 + i, { itemId: (300 + i) as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }),
    )
    for (let i = 0; i < events.length; i += 500) await ok(a.appendToStream(`account-${account}`, events.slice(i, i + 500)))
    const ia = pgTemporalIndex(a.pool, 'a')
    const ib = pgTemporalIndex(b.pool, 'b')
    const [na, nb] = await Promise.all([ok(ia.catchUp()), ok(ib.catchUp())])
    expect(na + nb).toBe(3000)
    const rows = await a.pool.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT item_id) AS d FROM item_versions')
    expect(Number(rows.rows[0]?.n)).toBe(3000)
    expect(Number(rows.rows[0]?.d)).toBe(3000)
    const live = await ok(ib.liveItemsAsOf(account as AccountId, { validAt: 2500 as Instant }))
    expect(live).toHaveLength(1501)
    await a.close()
    await b.close()
  })
})
