/**
 * Capture leases in a real PostgreSQL 15: racing workers never share an account, an expired lease
 * is taken over (and its old holder's renewal no longer returns it), membership expires, and the
 * status reads what captures recorded.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { holderOf } from '../../src/capture/fleet/leases'
import { pgLeases } from '../../src/store/postgres/pgLeases'
import { openPg, postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { waitFor } from '../support/wait'

jest.setTimeout(60_000)
afterAll(stopSharedPostgres)

const ok = async <A>(te: TE.TaskEither<unknown, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

const accounts = Array.from({ length: 12 }, (_, i) => `u${i}`)

describeWithService(postgresAvailable(), 'PostgreSQL')('capture leases in PostgreSQL', () => {
  const open = async () => {
    const store = await openPg(await (await sharedPostgres()).freshDatabase())
    return { store, leases: pgLeases(store.pool, 'test') }
  }

  it('five workers racing for twelve free accounts take each exactly once', async () => {
    const { store, leases } = await open()
    const hs = [1, 2, 3, 4, 5].map((i) => holderOf('h', i))
    for (const h of hs) await ok(leases.renew(h, 10_000))
    const got = await Promise.all(hs.map((h) => ok(leases.acquire(h, accounts, 12, 10_000))))
    expect(got.flat().sort()).toEqual([...accounts].sort())
    const s = await ok(leases.list())
    expect(s.accounts.map((l) => [l.account, got.findIndex((g) => g.includes(l.account))])).toEqual(s.accounts.map((l) => [l.account, hs.findIndex((h) => h.id === l.holder)]))
    await store.close()
  })

  it('an expired lease is taken by another worker, and the old holder renews without it', async () => {
    const { store, leases } = await open()
    const [a, b] = [holderOf('h', 1), holderOf('h', 2)]
    await ok(leases.renew(a, 400))
    expect(await ok(leases.acquire(a, ['x', 'y'], 2, 400))).toEqual(['x', 'y'])
    expect(await ok(leases.acquire(b, ['x'], 1, 10_000))).toEqual([])
    await waitFor('x to expire and be taken', async () => (await ok(leases.acquire(b, ['x'], 1, 10_000))).length === 1)
    const renewed = await ok(leases.renew(a, 10_000))
    // y expired too but nobody took it: still a's (one holder per row at any time).
    expect(renewed.held).toEqual(['y'])
    expect(renewed.heldByOthers).toEqual(['x'])
    await store.close()
  })

  it('counts live workers, forgets one whose membership expired, and frees the leases of one that left', async () => {
    const { store, leases } = await open()
    const [a, b, c] = [holderOf('h', 1), holderOf('h', 2), holderOf('h', 3)]
    await ok(leases.renew(a, 10_000))
    await ok(leases.renew(b, 10_000))
    await ok(leases.renew(c, 300))
    expect((await ok(leases.renew(a, 10_000))).live).toBe(3)
    await waitFor('c to expire', async () => (await ok(leases.renew(a, 10_000))).live === 2)
    await ok(leases.acquire(b, ['p', 'q'], 2, 10_000))
    await ok(leases.leave(b))
    expect(await ok(leases.acquire(a, ['p', 'q'], 2, 10_000))).toEqual(['p', 'q'])
    const s = await ok(leases.list())
    expect(s.workers.map((w) => [w.holder, w.live])).toEqual([
      [a.id, true],
      [c.id, false],
    ])
    await store.close()
  })

  it('the status shows each account’s last capture and last error, and the worker’s last round', async () => {
    const { store, leases } = await open()
    const a = holderOf('h', 1)
    await ok(leases.renew(a, 10_000))
    await ok(leases.acquire(a, ['ok', 'bad'], 2, 10_000))
    await ok(leases.record(a, 'ok', null))
    await ok(leases.record(a, 'bad', 'IMAP error: refused'))
    await ok(leases.roundDone(a))
    const s = await ok(leases.list())
    const byName = new Map(s.accounts.map((l) => [l.account, l]))
    expect(byName.get('ok')?.lastCaptureAt).toBeGreaterThan(0)
    expect(byName.get('ok')?.lastError).toBeNull()
    expect(byName.get('bad')?.lastCaptureAt).toBeNull()
    expect(byName.get('bad')?.lastError).toBe('IMAP error: refused')
    expect(s.workers[0]?.lastRoundAt).toBeGreaterThan(0)
    expect(s.workers[0]?.lastError).toBe('bad: IMAP error: refused')
    await store.close()
  })
})
