/**
 * The backend an EventStoreDB store gets (src/wiring/mirroredBackend.ts): events copied in global order
 * into a SQLite or PostgreSQL store beside it, whose temporal index answers. The copying code only
 * speaks the event store port, so here the source is a real SQLite store (EventStoreDB itself runs
 * the same suite when MAILTIME_ESDB_URL is set: esdbEventStore.int.test.ts). For all histories the
 * copy's index agrees with the naive replay over the source; re-reading pages after a crash adds
 * nothing; a copy with a hole is refused, naming the stream and revision.
 */
import * as E from 'fp-ts/Either'
import * as path from 'path'
import { openBackend, openStoreBackend } from '../../src/wiring/backend'
import { mirroredBackend } from '../../src/wiring/mirroredBackend'
import { mirrorCheckpoint } from '../../src/store/mirror'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import type { EventStore } from '../../src/store/eventStore'
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { ev } from '../support/build'
import { mailtime } from '../support/cli'
import { boundaryExamples, indexAgreesWithReplay } from '../support/indexProperty'
import { postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { fail, ok } from '../support/run'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(300_000)
afterAll(async () => {
  cleanupTmp()
  await stopSharedPostgres()
})

const sqliteSource = (): EventStore => {
  const h = openSqliteDatabase(':memory:')
  if (E.isLeft(h)) throw new Error('open')
  return sqliteEventStore(h.right)
}

const besideSqlite = async () => {
  const b = openBackend(':memory:', tmpDir())
  if (E.isLeft(b)) throw new Error(JSON.stringify(b.left))
  return b.right
}

const mirrored = async (beside: () => Promise<Awaited<ReturnType<typeof besideSqlite>>>) => {
  const source = sqliteSource()
  const m = mirroredBackend(source, await beside())
  return {
    store: source,
    index: m.index,
    catchUp: async () => void (await ok(m.sync())),
    rebuild: async () => void (await ok(m.index.rebuild())),
    dispose: () => m.close(),
    backend: m,
  }
}

const account = 'mirror@example.com'
const stream = `account-${account}`
const created = (i: number) => ev('ItemCreated', account, 1000 + i, { itemId: (300 + i) as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] })

describe('the copy beside a store without an index, on SQLite', () => {
  it('agrees with the naive replay over the source on every query, for random histories', async () => {
    await indexAgreesWithReplay(() => mirrored(besideSqlite), Number(process.env.MAILTIME_PROPERTY_RUNS ?? 25))
  })

  it('answers exactly at the end of a version', async () => {
    await boundaryExamples(() => mirrored(besideSqlite))
  })

  it('copies in pages, resumes from its checkpoint, and a page read again adds nothing', async () => {
    const m = await mirrored(besideSqlite)
    const events = Array.from({ length: 2500 }, (_, i) => created(i))
    await ok(m.store.appendToStream(stream, events.slice(0, 1200)))
    await ok(
      m.store.appendToStream('account-other@example.com', [
        ev('ItemCreated', 'other@example.com', 5, { itemId: 300 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }),
      ]),
    )
    await ok(m.store.appendToStream(stream, events.slice(1200)))
    expect(await ok(m.backend.sync())).toBe(2501)
    expect(await ok(m.backend.sync())).toBe(0)
    const copy = m.backend.copy
    expect(await ok(copy.streamRevision(stream))).toBe(2499)
    const last = (await ok(m.store.readAll({}))).at(-1)?.globalPosition
    expect(await ok(copy.readCheckpoint(mirrorCheckpoint(m.store)))).toBe(String(last))
    // As if the copy had lost its checkpoint: every page is read again, and all are duplicates.
    await ok(copy.appendToStream(stream, [], { checkpoint: { name: mirrorCheckpoint(m.store), value: '0' } }))
    expect(await ok(m.backend.sync())).toBe(0)
    expect(await ok(copy.streamRevision(stream))).toBe(2499)
    expect(await ok(copy.streamRevision('account-other@example.com'))).toBe(0)
    expect(await ok(m.index.liveItemsAsOf(account as AccountId, { validAt: 10_000 as Instant }))).toHaveLength(2500)
    // Operations are written beside the source, in the copy's store.
    expect(m.backend.operations).toBeDefined()
    await m.dispose()
  })

  it('refuses a copy with a hole, naming the stream and the revision', async () => {
    const m = await mirrored(besideSqlite)
    await ok(m.store.appendToStream(stream, [created(0), created(1), created(2), created(3)]))
    const third = (await ok(m.store.readAll({}))).find((e) => e.revision === 2)
    // A copy that holds revision 0 only, but whose position says it read up to revision 2.
    await ok(m.backend.copy.appendToStream(stream, [created(0)], { checkpoint: { name: mirrorCheckpoint(m.store), value: String(third?.globalPosition) } }))
    const err = await fail(m.index.liveItemsAsOf(account as AccountId, { validAt: 10_000 as Instant }))
    expect(err).toMatchObject({ _tag: 'CorruptEvent', stream, revision: 3 })
    expect(JSON.stringify(err)).toMatch(/revisions up to 0: an event is missing/)
    await m.dispose()
  })
})

describeWithService(postgresAvailable(), 'PostgreSQL')('the copy beside a store without an index, on PostgreSQL', () => {
  it('agrees with the naive replay over the source on every query, for random histories', async () => {
    const pg = await sharedPostgres()
    await indexAgreesWithReplay(
      async () => {
        const url = await pg.freshDatabase()
        return mirrored(async () => {
          const b = await openStoreBackend(url, tmpDir())
          if (E.isLeft(b)) throw new Error(JSON.stringify(b.left))
          return b.right
        })
      },
      Number(process.env.MAILTIME_PROPERTY_RUNS ?? 10),
    )
  })
})

describe('--store esdb://', () => {
  it('a server that is down exits 4, naming the store without its password; the copy is a SQLite file by default', () => {
    const dir = tmpDir()
    const r = mailtime(['--store', 'esdb://admin@127.0.0.1:1?tls=false', '--index', `sqlite:${path.join(dir, 'copy.db')}`, 'getAccountState', 'a@example.com'], {
      MAILTIME_ESDB_PASSWORD: 's3cret-pw',
    })
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/esdb:\/\/admin:\*\*\*@127\.0\.0\.1:1/)
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw')
  })

  it('refuses a password in --index, and an EventStoreDB index', () => {
    expect(mailtime(['--store', 'esdb://127.0.0.1:1?tls=false', '--index', 'postgres://u:pw@127.0.0.1/x', 'getAvailableAccounts']).code).toBe(2)
    const r = mailtime(['--store', 'esdb://127.0.0.1:1?tls=false', '--index', 'esdb://127.0.0.1:2?tls=false', 'getAvailableAccounts'])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/SQLite file or a postgres:\/\/ database/)
  })
})
