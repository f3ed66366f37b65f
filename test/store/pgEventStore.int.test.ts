/**
 * The PostgreSQL event store against a real PostgreSQL 15 (a throwaway cluster, or MAILTIME_PG_URL):
 * the same contract suite as SQLite, then what only a server with several writers shows: conflicts
 * on one account, concurrent writers on different accounts, and a projector reading "after position P"
 * while writers commit, which must never skip an event.
 */
import * as E from 'fp-ts/Either'
import { type PgStore, openPgEventStore } from '../../src/store/postgres/pgEventStore'
import { redactUrl } from '../../src/store/redactUrl'
import { eventStoreContract } from '../contract/eventStoreContract'
import { openPg, postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { ev } from '../support/build'
import { fail, ok } from '../support/run'

jest.setTimeout(120_000)

const server = sharedPostgres
const open = openPg
afterAll(stopSharedPostgres)

const created = (account: string, item: number, at: number) =>
  ev('ItemCreated', account, at, { itemId: item as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] })

describeWithService(postgresAvailable(), 'PostgreSQL')('PostgreSQL event store', () => {
  eventStoreContract('postgres', async () => {
    const store = await open(await (await server()).freshDatabase())
    return { store, dispose: () => store.close(), keepsText: true }
  })

  describe('with several writers', () => {
    it('two writers expecting the same revision of one account: one appends, the other gets a conflict, nothing interleaves', async () => {
      const url = await (await server()).freshDatabase()
      const a = await open(url)
      const b = await open(url)
      await ok(a.appendToStream('account-x', [created('x', 300, 1)]))
      const [ra, rb] = await Promise.all([
        a.appendToStream('account-x', [created('x', 301, 2), created('x', 302, 3)], { expectedRevision: 0 })(),
        b.appendToStream('account-x', [created('x', 401, 2), created('x', 402, 3)], { expectedRevision: 0 })(),
      ])
      expect([ra, rb].filter(E.isRight)).toHaveLength(1)
      const conflict = [ra, rb].find(E.isLeft)
      expect(conflict !== undefined && conflict.left).toMatchObject({ _tag: 'ConcurrencyConflict', stream: 'account-x', expected: 0, actual: 2 })
      const items = (await ok(a.readStream('account-x'))).map((s) => (s.event as { itemId: number }).itemId)
      expect([
        [300, 301, 302],
        [300, 401, 402],
      ]).toContainEqual(items)
      await a.close()
      await b.close()
    })

    it('many writers on one account with no expectation: every batch lands whole, revisions have no gaps', async () => {
      const url = await (await server()).freshDatabase()
      const stores = await Promise.all([1, 2, 3, 4].map(() => open(url)))
      const batch = (w: number, k: number) => [0, 1, 2].map((i) => created('y', 1000 * (w + 1) + 10 * k + i, k))
      await Promise.all(stores.flatMap((s, w) => [0, 1, 2, 3, 4].map((k) => ok(s.appendToStream('account-y', batch(w, k))))))
      const back = await ok(stores[0]!.readStream('account-y'))
      expect(back.map((s) => s.revision)).toEqual(Array.from({ length: 60 }, (_, i) => i))
      // Each batch of three is contiguous.
      const ids = back.map((s) => (s.event as { itemId: number }).itemId)
      for (let i = 0; i < ids.length; i += 3) expect([ids[i]! + 1, ids[i]! + 2]).toEqual([ids[i + 1], ids[i + 2]])
      await Promise.all(stores.map((s) => s.close()))
    })

    it('writers on different accounts all succeed, and a projector reading after its position never misses an event', async () => {
      const url = await (await server()).freshDatabase()
      const writers = await Promise.all([1, 2, 3, 4].map(() => open(url)))
      const reader = await open(url)
      let writing = true
      const seen: number[] = []
      let after = 0
      const follow = (async () => {
        while (writing || after < 200) {
          const page = await ok(reader.readAll({ after, maxCount: 50 }))
          for (const s of page) {
            expect(s.globalPosition).toBeGreaterThan(after)
            after = s.globalPosition
            seen.push(s.globalPosition)
          }
          if (page.length === 0) await new Promise((r) => setTimeout(r, 2))
        }
      })()
      const write = async (s: PgStore, w: number) => {
        for (let k = 0; k < 10; k++)
          await ok(
            s.appendToStream(
              `account-w${w}`,
              [0, 1, 2, 3, 4].map((i) => created(`w${w}`, 300 + k * 5 + i, k)),
            ),
          )
      }
      await Promise.all(writers.map(write))
      writing = false
      await follow
      expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1))
      await Promise.all([...writers, reader].map((s) => s.close()))
    })
  })

  it('an unreachable server is StoreUnavailable, and the description hides the password', async () => {
    const r = await openPgEventStore('postgres://mailtime:s3cret@127.0.0.1:1/db')
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'StoreUnavailable' })
    expect(JSON.stringify(r)).not.toContain('s3cret')
    expect(redactUrl('postgres://u:pw@h:5432/d')).toBe('postgres://u:***@h:5432/d')
    expect(redactUrl('postgres://u@h:5432/d')).toBe('postgres://u@h:5432/d')
    expect(redactUrl('esdb://admin:changeit@h:2113?tls=false')).toBe('esdb://admin:***@h:2113?tls=false')
  })

  it('reports a stored event that no longer decodes with its stream and revision', async () => {
    const s = await open(await (await server()).freshDatabase())
    await ok(s.appendToStream('account-a', [ev('AccountCreated', 'a', 1, { name: 'a' })]))
    await s.pool.query(`UPDATE events SET data = replace(data, '"occurredAt"', '"occurredAtX"')`)
    expect(await fail(s.readStream('account-a'))).toMatchObject({ _tag: 'CorruptEvent', stream: 'account-a', revision: 0 })
    await s.close()
  })
})
