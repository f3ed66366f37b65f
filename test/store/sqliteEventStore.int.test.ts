import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { eventStoreContract } from '../contract/eventStoreContract'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { ev } from '../support/build'
import { fail, ok } from '../support/run'

afterAll(cleanupTmp)

const open = (file: string) => {
  const h = openSqliteDatabase(file)
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left))
  return h.right
}

eventStoreContract('sqlite (file on disk)', async () => {
  const h = open(path.join(tmpDir(), 'store.db'))
  const store = sqliteEventStore(h)
  return { store, dispose: () => store.close(), keepsText: true }
})

describe('sqlite event store specifics', () => {
  it('reports a file that is not a database as unavailable, naming the file', () => {
    const file = path.join(tmpDir(), 'garbage.db')
    fs.writeFileSync(file, 'this is not a sqlite database, just text '.repeat(200))
    const r = openSqliteDatabase(file)
    expect(E.isLeft(r) && r.left).toMatchObject({ _tag: 'StoreUnavailable', store: `sqlite:${file}` })
  })

  it('reports a stored event that no longer decodes with its stream and revision', async () => {
    const h = open(path.join(tmpDir(), 'store.db'))
    const store = sqliteEventStore(h)
    await ok(store.appendToStream('account-a', [ev('AccountCreated', 'a', 1, { name: 'a' })]))
    h.db.prepare("UPDATE events SET data = json_set(data, '$.occurredAt', 'yesterday')").run()
    const err = await fail(store.readStream('account-a'))
    expect(err).toMatchObject({ _tag: 'CorruptEvent', stream: 'account-a', revision: 0 })
    expect((err as { reason: string }).reason).toContain('yesterday')
    await store.close()
  })

  it('keeps its events across close and reopen (WAL file on disk)', async () => {
    const file = path.join(tmpDir(), 'store.db')
    const s1 = sqliteEventStore(open(file))
    await ok(s1.appendToStream('account-a', [ev('AccountCreated', 'a', 1, { name: 'a' })]))
    await s1.close()
    const s2 = sqliteEventStore(open(file))
    expect((await ok(s2.readStream('account-a'))).map((s) => s.event.type)).toEqual(['AccountCreated'])
    expect(open(file).db.pragma('journal_mode', { simple: true })).toBe('wal')
    await s2.close()
  })
})
