/**
 * `--store postgres://…` as a user runs it, on a real PostgreSQL 15: the demo, then every
 * time-travel verb gives the same JSON bytes as the same demo on SQLite; restore plans, exports,
 * operations, legal holds, purges and index rebuilds work on it; and a store migrated from SQLite
 * answers the same as the SQLite original.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(300_000)

const END = '2026-03-10T00:00:00Z'
let pg: Postgres | undefined
afterAll(async () => {
  await pg?.stop()
  cleanupTmp()
})

const QUERIES: readonly string[][] = [
  ['getAvailableAccounts'],
  ['getAccountState', 'alice@example.com', 'date', '2026-02-20T12:00:00Z'],
  ['getAccountState', 'bob@example.com', 'date', '2026-03-01T00:00:00Z'],
  ['getAccountInfo', 'bob@example.com'],
  ['doItemSearch', 'alice@example.com', 'type', 'message'],
  ['diff', 'alice@example.com', '2026-02-01T00:00:00Z', '2026-03-09T00:00:00Z'],
  ['doUndelete', 'alice@example.com', 'first', 'last', 'dry_run', 'true'],
]

describeWithService(postgresAvailable(), 'PostgreSQL')('the CLI on a PostgreSQL store', () => {
  let sqlite: string[]
  let postgres: string[]
  let dir: string

  beforeAll(async () => {
    pg = await startPostgres()
    dir = tmpDir()
    sqlite = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--blobs', path.join(dir, 'blobs-sqlite'), '--tz', 'UTC']
    postgres = ['--store', await pg.freshDatabase(), '--blobs', path.join(dir, 'blobs-pg'), '--tz', 'UTC']
    for (const s of [sqlite, postgres]) {
      const r = mailtime([...s, 'demo', 'end', END])
      if (r.code !== 0) throw new Error(`demo failed: ${r.stderr}`)
    }
  })

  it('answers every time-travel query with the same JSON bytes as SQLite', () => {
    for (const q of QUERIES) {
      const a = mailtime([...sqlite, '--json', ...q])
      const b = mailtime([...postgres, '--json', ...q])
      expect({ q, code: b.code, stderr: b.stderr }).toEqual({ q, code: a.code, stderr: a.stderr })
      expect({ q, out: b.stdout }).toEqual({ q, out: a.stdout })
    }
  })

  it('gives the same answers after rebuildIndex, and a second demo appends nothing', () => {
    const q = ['--json', 'getAccountState', 'alice@example.com', 'date', '2026-02-20T12:00:00Z']
    const before = mailtime([...postgres, ...q]).stdout
    expect(mailtime([...postgres, 'rebuildIndex']).code).toBe(0)
    expect(mailtime([...postgres, ...q]).stdout).toBe(before)
    expect(mailtime([...postgres, 'demo', 'end', END]).code).toBe(0)
    expect(mailtime([...postgres, ...q]).stdout).toBe(before)
  })

  it('exports a verifiable history, and records the export, a hold and a purge as operations', () => {
    const dest = path.join(dir, 'export-pg')
    const ex = mailtime([...postgres, '--json', 'exportHistory', 'alice@example.com', 'dest', dest])
    expect(ex.code).toBe(0)
    expect(mailtime(['verifyExport', dest]).code).toBe(0)
    const other = path.join(dir, 'export-sqlite')
    expect(mailtime([...sqlite, 'exportHistory', 'alice@example.com', 'dest', other]).code).toBe(0)
    // The same events give the same chain, whatever the store.
    const head = (d: string) => (JSON.parse(fs.readFileSync(path.join(d, 'manifest.json'), 'utf8')) as { timeline: { head: string } }).timeline.head
    expect(head(dest)).toBe(head(other))
    expect(JSON.parse(ex.stdout).head).toBe(head(other))

    expect(mailtime([...postgres, 'legalHold', 'set', 'alice@example.com', 'reason', 'case 7'], { MAILTIME_INITIATOR: 'legal@example.com' }).code).toBe(0)
    const held = JSON.parse(mailtime([...postgres, '--json', 'legalHold', 'get', 'alice@example.com']).stdout)
    expect(JSON.stringify(held)).toContain('case 7')
    const purge = mailtime([...postgres, '--json', 'doPurge', 'purgeDays', '1', 'dry_run', 'true'], { MAILTIME_NOW: '2026-06-01T00:00:00Z' })
    expect(purge.code).toBe(0)
    const plan = JSON.parse(purge.stdout) as { items: { account: string }[]; held: { account: string }[] }
    expect(plan.items.length).toBeGreaterThan(0)
    expect(plan.items.filter((i) => i.account === 'alice@example.com')).toEqual([])
    expect(plan.held.map((h) => h.account)).toEqual(['alice@example.com'])
    const done = mailtime([...postgres, '--json', 'doPurge', 'purgeDays', '1'], { MAILTIME_NOW: '2026-06-01T00:00:00Z' })
    expect(done.code).toBe(0)
    expect((JSON.parse(done.stdout) as { items: unknown[] }).items).toHaveLength(plan.items.length)
    // The held account's deleted items are still there to restore.
    const und = JSON.parse(mailtime([...postgres, '--json', 'doUndelete', 'alice@example.com', 'first', 'last', 'dry_run', 'true']).stdout) as { plan: { unrestorable: unknown[] } }
    expect(und.plan.unrestorable).toEqual([])
    const ops = (JSON.parse(mailtime([...postgres, '--json', 'getAllOperations']).stdout) as { operations: { verb: string }[] }).operations
    expect(ops.map((o) => o.verb)).toEqual(expect.arrayContaining(['exportHistory', 'legalHold', 'doPurge']))
  })

  it('a store migrated from SQLite answers like the original', async () => {
    const url = await (pg as Postgres).freshDatabase()
    const m = mailtime(['migrateStore', sqlite[1] as string, url])
    expect(m.code).toBe(0)
    const migrated = ['--store', url, '--blobs', path.join(dir, 'blobs-sqlite'), '--tz', 'UTC']
    for (const q of QUERIES.slice(0, 4)) expect(mailtime([...migrated, '--json', ...q]).stdout).toBe(mailtime([...sqlite, '--json', ...q]).stdout)
  })

  it('a PostgreSQL server that is down exits 4 naming the store, without the password', () => {
    const r = mailtime(['--store', 'postgres://mailtime@127.0.0.1:1/none', 'getAvailableAccounts'], { PGPASSWORD: 'secret-pw' })
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/cannot open store postgres:/)
    expect(r.stderr).not.toContain('secret-pw')
  })
})
