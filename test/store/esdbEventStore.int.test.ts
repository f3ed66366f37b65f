/**
 * The EventStoreDB adapter against a real server, when MAILTIME_ESDB_URL names one (no server can be
 * installed on the machines this project is built on). It says that it skipped otherwise, even under
 * MAILTIME_REQUIRE_SERVICES, since CI cannot provide the server. Each case runs in its own stream
 * namespace, so one server (e.g. `docker run eventstore/eventstore --insecure --mem-db`) serves
 * the whole suite. How to run it: docs/scale.md.
 */
import { esdbEventStore } from '../../src/store/esdb/esdbEventStore'
import { eventStoreContract } from '../contract/eventStoreContract'

jest.setTimeout(60_000)

const url = process.env.MAILTIME_ESDB_URL
let run = 0

if (url === undefined) {
  process.stderr.write('skipping the EventStoreDB contract suite: MAILTIME_ESDB_URL is not set (see docs/scale.md)\n')
  describe.skip('EventStoreDB event store (MAILTIME_ESDB_URL not set)', () => {
    it('runs the contract suite', () => undefined)
  })
} else {
  const namespace = `t${Date.now().toString(36)}`
  eventStoreContract('EventStoreDB', async () => {
    const sep = url.includes('?') ? '&' : '?'
    const store = esdbEventStore(`${url}${sep}namespace=${namespace}-${run++}-`)
    return { store, dispose: () => store.close() }
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
