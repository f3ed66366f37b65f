/**
 * The EventStoreDB adapter against a real server, when MAILTIME_ESDB_URL names one (no server can be
 * installed on the machines this project is built on). It says that it skipped otherwise, even under
 * MAILTIME_REQUIRE_SERVICES, since CI cannot provide the server. Each case runs in its own stream
 * namespace, so one server (e.g. `docker run eventstore/eventstore --insecure --mem-db`) serves
 * the whole suite. How to run it: docs/scale.md.
 */
import { esdbEventStore } from '../../src/store/esdb/esdbEventStore'
import * as E from 'fp-ts/Either'
import { openBackend } from '../../src/wiring/backend'
import { mirroredBackend } from '../../src/wiring/mirroredBackend'
import { eventStoreContract } from '../contract/eventStoreContract'
import { ev } from '../support/build'
import { indexAgreesWithReplay } from '../support/indexProperty'
import { ok } from '../support/run'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(300_000)
afterAll(cleanupTmp)

const url = process.env.MAILTIME_ESDB_URL
let run = 0

if (url === undefined) {
  process.stderr.write('skipping the EventStoreDB contract suite: MAILTIME_ESDB_URL is not set (see docs/scale.md)\n')
  describe.skip('EventStoreDB event store (MAILTIME_ESDB_URL not set)', () => {
    it('runs the contract suite', () => undefined)
  })
} else {
  const namespace = `t${Date.now().toString(36)}`
  const fresh = () => esdbEventStore(`${url}${url.includes('?') ? '&' : '?'}namespace=${namespace}-${run++}-`)
  eventStoreContract('EventStoreDB', async () => {
    const store = fresh()
    return { store, dispose: () => store.close() }
  })
  describe('EventStoreDB with its temporal index beside it (a SQLite copy)', () => {
    it('agrees with the naive replay on every query for random histories', async () => {
      await indexAgreesWithReplay(
        async () => {
          const beside = openBackend(':memory:', tmpDir())
          if (E.isLeft(beside)) throw new Error(JSON.stringify(beside.left))
          const m = mirroredBackend(fresh(), beside.right)
          return {
            store: m.store,
            index: m.index,
            catchUp: async () => void (await ok(m.sync())),
            rebuild: async () => void (await ok(m.index.rebuild())),
            dispose: () => m.close(),
          }
        },
        Number(process.env.MAILTIME_PROPERTY_RUNS ?? 10),
      )
    })
    it('a catch-up subscription brings the copy up to date without a query', async () => {
      const beside = openBackend(':memory:', tmpDir())
      if (E.isLeft(beside)) throw new Error(JSON.stringify(beside.left))
      const source = fresh()
      const m = mirroredBackend(source, beside.right, source.follow)
      const errors: unknown[] = []
      const stop = m.follow((e) => errors.push(e))
      await new Promise((r) => setTimeout(r, 500))
      await ok(
        source.appendToStream('account-sub@example.com', [
          ev('ItemCreated', 'sub@example.com', 1000, { itemId: 300 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }),
        ]),
      )
      for (let i = 0; i < 100 && (await ok(m.copy.streamRevision('account-sub@example.com'))) < 0; i++) await new Promise((r) => setTimeout(r, 100))
      stop()
      expect(await ok(m.copy.streamRevision('account-sub@example.com'))).toBe(0)
      expect(errors).toEqual([])
      await m.close()
    })
  })
}

describe('EventStoreDB adapter without a server', () => {
  it('a server that is down is a StoreFailure naming the location without its password', async () => {
    const store = esdbEventStore('esdb://admin:s3cret-pw@127.0.0.1:1?tls=false&namespace=x-')
    const r = await store.streamRevision('account-a')()
    await store.close()
    expect(r).toMatchObject({ _tag: 'Left', left: { _tag: 'StoreFailure', store: 'esdb://admin:***@127.0.0.1:1?tls=false&namespace=x-' } })
    expect(JSON.stringify(r)).not.toContain('s3cret-pw')
    expect(JSON.stringify(r)).toMatch(/ECONNREFUSED|UNAVAILABLE/)
  })
})
