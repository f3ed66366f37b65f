/**
 * PostgreSQL's temporal index against the naive replay and the independent oracle, for random
 * histories (the same property as SQLite's index, test/support/indexProperty.ts), and against the
 * hand-written examples of the fold (test/support/foldExamples.ts), on a real PostgreSQL 15; and two
 * processes' worth of indexes catching up on one store at once, which must index every event exactly
 * once. An index an older Mailtime built by another rule is rebuilt before it answers.
 */
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { pgTemporalIndex } from '../../src/store/postgres/pgTemporalIndex'
import { ev } from '../support/build'
import { EXAMPLE_ACCOUNT, FOLD_EXAMPLES, expectedAnswer, timeTravelAnswers } from '../support/foldExamples'
import { replayTimeTravel } from '../../projections/replay'
import { streamReader } from '../../src/store/streamReader'
import { boundaryExamples, duplicateChangeExamples, indexAgreesWithReplay } from '../support/indexProperty'
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
      await indexAgreesWithReplay(
        async () => {
          await store.pool.query('TRUNCATE events, streams, checkpoints, item_versions')
          const index = pgTemporalIndex(store.pool, 'test')
          return {
            store,
            index,
            catchUp: async () => void (await ok(index.catchUp())),
            rebuild: async () => void (await ok(index.rebuild())),
            dispose: async () => undefined,
          }
        },
        Number(process.env.MAILTIME_PROPERTY_RUNS ?? 25),
      )
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

  it('keeps one version for a change a scan and then a log line recorded', async () => {
    const store = await open(await (await server()).freshDatabase())
    const index = pgTemporalIndex(store.pool, 'test')
    await duplicateChangeExamples(async () => ({
      store,
      index,
      catchUp: async () => void (await ok(index.catchUp())),
      rebuild: async () => void (await ok(index.rebuild())),
      dispose: () => store.close(),
    }))
  })

  it('rebuilds an index built by an older rule before it answers', async () => {
    const store = await open(await (await server()).freshDatabase())
    const account = 'old@example.com'
    try {
      await ok(
        store.appendToStream(`account-${account}`, [
          ev('ItemCreated', account, 1000, { itemId: 301 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }, { recordedAt: 1000 }),
          ev('ItemDeleted', account, 5000, { itemId: 301 as never }, { recordedAt: 5000 }),
          ev('ItemDeleted', account, 3000, { itemId: 301 as never }, { recordedAt: 8000 }),
        ]),
      )
      const old = pgTemporalIndex(store.pool, 'old')
      await ok(old.catchUp())
      // What an older Mailtime left: a version for the deletion recorded twice, and no rule.
      await store.pool.query(`DELETE FROM checkpoints WHERE name = 'index:version_rules'`)
      await store.pool.query(`INSERT INTO item_versions (account, item_id, kind, valid_from, valid_to, recorded_from, recorded_to, fork, lower, upper, cause, event_id, state)
        SELECT account, item_id, kind, 5000, NULL, recorded_from, recorded_to, fork, lower, upper, cause, 'x' || event_id, state FROM item_versions WHERE item_id = 301 AND cause = 'ItemDeleted'`)
      await store.pool.query(`UPDATE item_versions SET valid_to = 5000 WHERE item_id = 301 AND cause = 'ItemDeleted' AND valid_from = 3000`)
      const causes = async (tt: ReturnType<typeof replayTimeTravel>) => (await ok(tt.itemHistory(account as AccountId, 301 as never))).map((v) => [v.cause, Number(v.validFrom)])
      expect(await causes(old)).toEqual([
        ['ItemCreated', 1000],
        ['ItemDeleted', 3000],
        ['ItemDeleted', 5000],
      ])
      const upgraded = pgTemporalIndex(store.pool, 'upgraded')
      expect(await causes(upgraded)).toEqual([
        ['ItemCreated', 1000],
        ['ItemDeleted', 3000],
      ])
      expect(await causes(upgraded)).toEqual(await causes(replayTimeTravel(streamReader(store))))
    } finally {
      await store.close()
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
