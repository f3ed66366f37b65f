/**
 * The site scheduler's decisions (src/capture/site/schedule.ts): at most `limit` captures in
 * flight, never two of one account at once, a capture asked for an account already waiting merged
 * into it, accounts started in the order first asked; and the promise runner that follows them.
 */
import { emptySchedule, finishJob, siteScheduler, startJobs, submitJob } from '../../src/capture/site/schedule'

const concat = (a: readonly string[], b: readonly string[]): string[] => [...a, ...b]

describe('the site schedule (pure)', () => {
  it('starts at most limit captures, in the order their accounts were first asked', () => {
    let s = emptySchedule<string[]>()
    for (const [i, a] of ['a', 'b', 'c', 'd'].entries()) s = submitJob(s, a, [], i, concat)
    const r = startJobs(s, 2)
    expect(r.start.map((j) => j.account)).toEqual(['a', 'b'])
    expect(r.schedule.waiting.map((j) => j.account)).toEqual(['c', 'd'])
    expect([...r.schedule.running]).toEqual(['a', 'b'])
    // Nothing more starts until one ends.
    expect(startJobs(r.schedule, 2).start).toEqual([])
    const after = startJobs(finishJob(r.schedule, 'b'), 2)
    expect(after.start.map((j) => j.account)).toEqual(['c'])
  })

  it('merges a capture asked for an account already waiting into the waiting one, keeping its place', () => {
    let s = emptySchedule<string[]>()
    s = submitJob(s, 'a', ['round'], 0, concat)
    s = submitJob(s, 'b', ['round'], 1, concat)
    s = submitJob(s, 'a', ['INBOX'], 2, concat)
    expect(s.waiting).toEqual([
      { account: 'a', payload: ['round', 'INBOX'], tickets: [0, 2] },
      { account: 'b', payload: ['round'], tickets: [1] },
    ])
  })

  it('never starts a second capture of an account that is running, and starts others past it', () => {
    let s = emptySchedule<string[]>()
    s = submitJob(s, 'a', ['first'], 0, concat)
    const first = startJobs(s, 4)
    expect(first.start.map((j) => j.payload)).toEqual([['first']])
    s = submitJob(first.schedule, 'a', ['second'], 1, concat)
    s = submitJob(s, 'b', [], 2, concat)
    const next = startJobs(s, 4)
    expect(next.start.map((j) => j.account)).toEqual(['b'])
    expect(next.schedule.waiting.map((j) => j.account)).toEqual(['a'])
    const last = startJobs(finishJob(next.schedule, 'a'), 4)
    expect(last.start.map((j) => [j.account, j.payload])).toEqual([['a', ['second']]])
  })
})

describe('the site scheduler (promises)', () => {
  /** A run whose captures end when the test says so, recording what ran and how many at once. */
  const controlled = () => {
    const ends = new Map<string, (() => void)[]>()
    const log: string[] = []
    let inFlight = 0
    let most = 0
    const perAccount = new Map<string, number>()
    let overlap = false
    const run = async (account: string, payload: readonly string[]): Promise<string> => {
      inFlight++
      most = Math.max(most, inFlight)
      perAccount.set(account, (perAccount.get(account) ?? 0) + 1)
      if ((perAccount.get(account) ?? 0) > 1) overlap = true
      log.push(`start ${account} ${payload.join('+')}`)
      await new Promise<void>((resolve) => ends.set(account, [...(ends.get(account) ?? []), resolve]))
      log.push(`end ${account}`)
      perAccount.set(account, (perAccount.get(account) ?? 1) - 1)
      inFlight--
      return `${account}:${payload.join('+')}`
    }
    const end = async (account: string): Promise<void> => {
      for (let i = 0; i < 100 && (ends.get(account) ?? []).length === 0; i++) await new Promise((r) => setImmediate(r))
      const list = ends.get(account) ?? []
      const e = list.shift()
      if (e === undefined) throw new Error(`no capture of ${account} is running`)
      e()
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r))
    }
    return { run, end, log, most: () => most, overlap: () => overlap }
  }

  it('runs every account with at most limit at once, and answers merged submissions with the one capture that took them', async () => {
    const c = controlled()
    const s = siteScheduler(2, c.run, concat)
    const results = ['a', 'b', 'c', 'd', 'e'].map((a) => s.submit(a, ['round']))
    const trigger = s.submit('e', ['INBOX'])
    await c.end('a')
    await c.end('b')
    await c.end('c')
    await c.end('d')
    await c.end('e')
    expect(await Promise.all(results)).toEqual(['a:round', 'b:round', 'c:round', 'd:round', 'e:round+INBOX'])
    expect(await trigger).toBe('e:round+INBOX')
    expect(c.most()).toBe(2)
    expect(s.peak()).toBe(2)
    expect(c.overlap()).toBe(false)
    await s.idle()
  })

  it('keeps per-account order under concurrent triggers: a trigger during a capture runs after it, merged with the next ones', async () => {
    const c = controlled()
    const s = siteScheduler(4, c.run, concat)
    const first = s.submit('a', ['1'])
    await new Promise((r) => setImmediate(r))
    const second = s.submit('a', ['2'])
    const third = s.submit('a', ['3'])
    const other = s.submit('b', ['x'])
    await c.end('b')
    await c.end('a')
    await c.end('a')
    expect(await first).toBe('a:1')
    expect(await second).toBe('a:2+3')
    expect(await third).toBe('a:2+3')
    expect(await other).toBe('b:x')
    expect(c.log.filter((l) => l.endsWith(' a') || l.includes(' a '))).toEqual(['start a 1', 'end a', 'start a 2+3', 'end a'])
    expect(c.overlap()).toBe(false)
  })

  it('rejects the submissions a failed capture answers, and goes on with the others', async () => {
    const s = siteScheduler(
      1,
      async (a: string) => {
        if (a === 'bad') throw new Error('boom')
        return a
      },
      (x: number, y: number) => x + y,
    )
    const bad = s.submit('bad', 1)
    const good = s.submit('good', 1)
    await expect(bad).rejects.toThrow('boom')
    await expect(good).resolves.toBe('good')
    await s.idle()
  })

  it('refuses a limit that is not a whole number of at least 1', () => {
    expect(() =>
      siteScheduler(
        0,
        async () => 0,
        (a: number) => a,
      ),
    ).toThrow(RangeError)
  })
})
