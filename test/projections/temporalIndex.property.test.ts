/**
 * For all histories: SQLite's temporal index and the naive replay give the same answer to every
 * time-travel query, and it is the independent oracle's (the property is in
 * test/support/indexProperty.ts); and it answers exactly at the end of a version.
 */
import * as E from 'fp-ts/Either'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { sqliteTemporalIndex } from '../../src/store/sqliteTemporalIndex'
import { type IndexedStore, boundaryExamples, indexAgreesWithReplay } from '../support/indexProperty'

const openSqlite = async (): Promise<IndexedStore> => {
  const h = openSqliteDatabase(':memory:')
  if (E.isLeft(h)) throw new Error('open')
  const index = sqliteTemporalIndex(h.right)
  const store = sqliteEventStore(h.right)
  return {
    store,
    index,
    catchUp: async () => {
      if (E.isLeft(index.catchUp())) throw new Error('catch-up failed')
    },
    rebuild: async () => {
      if (E.isLeft(index.rebuild())) throw new Error('rebuild failed')
    },
    dispose: () => store.close(),
  }
}

describe('SQLite temporal index against the naive replay and the independent oracle', () => {
  it('agrees on every query for random histories, instants and system times', async () => {
    await indexAgreesWithReplay(openSqlite, Number(process.env.MAILTIME_PROPERTY_RUNS ?? 40))
  })

  it('answers exactly at the end of a version', async () => {
    await boundaryExamples(openSqlite)
  })
})
