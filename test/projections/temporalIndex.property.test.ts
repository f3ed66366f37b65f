/**
 * For all histories: SQLite's temporal index and the naive replay give the same answer to every
 * time-travel query, and it is the independent oracle's (the property is in
 * test/support/indexProperty.ts); and it answers exactly at the end of a version, and for a change
 * recorded twice. An index an older Mailtime built by another rule is rebuilt before it answers.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { sqliteTemporalIndex } from '../../src/store/sqliteTemporalIndex'
import { replayTimeTravel } from '../../projections/replay'
import { streamReader } from '../../src/store/streamReader'
import { ev } from '../support/build'
import { ACCOUNT } from '../support/histories'
import { type IndexedStore, boundaryExamples, duplicateChangeExamples, indexAgreesWithReplay } from '../support/indexProperty'
import { ok } from '../support/run'

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

  it('keeps one version for a change a scan and then a log line recorded', async () => {
    await duplicateChangeExamples(openSqlite)
  })

  it('rebuilds an index built by an older rule before it answers', async () => {
    const h = openSqliteDatabase(':memory:')
    if (E.isLeft(h)) throw new Error('open')
    const store = sqliteEventStore(h.right)
    const account = ACCOUNT as AccountId
    try {
      const old = sqliteTemporalIndex(h.right)
      await ok(
        store.appendToStream(`account-${ACCOUNT}`, [
          ev('ItemCreated', ACCOUNT, 1000, { itemId: 301 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }, { recordedAt: 1000 }),
          ev('ItemDeleted', ACCOUNT, 5000, { itemId: 301 as never }, { recordedAt: 5000 }),
          ev('ItemDeleted', ACCOUNT, 3000, { itemId: 301 as never }, { recordedAt: 8000 }),
        ]),
      )
      if (E.isLeft(old.catchUp())) throw new Error('catch-up failed')
      // What an older Mailtime left: a version for the deletion recorded twice, and no rule.
      h.right.db.exec(`DELETE FROM checkpoints WHERE name = 'index:version_rules';
        INSERT INTO item_versions SELECT account, item_id, kind, 5000, NULL, recorded_from, fork, lower, upper, cause, 'x' || event_id, ev_recorded_at, ev_revision, state
          FROM item_versions WHERE item_id = 301 AND cause = 'ItemDeleted';
        UPDATE item_versions SET valid_to = 5000 WHERE item_id = 301 AND cause = 'ItemDeleted' AND valid_from = 3000;`)
      const causes = async (tt: ReturnType<typeof replayTimeTravel>) => (await ok(tt.itemHistory(account, 301 as never))).map((v) => [v.cause, v.validFrom])
      expect(await causes(old)).toEqual([
        ['ItemCreated', 1000],
        ['ItemDeleted', 3000],
        ['ItemDeleted', 5000],
      ])
      const upgraded = sqliteTemporalIndex(h.right)
      expect(await causes(upgraded)).toEqual(await causes(replayTimeTravel(streamReader(store))))
      expect(await causes(upgraded)).toEqual([
        ['ItemCreated', 1000],
        ['ItemDeleted', 3000],
      ])
    } finally {
      await store.close()
    }
  })
})
