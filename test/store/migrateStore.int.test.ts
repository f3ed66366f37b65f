/**
 * `migrateStore` between SQLite and a real PostgreSQL, both ways, through the CLI: the copy
 * verifies, time travel on the copy answers as on the original, a re-run copies nothing, and a
 * target that differs is caught and named.
 */
import * as path from 'path'
import { Client } from 'pg'
import { mailtime } from '../support/cli'
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(180_000)

describeWithService(postgresAvailable(), 'PostgreSQL')('migrateStore SQLite ⇄ PostgreSQL', () => {
  let pg: Postgres
  let url: string
  const dir = tmpDir()
  const a = `sqlite:${path.join(dir, 'a.db')}`
  const b = `sqlite:${path.join(dir, 'b.db')}`
  const cli = (...args: string[]) => mailtime(args)
  const json = (...args: string[]) => {
    const r = cli('--json', ...args)
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }

  beforeAll(async () => {
    pg = await startPostgres()
    url = await pg.freshDatabase()
    json('--store', a, 'demo', 'end', '2026-10-01T00:00:00Z')
  })
  afterAll(async () => {
    await pg.stop()
    cleanupTmp()
  })

  it('copies SQLite → PostgreSQL → SQLite, verified, and the copy answers as the original', () => {
    const there = json('migrateStore', a, url)
    expect(there).toMatchObject({ verified: true, streams: 3, duplicates: 0 })
    expect(there.appended).toBe(there.events)
    const back = json('migrateStore', url, b)
    expect(back).toMatchObject({ verified: true, streams: 3, appended: there.events, indexRebuilt: true })
    for (const args of [
      ['getAccountState', 'alice@example.com', 'date', '2026-09-22T14:00:00Z'],
      ['getItem', 'alice@example.com', '265', 'date', 'all'],
      ['doItemSearch', 'bob@example.com', 'search_filter', 'all'],
    ])
      expect(json('--store', b, ...args)).toEqual(json('--store', a, ...args))
  })

  it('a re-run copies nothing; a target whose events differ is caught and named', async () => {
    const again = json('migrateStore', a, url)
    expect(again).toMatchObject({ appended: 0, verified: true })
    expect(again.duplicates).toBe(again.events)
    const c = new Client({ connectionString: url })
    await c.connect()
    await c.query(`UPDATE events SET data = replace(data, '"\\\\Seen"', '"\\\\Flagged"') WHERE stream = 'account-carol@example.com' AND data LIKE '%\\\\Seen%'`)
    await c.end()
    const r = cli('migrateStore', a, url)
    expect(r.code).toBe(8)
    expect(r.stderr).toMatch(/account-carol@example\.com: the events differ/)
  })

  it('refuses a password on the command line and reports an unreachable server', () => {
    const r = cli('migrateStore', a, 'postgres://u:secret@127.0.0.1:1/x')
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/PGPASSWORD/)
    expect(r.stderr).not.toContain('secret')
    const down = cli('migrateStore', a, 'postgres://u@127.0.0.1:1/x')
    expect(down.code).toBe(4)
  })
})
