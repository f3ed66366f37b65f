/**
 * `doCoherencyCheck … repair true` against a real Dovecot: an account is captured, a copy of the
 * store is damaged, and the repair fetches what it can back from the server (verified by digest),
 * says what it cannot, and resets scan checkpoints so that the next scan records what was skipped.
 * The server is changed by a plain IMAP client, never by our code.
 */
import Database from 'better-sqlite3'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { fsBlobStore } from '../../src/blobs/blobStore'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp } from '../support/tmp'
import { type StoreDir, blobFile, brief, check, copyOf, fill, imapEnv, message, sqliteStore } from './support'

jest.setTimeout(180_000)

let d: Dovecot | undefined
afterAll(async () => {
  if (d !== undefined) await removeDovecot(d)
  cleanupTmp()
})

interface Captured {
  readonly revision: number
  readonly itemId: number
  readonly digest: string
  readonly messageId: string
}

const db = (s: StoreDir) => new Database(path.join(s.dir, 'm.db'))
const blobsOf = (s: StoreDir) => path.join(s.dir, 'blobs')

/** The message items of bob, by the number in their Message-ID (`<m7@coherency>` is 7). */
const capturedOf = (s: StoreDir): Map<number, Captured> => {
  const h = db(s)
  try {
    const rows = h
      .prepare<[], { revision: number; item_id: number; data: string }>("SELECT revision, item_id, data FROM events WHERE stream = 'account-bob' AND type = 'ItemCreated'")
      .all()
    const out = new Map<number, Captured>()
    for (const r of rows) {
      const e = JSON.parse(r.data) as { content?: { digest: string }; headers?: { messageId?: string } }
      const id = e.headers?.messageId
      if (e.content === undefined || id === undefined) continue
      out.set(Number(/<m(\d+)@/.exec(id)?.[1]), { revision: r.revision, itemId: r.item_id, digest: e.content.digest, messageId: id })
    }
    return out
  } finally {
    h.close()
  }
}

/** Runs a plain IMAP session as bob. */
const asBob = async <A>(f: (c: ReturnType<typeof clientAs>) => Promise<A>): Promise<A> => {
  const c = clientAs(d as Dovecot, 'bob')
  await c.connect()
  try {
    return await f(c)
  } finally {
    await c.logout()
  }
}

const scan = (s: StoreDir): { eventsAppended: number } => {
  const r = mailtime([...s.args, '--json', 'doAccountScan', 'bob'], imapEnv(d as Dovecot))
  if (r.code !== 0) throw new Error(`scan exited ${r.code}: ${r.stderr}`)
  return JSON.parse(r.stdout) as { eventsAppended: number }
}

const eventIds = (s: StoreDir): string[] => {
  const h = db(s)
  try {
    return h
      .prepare<[], { event_id: string }>("SELECT event_id FROM events WHERE stream = 'account-bob' ORDER BY event_id")
      .all()
      .map((r) => r.event_id)
  } finally {
    h.close()
  }
}

describeWithService(dovecotAvailable(), 'Dovecot')('doCoherencyCheck repair true against a real Dovecot', () => {
  let pristine: StoreDir
  let captured: Map<number, Captured>
  const get = (n: number) => captured.get(n) as Captured

  beforeAll(async () => {
    d = await startDovecot({ bob: 'bobpw' })
    await fill(d, 'bob', 12)
    pristine = sqliteStore()
    scan(pristine)
    captured = capturedOf(pristine)
    expect(captured.size).toBe(12)
  })

  it('fetches a deleted blob and a damaged one back from the server, byte-identical, verified by digest', () => {
    const s = copyOf(pristine)
    // Message 3 is large (stored gzipped), message 4 small (stored raw).
    const gone = get(3)
    const flipped = get(4)
    const originals = [gone, flipped].map((m) => fs.readFileSync(blobFile(blobsOf(s), m.digest)))
    fs.unlinkSync(blobFile(blobsOf(s), gone.digest))
    const file = blobFile(blobsOf(s), flipped.digest)
    const bytes = fs.readFileSync(file)
    bytes[40] = (bytes[40] as number) ^ 0x20
    fs.writeFileSync(file, bytes)

    const { code, report } = check(s, ['read_data', 'true', 'repair', 'true'], imapEnv(d as Dovecot))
    expect(brief(report.problems)).toEqual([
      { kind: 'blob-corrupt', account: 'bob', itemId: flipped.itemId, revision: flipped.revision, digest: flipped.digest, repaired: true },
      { kind: 'blob-missing', account: 'bob', itemId: gone.itemId, revision: gone.revision, digest: gone.digest, repaired: true },
    ])
    expect(report.problems[1]?.repair?.how).toBe(`fetched again from bob "INBOX" UID 2 on imap://127.0.0.1:${(d as Dovecot).port} as admin, digest verified`)
    expect(report.repairs).toMatchObject({ blobsRestored: 2, checkpointsReset: 0, indexRebuilt: { items: expect.any(Number) } })
    expect(code).toBe(0)
    // The same bytes as the server's message, in the same file as the capture wrote.
    expect([gone, flipped].map((m) => fs.readFileSync(blobFile(blobsOf(s), m.digest)))).toEqual(originals)
    const blobs = fsBlobStore(blobsOf(s))
    expect([gone, flipped].map((m) => E.isRight(blobs.get(m.digest)) && blobs.get(m.digest))).toEqual([E.right(message(3)), E.right(message(4))])
    expect(check(s, ['read_data', 'true']).code).toBe(0)
  })

  it('fetches a blob from where its message was moved since (the latest location the events recorded)', async () => {
    const s = copyOf(pristine)
    const moved = get(5)
    await asBob(async (c) => {
      const lock = await c.getMailboxLock('Work.Old')
      try {
        expect(await c.messageMove({ header: { 'message-id': moved.messageId } }, 'INBOX')).toBeTruthy()
      } finally {
        lock.release()
      }
    })
    scan(s)
    fs.unlinkSync(blobFile(blobsOf(s), moved.digest))
    const { code, report } = check(s, ['repair', 'true'], imapEnv(d as Dovecot))
    expect(report.problems.map((p) => [p.kind, p.itemId, p.repair?.repaired])).toEqual([['blob-missing', moved.itemId, true]])
    expect(report.problems[0]?.repair?.how).toContain('fetched again from bob "INBOX" UID')
    expect(code).toBe(0)
    expect(fs.readFileSync(blobFile(blobsOf(s), moved.digest)).equals(message(5))).toBe(true)
  })

  it('reports a message expunged on the server since as not repairable, repairs the rest, and exits 8', async () => {
    const s = copyOf(pristine)
    const expunged = get(7)
    const kept = get(8)
    await asBob(async (c) => {
      const lock = await c.getMailboxLock('Work')
      try {
        await c.messageDelete({ header: { 'message-id': expunged.messageId } })
      } finally {
        lock.release()
      }
    })
    for (const m of [expunged, kept]) fs.unlinkSync(blobFile(blobsOf(s), m.digest))
    const { code, report } = check(s, ['repair', 'true'], imapEnv(d as Dovecot))
    expect(brief(report.problems)).toEqual([
      { kind: 'blob-missing', account: 'bob', itemId: expunged.itemId, revision: expunged.revision, digest: expunged.digest, repaired: false },
      { kind: 'blob-missing', account: 'bob', itemId: kept.itemId, revision: kept.revision, digest: kept.digest, repaired: true },
    ])
    expect(report.problems[0]?.repair?.how).toMatch(/^not on the server any more: bob "Work" UID \d+: no message with UID \d+ in "Work" any more \(expunged\)$/)
    expect(report.coherent).toBe(false)
    expect(code).toBe(8)
    expect(fs.existsSync(blobFile(blobsOf(s), kept.digest))).toBe(true)
    // Without a server to ask, nothing is fetched and the report says why.
    const offline = check(s, ['repair', 'true'])
    expect(offline.report.problems[0]?.repair?.how).toContain('no mail server to fetch it from: no IMAP server configured')
    expect(offline.code).toBe(8)
  })

  it('resets a scan checkpoint found ahead of the events, so that the next scan records the messages it would have skipped', async () => {
    // New mail the backup never recorded, and a checkpoint that claims otherwise (what a scan that
    // wrote its final checkpoint before its last batch leaves behind).
    await asBob(async (c) => {
      for (const i of [100, 101, 102]) await c.append('Work', message(i), [], new Date(Date.UTC(2026, 1, 2, 0, i)))
    })
    const status = await asBob((c) => c.status('Work', { uidNext: true, messages: true, highestModseq: true }))
    if (status === false) throw new Error('no STATUS for Work')
    const ahead = (s: StoreDir) => {
      const h = db(s)
      try {
        const cp = JSON.parse((h.prepare("SELECT value FROM checkpoints WHERE name = 'imap-scan:bob'").get() as { value: string }).value) as {
          nextItemId: number
          folders: Record<string, Record<string, unknown>>
        }
        cp.folders.Work = { ...cp.folders.Work, uidNext: status.uidNext, messages: status.messages, highestModseq: String(status.highestModseq) }
        cp.nextItemId += 3
        h.prepare("UPDATE checkpoints SET value = ? WHERE name = 'imap-scan:bob'").run(JSON.stringify(cp))
      } finally {
        h.close()
      }
    }
    // The harm: a scan trusts the checkpoint and skips the folder.
    const harmed = copyOf(pristine)
    ahead(harmed)
    const skipped = mailtime([...harmed.args, '--json', 'doAccountScan', 'bob'], imapEnv(d as Dovecot))
    expect((JSON.parse(skipped.stdout) as { folders: { path: string; created: number; status: string }[] }).folders.find((f) => f.path === '/Work')).toMatchObject({
      created: 0,
      status: 'unchanged',
    })

    const s = copyOf(pristine)
    ahead(s)
    const found = check(s, ['repair', 'true'], imapEnv(d as Dovecot))
    expect(found.report.problems.map((p) => [p.kind, p.checkpoint, p.repair?.repaired])).toEqual([['scan-checkpoint-ahead', 'imap-scan:bob', true]])
    expect(found.report.repairs?.checkpointsReset).toBe(1)
    expect(found.code).toBe(0)
    const again = mailtime([...s.args, '--json', 'doAccountScan', 'bob'], imapEnv(d as Dovecot))
    expect((JSON.parse(again.stdout) as { folders: { path: string; created: number }[] }).folders.find((f) => f.path === '/Work')?.created).toBe(3)
    expect(check(s, ['read_data', 'true', 'full', 'true']).code).toBe(0)
  })

  it('makes an undecodable scan checkpoint again from the stream: the next scan records what a scan of the undamaged store records, nothing twice', () => {
    const control = copyOf(pristine)
    const s = copyOf(pristine)
    const h = db(s)
    h.prepare("UPDATE checkpoints SET value = '{\"version\":1,' WHERE name = 'imap-scan:bob'").run()
    h.close()
    expect(mailtime([...s.args, 'doAccountScan', 'bob'], imapEnv(d as Dovecot)).code).toBe(4)
    const { code, report } = check(s, ['repair', 'true'], imapEnv(d as Dovecot))
    expect(report.problems.map((p) => [p.kind, p.checkpoint, p.repair?.repaired])).toEqual([['scan-checkpoint-undecodable', 'imap-scan:bob', true]])
    expect(report.problems[0]?.repair?.how).toContain("checkpoint made again from the stream's 2 folders")
    expect(code).toBe(0)
    // The server changed since the capture (mail moved, expunged and added above): both scans record the same.
    scan(control)
    scan(s)
    expect(eventIds(s)).toEqual(eventIds(control))
    expect(check(s, ['read_data', 'true', 'full', 'true']).code).toBe(0)
  })
})
