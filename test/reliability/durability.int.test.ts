/**
 * Durability against an OS crash or a power loss, proved on the system calls of real captures: the
 * CLI scans a real Dovecot account under strace, and for every batch the log must show each new
 * blob's data fsynced, the blob renamed into place, its directory fsynced, and only then the batch's
 * transaction written to the SQLite WAL and the WAL fsynced (docs/reliability.md).
 */
import Database from 'better-sqlite3'
import * as fs from 'fs'
import * as path from 'path'
import { clientAs, type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { BIN } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { fillAccount, imapEnv } from './harness'
import { blobDurability, commitsOf, straceAvailable, traced } from './syscalls'

jest.setTimeout(180_000)

const BATCH = 10

/** The events of the account's stream (revision, content digest if any), read from the store file. */
const eventsOf = (dbFile: string, account: string): { revision: number; digest: string | undefined }[] => {
  if (!fs.existsSync(dbFile)) return []
  const db = new Database(dbFile, { readonly: true })
  try {
    return (db.prepare('SELECT revision, data FROM events WHERE stream = ? ORDER BY revision').all(`account-${account}`) as { revision: number; data: string }[]).map((r) => ({
      revision: r.revision,
      digest: (JSON.parse(r.data) as { content?: { digest: string } }).content?.digest,
    }))
  } finally {
    db.close()
  }
}

describeWithService(dovecotAvailable() && straceAvailable(), 'Dovecot and strace')('durable capture: the order of fsyncs in a real scan', () => {
  let d: Dovecot
  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw' })
    await fillAccount(d, 'erin', 40)
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  /**
   * Scans under strace and checks the log: the new blobs the scan's events name, and the batches
   * those events were appended in (the scan appends its events in order, `BATCH` at a time).
   */
  const scanAndCheck = (dir: string, name: string) => {
    const dbFile = path.join(dir, 'm.db')
    const blobs = path.join(dir, 'blobs')
    const before = eventsOf(dbFile, 'erin')
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', ...imapEnv(d, { MAILTIME_SCAN_BATCH_SIZE: String(BATCH) }) }
    const run = traced([process.execPath, BIN, '--store', `sqlite:${dbFile}`, 'doAccountScan', 'erin'], env, path.join(dir, `${name}.strace`))
    expect([run.status, run.stderr]).toEqual([0, ''])

    const seen = new Set(before.flatMap((e) => (e.digest === undefined ? [] : [e.digest])))
    const appended = eventsOf(dbFile, 'erin').slice(before.length)
    const first = before.length
    /** Each batch's digests that no earlier event named: their blobs were written by this scan. */
    const batches: string[][] = []
    for (const e of appended) {
      const b = Math.floor((e.revision - first) / BATCH)
      batches[b] ??= []
      if (e.digest !== undefined && !seen.has(e.digest)) {
        seen.add(e.digest)
        batches[b]?.push(e.digest)
      }
    }
    const fresh = new Set(batches.flat())
    expect(fresh.size).toBeGreaterThan(0)

    const durable = blobDurability(run.calls, blobs)
    const commits = commitsOf(run.calls, dbFile, fresh)
    const problems: string[] = []
    for (const digest of fresh) {
      const at = durable.get(digest)
      if (at === undefined) problems.push(`blob ${digest}: no rename into the blob store in the trace`)
      else if (typeof at === 'string') problems.push(`blob ${digest}: ${at}`)
    }
    commits.forEach((c, i) => {
      for (const digest of c.digests) {
        const at = durable.get(digest)
        if (typeof at === 'number' && at > c.start) problems.push(`the WAL writes from call ${c.start} (commit ${i}) name ${digest}, whose blob was durable only at call ${at}`)
        if (c.synced === undefined) problems.push(`commit ${i} names ${digest} and its WAL was never fsynced`)
      }
    })
    // Each batch is committed on its own, WAL fsync included, before the next one starts: the
    // first commit naming a batch's blobs comes after the first commit naming the previous one's.
    const firstCommit = batches.map((ds) => Math.min(...ds.map((dg) => commits.findIndex((c) => c.digests.has(dg)))))
    for (const [b, ds] of batches.entries()) for (const dg of ds) if (!commits.some((c) => c.digests.has(dg))) problems.push(`batch ${b}: ${dg} is in no WAL write of the trace`)
    const withBlobs = firstCommit.filter((c, b) => (batches[b]?.length ?? 0) > 0 && Number.isFinite(c))
    expect(problems).toEqual([])
    expect(withBlobs.length).toBeGreaterThan(1)
    expect(withBlobs).toEqual([...withBlobs].sort((a, b) => a - b))
    expect(new Set(withBlobs).size).toBe(withBlobs.length)
    return { blobs: fresh.size, batches: batches.length }
  }

  it('makes every batch durable only after the blobs it names: blob fsync, rename, directory fsync, then the WAL write and its fsync', () => {
    const dir = tmpDir()
    const first = scanAndCheck(dir, 'first')
    expect(first.blobs).toBe(40)
    expect(first.batches).toBeGreaterThan(2)
  })

  it('keeps that order in a later scan whose blobs go into directories that already exist', async () => {
    const dir = tmpDir()
    scanAndCheck(dir, 'first')
    const c = clientAs(d, 'erin')
    await c.connect()
    try {
      for (let i = 0; i < 30; i++) await c.append('INBOX', Buffer.from(`Subject: later ${i}\r\nMessage-ID: <later${i}@durable>\r\n\r\n${'y'.repeat(200 + i)}\r\n`))
    } finally {
      await c.logout()
    }
    const later = scanAndCheck(dir, 'later')
    expect(later.blobs).toBe(30)
  })
})

describeWithService(straceAvailable(), 'strace')('durable blob writes in bulk (putAll, as the demo writes)', () => {
  afterAll(cleanupTmp)

  it('fsyncs every blob before its rename, and each folder after, with blobs found stored or given twice written once', () => {
    const dir = tmpDir()
    const blobs = path.join(dir, 'blobs')
    const script = path.join(dir, 'put.js')
    const store = path.join(__dirname, '..', '..', 'dist', 'src', 'blobs', 'blobStore.js')
    fs.writeFileSync(
      script,
      `const { fsBlobStore } = require(${JSON.stringify(store)})
       const b = fsBlobStore(${JSON.stringify(blobs)})
       b.put(Buffer.from('stored before'))
       const bodies = Array.from({ length: 60 }, (_, i) => Buffer.from('body ' + i + ' ' + 'z'.repeat(i * 300)))
       b.putAll([...bodies, Buffer.from('stored before'), bodies[3]]).then((r) => {
         if (r._tag !== 'Right' || r.right.filter((x) => x.written).length !== 60) throw new Error(JSON.stringify(r))
         if (b.sync()._tag !== 'Right') throw new Error('sync failed')
       })`,
    )
    const run = traced([process.execPath, script], { PATH: process.env.PATH ?? '' }, path.join(dir, 'put.strace'))
    expect([run.status, run.stderr]).toEqual([0, ''])
    const durable = blobDurability(run.calls, blobs)
    expect(durable.size).toBe(61)
    expect([...durable.values()].filter((v) => typeof v === 'string')).toEqual([])
  })
})
