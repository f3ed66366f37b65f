/**
 * `doCoherencyCheck` on SQLite stores damaged the way disks and people damage them: an account is
 * captured from a real Dovecot, then each test breaks a copy of the store directly (files, and the
 * SQLite file with better-sqlite3) and runs the check as a user runs it.
 */
import Database from 'better-sqlite3'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { type Instant, instant } from '../../domain/instant'
import { openBackend } from '../../src/wiring/backend'
import { purge } from '../../src/retention/purge'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp } from '../support/tmp'
import { type StoreDir, blobFile, brief, check, copyOf, fill, imapEnv, sqliteStore } from './support'

jest.setTimeout(180_000)

interface Captured {
  readonly revision: number
  readonly eventId: string
  readonly itemId: number
  readonly digest: string
  readonly size: number
}

let d: Dovecot | undefined
afterAll(async () => {
  if (d !== undefined) await removeDovecot(d)
  cleanupTmp()
})

const db = (s: StoreDir) => new Database(path.join(s.dir, 'm.db'))

const messagesOf = (s: StoreDir): Captured[] => {
  const h = db(s)
  try {
    return h
      .prepare<[], { revision: number; event_id: string; item_id: number; data: string }>(
        "SELECT revision, event_id, item_id, data FROM events WHERE stream = 'account-alice' AND type = 'ItemCreated' ORDER BY revision",
      )
      .all()
      .flatMap((r) => {
        const e = JSON.parse(r.data) as { content?: { digest: string; size: number } }
        return e.content === undefined ? [] : [{ revision: r.revision, eventId: r.event_id, itemId: r.item_id, digest: e.content.digest, size: e.content.size }]
      })
  } finally {
    h.close()
  }
}

const sql = (s: StoreDir, statement: string, ...params: unknown[]) => {
  const h = db(s)
  try {
    return h.prepare(statement).run(...params)
  } finally {
    h.close()
  }
}

describeWithService(dovecotAvailable(), 'Dovecot')('doCoherencyCheck on damaged SQLite stores', () => {
  let pristine: StoreDir
  let messages: Captured[]
  let events: number
  let items: number

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw' })
    await fill(d, 'alice', 15)
    pristine = sqliteStore()
    const scan = mailtime([...pristine.args, 'doAccountScan', 'alice'], imapEnv(d))
    if (scan.code !== 0) throw new Error(`scan failed: ${scan.stderr}`)
    messages = messagesOf(pristine)
    const h = db(pristine)
    events = (h.prepare("SELECT count(*) AS n FROM events WHERE stream = 'account-alice'").get() as { n: number }).n
    items = (h.prepare("SELECT count(DISTINCT item_id) AS n FROM events WHERE stream = 'account-alice' AND item_id IS NOT NULL").get() as { n: number }).n
    h.close()
    expect(messages).toHaveLength(15)
    // Both forms of blob are exercised: raw (small bodies) and gzipped (large, repetitive ones).
    expect(messages.some((m) => blobFile(path.join(pristine.dir, 'blobs'), m.digest).endsWith('.gz'))).toBe(true)
    expect(messages.some((m) => !blobFile(path.join(pristine.dir, 'blobs'), m.digest).endsWith('.gz'))).toBe(true)
  })

  const blobsOf = (s: StoreDir) => path.join(s.dir, 'blobs')
  const gz = (s: StoreDir) => messages.find((m) => blobFile(blobsOf(s), m.digest).endsWith('.gz')) as Captured
  const raw = (s: StoreDir) => messages.find((m) => !blobFile(blobsOf(s), m.digest).endsWith('.gz')) as Captured

  it('finds a store just captured coherent: every event decoded, every blob read and verified, every item compared, the checkpoints in step', () => {
    const { code, report } = check(copyOf(pristine), ['read_data', 'true', 'full', 'true'])
    expect(report.problems).toEqual([])
    expect(code).toBe(0)
    expect(report.coherent).toBe(true)
    expect(report.accounts).toEqual([
      { account: 'alice', events, undecodable: 0, lastRevision: events - 1, blobReferences: 15, blobsRead: 15, itemsCompared: items, scanCheckpoint: 'checked' },
    ])
    expect(report.index.position).toBe(report.index.lastPosition)
    expect(report.operations).toEqual({ checked: 1, closed: 1, running: 0, open: [] })
  })

  it('reports a deleted blob as missing, naming the account, item, event and blob, with exit 8', () => {
    const s = copyOf(pristine)
    const m = messages[4] as Captured
    fs.unlinkSync(blobFile(blobsOf(s), m.digest))
    for (const words of [[], ['read_data', 'true']]) {
      const { code, report } = check(s, words)
      expect(code).toBe(8)
      expect(report.coherent).toBe(false)
      expect(brief(report.problems)).toEqual([{ kind: 'blob-missing', account: 'alice', itemId: m.itemId, revision: m.revision, digest: m.digest, repaired: null }])
      expect(report.problems[0]?.eventId).toBe(m.eventId)
    }
  })

  it('finds a truncated blob only when read_data reads it (the default checks that blobs exist)', () => {
    const s = copyOf(pristine)
    const m = gz(s)
    const file = blobFile(blobsOf(s), m.digest)
    fs.truncateSync(file, Math.floor(fs.statSync(file).size / 2))
    expect(check(s).code).toBe(0)
    const { code, report } = check(s, ['read_data', 'true'])
    expect(code).toBe(8)
    expect(brief(report.problems)).toEqual([{ kind: 'blob-corrupt', account: 'alice', itemId: m.itemId, revision: m.revision, digest: m.digest, repaired: null }])
    expect(report.problems[0]?.detail).toContain(file)
  })

  it('finds a flipped byte in a raw blob and in a gzipped one', () => {
    const s = copyOf(pristine)
    const damaged = [raw(s), gz(s)]
    for (const m of damaged) {
      const file = blobFile(blobsOf(s), m.digest)
      const bytes = fs.readFileSync(file)
      const at = Math.floor(bytes.length / 2)
      bytes[at] = (bytes[at] as number) ^ 0x01
      fs.writeFileSync(file, bytes)
    }
    const { code, report } = check(s, ['read_data', 'true'])
    expect(code).toBe(8)
    expect(brief(report.problems)).toEqual(
      damaged
        .map((m) => ({ kind: 'blob-corrupt', account: 'alice', itemId: m.itemId, revision: m.revision, digest: m.digest, repaired: null }))
        .sort((a, b) => a.itemId - b.itemId),
    )
  })

  it('finds an index row removed by comparing the item with a replay of its events', () => {
    const s = copyOf(pristine)
    const m = messages[7] as Captured
    expect(sql(s, "DELETE FROM item_versions WHERE account = 'alice' AND item_id = ?", m.itemId).changes).toBe(1)
    const { code, report } = check(s, ['full', 'true'])
    expect(code).toBe(8)
    expect(brief(report.problems)).toEqual([{ kind: 'index-disagrees', account: 'alice', itemId: m.itemId, revision: null, digest: null, repaired: null }])
    expect(report.problems[0]?.detail).toMatch(/^the index lacks the version from .* \(ItemCreated, event [0-9a-f]{32}, live\)$/)
  })

  it('reports a scan checkpoint moved ahead of the events: ids never used, a folder never recorded', () => {
    const s = copyOf(pristine)
    sql(s, "UPDATE checkpoints SET value = json_set(value, '$.nextItemId', json_extract(value, '$.nextItemId') + 50) WHERE name = 'imap-scan:alice'")
    const { code, report } = check(s)
    expect(code).toBe(8)
    expect(report.problems.map((p) => [p.kind, p.account, p.checkpoint])).toEqual([['scan-checkpoint-ahead', 'alice', 'imap-scan:alice']])
    expect(report.problems[0]?.detail).toMatch(/hands out item ids from \d+, but the highest id the stream or the folder mapping uses is \d+/)

    const t = copyOf(pristine)
    sql(t, "UPDATE checkpoints SET value = json_set(value, '$.folders.\"Work.Old\".folderId', 900) WHERE name = 'imap-scan:alice'")
    sql(t, "UPDATE checkpoints SET value = json_set(value, '$.nextItemId', 901) WHERE name = 'imap-scan:alice'")
    const other = check(t)
    expect(other.code).toBe(8)
    expect(other.report.problems[0]?.detail).toContain('it marks folder "Work.Old" (item 900) as read, but the stream never recorded that folder')
  })

  it('reports the index position moved ahead of the events', () => {
    const s = copyOf(pristine)
    sql(s, "UPDATE checkpoints SET value = value + 100 WHERE name = 'index:global_position'")
    const { code, report } = check(s)
    expect(code).toBe(8)
    expect(report.problems.map((p) => [p.kind, p.checkpoint])).toEqual([['index-position-ahead', 'index:global_position']])
    expect(report.index.position).toBe((report.index.lastPosition ?? 0) + 100)
  })

  it('names an event row that does not decode by its revision, and goes on checking the events after it', () => {
    const s = copyOf(pristine)
    const bad = messages[2] as Captured
    const later = messages[12] as Captured
    sql(s, "UPDATE events SET data = json_set(data, '$.occurredAt', 'yesterday') WHERE stream = 'account-alice' AND revision = ?", bad.revision)
    fs.unlinkSync(blobFile(blobsOf(s), later.digest))
    const { code, report } = check(s)
    expect(code).toBe(8)
    expect(brief(report.problems)).toEqual([
      { kind: 'blob-missing', account: 'alice', itemId: later.itemId, revision: later.revision, digest: later.digest, repaired: null },
      { kind: 'event-undecodable', account: 'alice', itemId: null, revision: bad.revision, digest: null, repaired: null },
    ])
    expect(report.problems[1]?.detail).toContain('yesterday')
    expect(report.accounts[0]).toMatchObject({ events: events - 1, undecodable: 1, blobReferences: 14 })
    expect(report.notes).toEqual(['alice: the index was not compared with a replay, since events of the stream are missing or do not decode'])
  })

  it('names a revision hole, and revisions missing at the end of a stream', () => {
    const s = copyOf(pristine)
    sql(s, "DELETE FROM events WHERE stream = 'account-alice' AND revision = 5")
    const hole = check(s)
    expect(hole.code).toBe(8)
    expect(hole.report.problems.map((p) => [p.kind, p.account, p.revision, p.detail])).toEqual([['revision-hole', 'alice', 5, 'revision 5 is missing (the stream goes on at 6)']])

    const t = copyOf(pristine)
    sql(t, "DELETE FROM events WHERE stream = 'account-alice' AND revision >= ?", events - 2)
    const tail = check(t)
    expect(tail.code).toBe(8)
    // The lost events had been indexed and counted by the scan: both checkpoints are now ahead, truly
    // (SQLite hands the next event the lost events' positions, which the index would skip).
    expect(tail.report.problems.map((p) => [p.kind, p.revision, p.detail])).toEqual([
      ['index-position-ahead', null, expect.stringContaining(`the last event is at ${(tail.report.index.position ?? 0) - 2}`)],
      ['revision-hole', events - 2, `revisions ${events - 2}–${events - 1} are missing (the stream's head says it ends at ${events - 1})`],
      ['scan-checkpoint-ahead', null, expect.stringContaining('it hands out item ids from')],
    ])
  })

  it('lists an interrupted restore as resumable and reports an operation record that does not decode', () => {
    const s = copyOf(pristine)
    const started = {
      type: 'OperationStarted',
      operationId: 'op-20260301T000000-aaaaaa',
      at: Date.parse('2026-03-01T00:00:00Z'),
      kind: 'restore',
      verb: 'doUndelete',
      params: { account: 'alice', start: 'first', end: 'last' },
      initiator: 'root',
      host: os.hostname(),
      pid: 2 ** 22 + 1,
      resumeKey: 'k1',
    }
    sql(s, 'INSERT INTO operations (operation_id, seq, resume_key, type, data) VALUES (?, 0, ?, ?, ?)', started.operationId, 'k1', 'OperationStarted', JSON.stringify(started))
    sql(s, "INSERT INTO operations (operation_id, seq, resume_key, type, data) VALUES ('op-20260302T000000-bbbbbb', 0, NULL, 'OperationStarted', '{\"type\":')")
    const { code, report } = check(s)
    expect(report.operations?.open).toEqual([
      {
        operationId: 'op-20260301T000000-aaaaaa',
        kind: 'restore',
        verb: 'doUndelete',
        startedAt: '2026-03-01T00:00:00.000Z',
        resume: 'run the same doUndelete command again (account alice, start first, end last)',
      },
    ])
    expect(report.problems.map((p) => [p.kind, p.operationId, p.revision])).toEqual([['operation-undecodable', 'op-20260302T000000-bbbbbb', 0]])
    expect(code).toBe(8)
  })

  it('finds no problem in a blob that the purge removed with its purged item', async () => {
    const s = copyOf(pristine)
    const gone = messages[0] as Captured
    const c = clientAs(d as Dovecot, 'alice')
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    await c.messageDelete({ header: { 'message-id': '<m0@coherency>' } })
    lock.release()
    await c.logout()
    expect(mailtime([...s.args, 'doAccountScan', 'alice'], imapEnv(d as Dovecot)).code).toBe(0)
    const b = openBackend(`sqlite:${path.join(s.dir, 'm.db')}`, blobsOf(s))
    if (E.isLeft(b)) throw new Error('cannot open the store')
    const r = await purge(b.right, {
      policy: { dataDays: 1, accountDays: 30 },
      now: instant(Date.now() + 5 * 86_400_000) as Instant,
      dryRun: false,
      by: 'test',
      operationId: 'op-test-purge',
      graceMs: 0,
    })
    await b.right.close()
    expect(r.plan.purge.map((p) => p.itemId)).toEqual([gone.itemId])
    expect(fs.existsSync(blobFile(blobsOf(s), gone.digest))).toBe(false)
    const { code, report } = check(s, ['read_data', 'true', 'full', 'true'])
    expect(report.problems).toEqual([])
    expect(code).toBe(0)
  })

  it('prints each problem on a line for people, says the store is not coherent, and exits 8', () => {
    const s = copyOf(pristine)
    const m = messages[9] as Captured
    fs.unlinkSync(blobFile(blobsOf(s), m.digest))
    const r = mailtime([...s.args, 'doCoherencyCheck', 'alice'])
    expect(r.code).toBe(8)
    expect(r.stdout).toContain(`blob-missing  alice item ${m.itemId} revision ${m.revision} event ${m.eventId}: blob ${m.digest} is not in the blob store (${blobsOf(s)})`)
    expect(r.stdout).toContain('note: operations were not checked (they belong to the whole store: check all)')
    expect(r.stdout.trim().split('\n').at(-1)).toBe('NOT coherent: 1 problem(s) found (repair true mends missing or damaged blobs, the index and scan checkpoints)')
  })

  it('refuses an unknown account (exit 3) and a bad attribute value (exit 2), naming them', () => {
    const s = copyOf(pristine)
    const unknown = mailtime([...s.args, 'doCoherencyCheck', 'nobody'])
    expect(unknown.code).toBe(3)
    expect(unknown.stderr).toContain('unknown account "nobody"')
    const bad = mailtime([...s.args, 'doCoherencyCheck', 'read_data', 'maybe'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('read_data must be true or false, got "maybe"')
  })
})

describe('doCoherencyCheck on the demo', () => {
  it("finds the demo's varied history coherent, comparing a sample of 100 items per account with a replay", () => {
    const s = sqliteStore()
    expect(mailtime([...s.args, 'demo', 'end', '2026-03-10T00:00:00Z']).code).toBe(0)
    const { code, report } = check(s, ['read_data', 'true'])
    expect(report.problems).toEqual([])
    expect(code).toBe(0)
    expect(report.accounts.map((a) => [a.account, a.itemsCompared, a.blobReferences === a.blobsRead])).toEqual([
      ['alice@example.com', 100, true],
      ['bob@example.com', 100, true],
      ['carol@example.com', 100, true],
    ])
  })
})
