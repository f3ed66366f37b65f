/**
 * `doCoherencyCheck` on a PostgreSQL store (`--store postgres://…`), against the real PostgreSQL 15
 * and Dovecot the harness starts: an account captured into it checks coherent; an index row
 * removed, the index position moved ahead and a damaged blob are found and repaired; an event that
 * does not decode and a revision hole are found, and the index is then left as it is.
 */
import * as fs from 'fs'
import * as path from 'path'
import { Client } from 'pg'
import { mailtime } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { type Postgres, postgresAvailable, startPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { type StoreDir, blobFile, brief, check, fill, imapEnv } from './support'

jest.setTimeout(240_000)

let pg: Postgres | undefined
let d: Dovecot | undefined
afterAll(async () => {
  await pg?.stop()
  if (d !== undefined) await removeDovecot(d)
  cleanupTmp()
})

describeWithService(postgresAvailable() && dovecotAvailable(), 'PostgreSQL and Dovecot')('doCoherencyCheck on a PostgreSQL store', () => {
  let s: StoreDir
  let url: string
  const query = async <R extends object>(text: string, params: unknown[] = []): Promise<R[]> => {
    const c = new Client({ connectionString: url })
    await c.connect()
    try {
      return (await c.query<R>(text, params)).rows
    } finally {
      await c.end()
    }
  }

  beforeAll(async () => {
    pg = await startPostgres()
    d = await startDovecot({ carol: 'carolpw' })
    await fill(d, 'carol', 9)
    url = await pg.freshDatabase()
    const dir = tmpDir()
    s = { dir, args: ['--store', url, '--blobs', path.join(dir, 'blobs'), '--tz', 'UTC'] }
    const scan = mailtime([...s.args, 'doAccountScan', 'carol'], imapEnv(d))
    if (scan.code !== 0) throw new Error(`scan failed: ${scan.stderr}`)
  })

  it('finds an account captured into PostgreSQL coherent, every blob read and every item compared', () => {
    const { code, report } = check(s, ['read_data', 'true', 'full', 'true'])
    expect(report.problems).toEqual([])
    expect(code).toBe(0)
    expect(report.accounts[0]).toMatchObject({ account: 'carol', undecodable: 0, blobReferences: 9, blobsRead: 9, scanCheckpoint: 'checked' })
    expect(report.accounts[0]?.itemsCompared).toBeGreaterThan(9)
  })

  it('finds an index row removed, the index position ahead and a damaged blob, and repairs all three', async () => {
    const [row] = await query<{ item_id: number; data: string }>(
      "SELECT item_id, data FROM events WHERE stream = 'account-carol' AND type = 'ItemCreated' AND data LIKE '%\"digest\"%' ORDER BY revision LIMIT 1",
    )
    if (row === undefined) throw new Error('no message event')
    const digest = (JSON.parse(row.data) as { content: { digest: string } }).content.digest
    await query("DELETE FROM item_versions WHERE account = 'carol' AND item_id = $1", [row.item_id])
    await query("UPDATE checkpoints SET value = (value::bigint + 100)::text WHERE name = 'index:global_position'")
    const file = blobFile(path.join(s.dir, 'blobs'), digest)
    const original = fs.readFileSync(file)
    const bytes = Buffer.from(original)
    bytes[30] = (bytes[30] as number) ^ 0x04
    fs.writeFileSync(file, bytes)

    const found = check(s, ['read_data', 'true', 'full', 'true'])
    expect(found.code).toBe(8)
    expect(brief(found.report.problems).map((p) => [p.kind, p.itemId, p.digest])).toEqual([
      ['index-position-ahead', null, null],
      ['blob-corrupt', row.item_id, digest],
      ['index-disagrees', row.item_id, null],
    ])

    const repaired = check(s, ['read_data', 'true', 'full', 'true', 'repair', 'true'], imapEnv(d as Dovecot))
    expect(repaired.report.problems.map((p) => [p.kind, p.repair?.repaired])).toEqual([
      ['index-position-ahead', true],
      ['blob-corrupt', true],
      ['index-disagrees', true],
    ])
    expect(repaired.code).toBe(0)
    expect(fs.readFileSync(file).equals(original)).toBe(true)
    // The repair is an operation of its own, in the audit trail.
    const ops = JSON.parse(mailtime([...s.args, '--json', 'getAllOperations']).stdout) as { operations: { verb: string; state: string }[] }
    expect(ops.operations.filter((o) => o.verb === 'doCoherencyCheck').map((o) => o.state)).toEqual(['done'])
    expect(check(s, ['read_data', 'true', 'full', 'true']).code).toBe(0)
  })

  it('finds an event that does not decode and a revision hole, and leaves the index as it is', async () => {
    await query('UPDATE events SET data = \'{"type":"ItemCreated"}\' WHERE stream = \'account-carol\' AND revision = 3')
    await query("DELETE FROM events WHERE stream = 'account-carol' AND revision = 6")
    const { code, report } = check(s, ['repair', 'true'], imapEnv(d as Dovecot))
    expect(report.problems.map((p) => [p.kind, p.account, p.revision, p.repair?.repaired])).toEqual([
      ['event-undecodable', 'carol', 3, false],
      ['revision-hole', 'carol', 6, false],
      // The events lost with them leave the scan checkpoint claiming messages the stream does not
      // hold: it is reset, so that the next scan records them again.
      ['scan-checkpoint-ahead', 'carol', null, true],
    ])
    expect(report.repairs?.indexRebuilt).toBeNull()
    expect(report.accounts[0]).toMatchObject({ undecodable: 1, itemsCompared: 0 })
    expect(code).toBe(8)
  })
})
