/**
 * The check's stream reader on a real SQLite store whose rows were broken with better-sqlite3: it
 * goes on past rows that do not decode (the store's own read stops at the first), including a bad
 * row after a hole, and yields every other event once, in order.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { streamEntries, type Entry } from '../../src/coherency/streamEntries'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { I, ev } from '../support/build'
import { ok } from '../support/run'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const collect = async (store: ReturnType<typeof sqliteEventStore>, stream: string, pageSize: number): Promise<Entry[]> => {
  const out: Entry[] = []
  for await (const page of streamEntries(store, stream, pageSize)) {
    if (E.isLeft(page)) throw new Error(JSON.stringify(page.left))
    out.push(...page.right)
  }
  return out
}

describe('reading a damaged stream page by page', () => {
  it('yields every decodable event once and in order, and each undecodable row by its revision', async () => {
    const h = openSqliteDatabase(path.join(tmpDir(), 'store.db'))
    if (E.isLeft(h)) throw new Error('cannot open')
    const store = sqliteEventStore(h.right)
    const events = Array.from({ length: 2500 }, (_, i) => ev('ItemFlagsChanged', 'alice', 1_000_000 + i, { itemId: I(256 + (i % 40)), flags: [] }))
    for (let i = 0; i < events.length; i += 500) await ok(store.appendToStream('account-alice', events.slice(i, i + 500)))
    const bad = [0, 1200, 1201, 1990, 2499]
    h.right.db.prepare(`UPDATE events SET data = '{"broken": true' WHERE stream = 'account-alice' AND revision IN (${bad.join(',')})`).run()
    // A hole just before a bad row: the reader must not take the hole for the bad row's neighbours.
    h.right.db.prepare("DELETE FROM events WHERE stream = 'account-alice' AND revision BETWEEN 1900 AND 1989").run()

    for (const pageSize of [1000, 7, 1]) {
      const got = await collect(store, 'account-alice', pageSize)
      const revisions = got.map((x) => (x._tag === 'Event' ? x.stored.revision : x.revision))
      const expected = Array.from({ length: 2500 }, (_, i) => i).filter((r) => r < 1900 || r > 1989)
      expect(revisions).toEqual(expected)
      expect(got.filter((x) => x._tag === 'Undecodable').map((x) => x._tag === 'Undecodable' && x.revision)).toEqual(bad)
      const first = got.find((x) => x._tag === 'Undecodable')
      expect(first).toMatchObject({ reason: expect.stringContaining('not JSON') })
    }
    await store.close()
  })
})
