/**
 * The fair-share plan a worker follows at each heartbeat, and the fencing of a member whose renewals
 * stop: pure, with a clock the test moves (the in-process adapter keeps the PostgreSQL table's rules).
 */
import * as E from 'fp-ts/Either'
import { holderOf, planLeases } from '../../src/capture/fleet/leases'
import { localLeases } from '../../src/capture/fleet/localLeases'
import { type FleetMember, joinFleet } from '../../src/capture/fleet/member'

const accounts = Array.from({ length: 12 }, (_, i) => `u${String(i).padStart(2, '0')}`)

describe('planLeases', () => {
  it('a worker alone takes every account', () => {
    const p = planLeases({ accounts, held: [], heldByOthers: [], live: 1, busy: new Set() })
    expect([p.max, p.acquire, p.release]).toEqual([12, accounts, []])
  })

  it('with three live workers a worker holding all twelve gives back eight, never the one it is capturing', () => {
    const p = planLeases({ accounts, held: accounts, heldByOthers: [], live: 3, busy: new Set(['u11', 'u10']) })
    expect(p.release).toHaveLength(8)
    expect(p.release).not.toContain('u11')
    expect(p.release).not.toContain('u10')
    expect(p.max).toBe(0)
  })

  it('takes only accounts nobody else holds, up to ceil(accounts / workers)', () => {
    const p = planLeases({ accounts, held: ['u00'], heldByOthers: ['u01', 'u02', 'u03'], live: 5, busy: new Set() })
    expect(p.max).toBe(2)
    expect(p.acquire).toEqual(accounts.filter((a) => !['u00', 'u01', 'u02', 'u03'].includes(a)))
  })

  it('gives back a lease on an account it no longer knows of', () => {
    const p = planLeases({ accounts: ['a'], held: ['a', 'gone'], heldByOthers: [], live: 1, busy: new Set() })
    expect(p.release).toEqual(['gone'])
  })
})

describe('members over in-process leases', () => {
  let t = 0
  const clock = () => t
  const timing = { ttlMs: 10_000, heartbeatMs: 2_000 }
  const join = async (leases: ReturnType<typeof localLeases>, name: string): Promise<FleetMember> => {
    const m = await joinFleet(leases, holderOf('host', 1, name), { accounts: () => accounts, timing, clock, heartbeat: false, shuffle: (xs) => [...xs] })
    if (E.isLeft(m)) throw new Error(JSON.stringify(m.left))
    return m.right
  }
  const owners = async (leases: ReturnType<typeof localLeases>) => {
    const s = await leases.list()()
    if (E.isLeft(s)) throw new Error('list')
    return s.right.accounts
  }

  it('three members share twelve accounts four each, every account held by exactly one, and take a silent member over after its leases expire', async () => {
    t = 0
    const leases = localLeases(clock)
    const a = await join(leases, 'a')
    expect(a.held()).toHaveLength(12)
    const b = await join(leases, 'b')
    const c = await join(leases, 'c')
    for (let i = 0; i < 3; i++) for (const m of [a, b, c]) await m.beat()
    expect([a.held().length, b.held().length, c.held().length]).toEqual([4, 4, 4])
    expect(new Set([...a.held(), ...b.held(), ...c.held()]).size).toBe(12)
    // c stops renewing (killed): a and b go on beating every two seconds.
    const dead = c.held()
    for (t = 2_000; t <= 12_000; t += 2_000) {
      await a.beat()
      await b.beat()
    }
    expect([a.held().length, b.held().length]).toEqual([6, 6])
    const taken = (await owners(leases)).filter((l) => dead.includes(l.account))
    expect(taken.every((l) => l.holder !== null && !l.holder.endsWith(':c'))).toBe(true)
  })

  it('a member whose renewals stop no longer holds its accounts before they can expire, and claims nothing another holds', async () => {
    t = 0
    // The in-process table with the PostgreSQL adapter's rules, as if other processes shared it.
    const leases = { ...localLeases(clock), shared: true }
    const a = await join(leases, 'a')
    expect(a.holds('u00')).toBe(true)
    t = 7_999
    expect(a.holds('u00')).toBe(true)
    t = 8_000
    // Trusted for ttl less a fifth: two seconds before the table lets another take it.
    expect(a.holds('u00')).toBe(false)
    expect(a.begin('u00')).toBe(false)
    t = 10_001
    const b = await joinFleet(leases, holderOf('host', 2, 'b'), { accounts: () => accounts, timing, clock, heartbeat: false, share: false })
    if (E.isLeft(b)) throw new Error('join')
    expect(await b.right.claim('u00')).toBe(true)
    expect(await a.claim('u00')).toBe(false)
  })
  it('a process that holds every account alone (SQLite) keeps capturing through a long pause: nobody can take its leases', async () => {
    t = 0
    const leases = localLeases(clock)
    const a = await join(leases, 'a')
    t = 60_000
    expect(a.begin('u00')).toBe(true)
  })
})
