/**
 * Retention, purge and legal hold, through the CLI on a demo store and directly on a store with
 * shared content: what goes and what stays at different clock settings, holds, shared blobs, the
 * operations stream, and restores of purged items reported as unrestorable with the reason.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { openBackend } from '../../src/wiring/backend'
import { purge } from '../../src/retention/purge'
import { streamOfAccount } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { mailtime } from '../support/cli'
import { storedBlobFile } from '../../src/blobs/blobStore'
import { ev } from '../support/build'
import { ok } from '../support/run'
import { cleanupTmp, tmpDir } from '../support/tmp'

const DAY = 86_400_000
afterAll(cleanupTmp)

interface Found {
  itemId: number
  status: string
  deletedAt: string | null
  digest: string
}

describe('doPurge and legalHold on the demo store', () => {
  const dir = tmpDir()
  const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const env = { MAILTIME_INITIATOR: 'dpo@example.com' }
  const run = (...args: string[]) => mailtime([...store, ...args], env)
  const json = (...args: string[]) => {
    const r = run('--json', ...args)
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  const deleted = (account: string): Found[] => json('doItemSearch', account, 'search_filter', 'deleted', 'type', 'all').items
  const end = Date.now() - 40 * DAY
  let days = 0

  let massDeletionAt = 0
  beforeAll(() => {
    massDeletionAt = Date.parse(json('demo', 'end', new Date(end).toISOString()).accounts[0].massDeletionAt)
  })

  it('a dry run lists exactly the items deleted longer ago than retention, with sizes, and changes nothing', () => {
    expect(json('doPurge', 'purgeDays', '0', 'dry_run', 'true').items).toEqual([])
    const all = ['alice@example.com', 'bob@example.com', 'carol@example.com'].flatMap((a) => deleted(a).map((i) => ({ ...i, account: a })))
    // A retention that keeps alice's mass deletion and lets older deletions go.
    days = Math.floor((Date.now() - massDeletionAt) / DAY) + 1
    const cutoff = Date.now() - days * DAY
    const expected = all
      .filter((i) => Date.parse(i.deletedAt as string) <= cutoff)
      .map((i) => `${i.account}#${i.itemId}`)
      .sort()
    expect(expected.length).toBeGreaterThan(10)
    expect(expected.length).toBeLessThan(all.length)
    const dry = json('doPurge', 'purgeDays', String(days), 'dry_run', 'true')
    expect(dry.items.map((i: { account: string; itemId: number }) => `${i.account}#${i.itemId}`).sort()).toEqual(expected)
    expect(
      dry.items.every(
        (i: { itemType: string; size: number; reason: string }) =>
          (i.itemType === 'folder' || i.size > 0) && new RegExp(`data retention \\(${days} days\\): deleted on`).test(i.reason),
      ),
    ).toBe(true)
    expect(dry.itemBytes).toBe(dry.items.reduce((n: number, i: { size: number }) => n + i.size, 0))
    expect(deleted('alice@example.com').every((i) => i.status === 'deleted')).toBe(true)
    // Purging with a clock in the future is refused; previewing it is allowed.
    expect(mailtime([...store, 'doPurge'], { MAILTIME_NOW: new Date(Date.now() + 400 * DAY).toISOString() }).code).toBe(2)
    expect(mailtime([...store, '--json', 'doPurge', 'dry_run', 'true'], { MAILTIME_NOW: new Date(Date.now() + 400 * DAY).toISOString() }).code).toBe(0)
  })

  it('a held account is untouched; the others lose what retention allows, and a restore reports those items as purged', () => {
    const bobBefore = deleted('bob@example.com')
    const held = json('legalHold', 'set', 'bob@example.com', 'reason', 'case 2026-117')
    expect(held.accounts).toMatchObject([{ account: 'bob@example.com', hold: 'set', by: 'dpo@example.com', reason: 'case 2026-117', changed: true }])
    // The hold was set after bob's deletions: they are protected all the same.
    const r = json('doPurge', 'purgeDays', String(days))
    expect(r.held).toEqual([{ account: 'bob@example.com', wouldPurge: expect.any(Number) }])
    expect(r.items.some((i: { account: string }) => i.account === 'bob@example.com')).toBe(false)
    expect(deleted('bob@example.com')).toEqual(bobBefore)
    const purgedIds = new Set(r.items.filter((i: { account: string }) => i.account === 'alice@example.com').map((i: { itemId: number }) => i.itemId))
    const alice = json('doItemSearch', 'alice@example.com', 'search_filter', 'all').items as Found[]
    const nowPurged = alice.filter((i) => i.status === 'purged').map((i) => i.itemId)
    expect(new Set(nowPurged)).toEqual(purgedIds)
    const one = json('getItem', 'alice@example.com', String([...purgedIds][0]))
    expect(one.version.state).toMatchObject({ status: 'purged', purgeReason: expect.stringMatching(/data retention/) })
    // A restore of the window reports them unrestorable, with the reason.
    const und = json('doUndelete', 'alice@example.com', 'first', 'last', 'dry_run', 'true')
    const reasons = new Map(und.plan.unrestorable.map((u: { itemId: number; reason: string }) => [u.itemId, u.reason]))
    for (const id of purgedIds) expect(reasons.get(id)).toMatch(/^purged by retention \(data retention/)
    expect(und.plan.items.some((i: { itemId: number }) => purgedIds.has(i.itemId))).toBe(false)
    // Running it again purges nothing more.
    expect(json('doPurge', 'purgeDays', String(days)).items).toEqual([])
  })

  it('releasing the hold lets the next purge take bob’s items; every step is in the operations stream', () => {
    expect(json('legalHold', 'get', 'bob@example.com').accounts[0].hold).toBe('set')
    json('legalHold', 'unset', 'bob@example.com')
    expect(json('legalHold', 'get', 'all').accounts.map((a: { hold: string }) => a.hold)).toEqual(['unset', 'unset', 'unset'])
    const r = json('doPurge', 'purgeDays', String(days))
    expect(r.items.length).toBeGreaterThan(0)
    expect(r.items.every((i: { account: string }) => i.account === 'bob@example.com')).toBe(true)
    const ops = json('getAllOperations').operations
    expect(ops.map((o: { verb: string }) => o.verb)).toEqual(['legalHold', 'doPurge', 'doPurge', 'legalHold', 'doPurge'])
    expect(ops.every((o: { initiator: string; state: string }) => o.initiator === 'dpo@example.com' && o.state === 'done')).toBe(true)
    expect(ops[1].params).toEqual({ purgedays: String(days) })
  })
})

describe('purge on a store with shared content and deleted accounts', () => {
  const now = Date.now() as Instant
  const at = (daysAgo: number) => now - daysAgo * DAY
  const msg = (a: string, item: number, daysAgo: number, digest: string) =>
    ev('ItemCreated', a, at(daysAgo), { itemId: item as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [], content: { digest, size: 10 } })
  const setup = async () => {
    const dir = tmpDir()
    const b = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(b)) throw new Error('open')
    const put = (text: string) => {
      const r = b.right.blobs.put(Buffer.from(text))
      if (E.isLeft(r)) throw new Error('put')
      // Old enough for the purge's grace period.
      const file = storedBlobFile(path.join(dir, 'blobs'), r.right.digest)?.file ?? 'missing blob'
      fs.utimesSync(file, new Date(at(100)), new Date(at(100)))
      return r.right.digest
    }
    return { b: b.right, put }
  }
  const opts = { policy: { dataDays: 30, accountDays: 30 }, now, dryRun: false, by: 'test', operationId: 'op-test', graceMs: 3_600_000 }

  it('keeps a blob shared with a retained item, deletes it once nothing retained references it', async () => {
    const { b, put } = await setup()
    const shared = put('same bytes')
    const only = put('only in the deleted item')
    await ok(
      b.store.appendToStream(streamOfAccount('a' as never), [
        msg('a', 300, 90, shared),
        msg('a', 301, 90, only),
        msg('a', 302, 90, shared),
        ev('ItemDeleted', 'a', at(60), { itemId: 300 as never }),
        ev('ItemDeleted', 'a', at(60), { itemId: 301 as never }),
        ev('ItemDeleted', 'a', at(10), { itemId: 302 as never }),
      ]),
    )
    const r1 = await purge(b, opts)
    expect(r1.plan.purge.map((c) => c.itemId)).toEqual([300, 301])
    expect(b.blobs.has(only)).toBe(false)
    expect(b.blobs.has(shared)).toBe(true)
    // 302 (deleted 10 days ago) still needs the shared blob; 40 days later it does not.
    const r2 = await purge(b, { ...opts, now: (now + 40 * DAY) as Instant })
    expect(r2.plan.purge.map((c) => c.itemId)).toEqual([302])
    expect(b.blobs.has(shared)).toBe(false)
    await b.close()
  })

  it('purges every item of an account deleted longer ago than account retention, unless it is held', async () => {
    const { b, put } = await setup()
    const d1 = put('one')
    const d2 = put('two')
    await ok(b.store.appendToStream(streamOfAccount('gone' as never), [msg('gone', 300, 90, d1), ev('AccountDeleted', 'gone', at(40), {})]))
    await ok(b.store.appendToStream(streamOfAccount('kept' as never), [msg('kept', 300, 90, d2), ev('AccountDeleted', 'kept', at(40), {}), ev('LegalHoldSet', 'kept', at(35), {})]))
    const r = await purge(b, opts)
    expect(r.plan.purge.map((c) => `${c.account}#${c.itemId}`)).toEqual(['gone#300'])
    expect(r.plan.purge[0]?.reason).toMatch(/account retention \(30 days\): account deleted on/)
    expect(r.plan.held).toEqual([{ account: 'kept', wouldPurge: 1 }])
    expect([b.blobs.has(d1), b.blobs.has(d2)]).toEqual([false, true])
    // Account retention 0 keeps deleted accounts forever.
    const { b: b2, put: put2 } = await setup()
    await ok(b2.store.appendToStream(streamOfAccount('gone' as never), [msg('gone', 300, 90, put2('x')), ev('AccountDeleted', 'gone', at(400), {})]))
    expect((await purge(b2, { ...opts, policy: { dataDays: 30, accountDays: 0 } })).plan.purge).toEqual([])
    await b.close()
    await b2.close()
  })
})

describe('a store that fails in the middle of a long operation', () => {
  it('exits 4 and names the stream and revision, for export and migration alike', () => {
    const dir = tmpDir()
    const db = path.join(dir, 'm.db')
    const store = ['--store', `sqlite:${db}`]
    expect(mailtime([...store, 'demo', 'end', '2026-10-01T00:00:00Z']).code).toBe(0)
    // The temporal index already holds the states; the raw event is what these verbs re-read.
    const Database = require('better-sqlite3') as typeof import('better-sqlite3')
    const h = new Database(db)
    h.prepare("UPDATE events SET data = json_set(data, '$.occurredAt', 'yesterday') WHERE stream = 'account-carol@example.com' AND revision = 3").run()
    h.close()
    for (const args of [
      ['exportHistory', 'carol@example.com', 'dest', path.join(dir, 'x')],
      ['migrateStore', `sqlite:${db}`, `sqlite:${path.join(dir, 'copy.db')}`],
    ]) {
      const r = mailtime(args[0] === 'migrateStore' ? args : [...store, ...args])
      expect({ args: args[0], code: r.code }).toEqual({ args: args[0], code: 4 })
      expect(r.stderr).toMatch(/account-carol@example\.com@3 cannot be decoded/)
    }
  })
})
