/**
 * The web console's API as a browser or a script uses it: `mailtime serve` started as a user starts
 * it, over a store the demo filled, asked over real HTTP. It answers with the same documents as the
 * CLI's --json (one implementation), refuses calls without the token, names bad parameters in a
 * 400, and sends its security headers.
 */
import * as path from 'path'
import { mailtime, mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(120_000)

const END = '2026-03-10T00:00:00Z'
const TOKEN = 'test-token-0123456789abcdef'
let store: string[]
let base: string
let server: ReturnType<typeof mailtimeAsync>

beforeAll(async () => {
  const dir = tmpDir()
  store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const demo = mailtime([...store, 'demo', 'end', END])
  if (demo.code !== 0) throw new Error(demo.stderr)
  server = mailtimeAsync([...store, 'serve', 'port', '0'], { MAILTIME_API_TOKEN: TOKEN })
  base = await new Promise<string>((resolve, reject) => {
    let out = ''
    server.child.stdout?.on('data', (b: Buffer) => {
      out += b.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m?.[1] !== undefined) resolve(m[1])
    })
    void server.done.then((r) => reject(new Error(`serve exited ${r.code}: ${r.stderr}`)))
  })
})

afterAll(async () => {
  server.child.kill('SIGTERM')
  await server.done
  cleanupTmp()
})

/** `token` null sends no Authorization header at all. */
const get = (p: string, token: string | null = TOKEN) => fetch(`${base}${p}`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } })
const post = (p: string, body: unknown) => fetch(`${base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
const cli = (...words: string[]) => JSON.parse(mailtime([...store, '--json', ...words]).stdout) as unknown

describe('the web console API', () => {
  it('refuses every call without the right token, and sends its security headers', async () => {
    for (const token of [null, 'wrong', '', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const r = await get('/api/accounts', token)
      expect({ token, status: r.status }).toEqual({ token, status: 401 })
      expect(JSON.stringify(await r.json())).not.toContain(TOKEN)
    }
    const ok = await get('/api/accounts')
    expect(ok.status).toBe(200)
    expect(ok.headers.get('content-security-policy')).toMatch(/default-src 'self'.*script-src 'self'/)
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff')
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/)
  })

  it('answers with the same documents as the CLI', async () => {
    const meta = (cli('demo', 'end', END) as { accounts: { massDeletionAt: string; showcaseItem: number }[] }).accounts[0]
    if (meta === undefined) throw new Error('no demo account')
    const before = new Date(Date.parse(meta.massDeletionAt) - 60_000).toISOString()
    const after = new Date(Date.parse(meta.massDeletionAt) + 3_600_000).toISOString()
    const q = encodeURIComponent
    const pairs: [string, unknown][] = [
      ['/api/accounts', cli('getAvailableAccounts')],
      ['/api/accounts/alice@example.com', cli('getAccountInfo', 'alice@example.com')],
      [`/api/accounts/alice@example.com/state?at=${q(before)}`, cli('getAccountState', 'alice@example.com', 'date', before)],
      [`/api/accounts/alice@example.com/items/${meta.showcaseItem}/history`, cli('getItem', 'alice@example.com', String(meta.showcaseItem), 'date', 'all')],
      [`/api/accounts/alice@example.com/diff?from=${q(before)}&to=${q(after)}`, cli('diff', 'alice@example.com', before, after)],
      [`/api/accounts/alice@example.com/search?after=${q(before)}&before=${q(after)}`, cli('doItemSearch', 'alice@example.com', 'after', before, 'before', after)],
      ['/api/operations', cli('getAllOperations')],
    ]
    for (const [p, expected] of pairs) {
      const r = await get(p)
      expect({ p, status: r.status }).toEqual({ p, status: 200 })
      expect({ p, body: await r.json() }).toEqual({ p, body: expected })
    }
    const plan = await post('/api/accounts/alice@example.com/undelete', { from: before, to: after })
    expect(plan.status).toBe(200)
    const body = (await plan.json()) as { plan: { items: unknown[] } }
    expect(body.plan.items.length).toBeGreaterThan(100)
    expect(body).toEqual(cli('doUndelete', 'alice@example.com', before, after, 'dry_run', 'true'))
  })

  it('names a bad parameter in a 400, and an unknown account or item in a 404', async () => {
    const cases: [string, number, RegExp][] = [
      ['/api/accounts/alice@example.com/state?at=31%2F02%2F2026%2010%3A00%3A00', 400, /31\/02\/2026/],
      ['/api/accounts/alice@example.com/items/abc', 400, /item id/],
      ['/api/accounts/alice@example.com/items/0', 400, /item id/],
      ['/api/accounts/alice@example.com/diff?from=first', 400, /to/],
      ['/api/accounts/alice@example.com/state?at=%00', 400, /control characters/],
      ['/api/accounts/nobody@example.com/state', 404, /nobody@example\.com/],
      ['/api/accounts/alice@example.com/items/99999999', 404, /99999999/],
      ['/api/operations/op-nope', 404, /op-nope/],
    ]
    for (const [p, status, message] of cases) {
      const r = await get(p)
      const body = (await r.json()) as { error: string }
      expect({ p, status: r.status }).toEqual({ p, status })
      expect(body.error).toMatch(message)
    }
    const r = await post('/api/accounts/alice@example.com/undelete', { from: 'first', to: 'last', dry_run: 'maybe' })
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: string }).error).toMatch(/dry_run/)
  })
})

describe('mailtime serve', () => {
  it('refuses to start without a token, or beyond loopback without allow_remote true', () => {
    expect(mailtime([...store, 'serve', 'port', '0']).code).toBe(2)
    expect(mailtime([...store, 'serve', 'port', '0'], { MAILTIME_API_TOKEN: 'short' }).code).toBe(2)
    const wide = mailtime([...store, 'serve', 'port', '0', 'host', '0.0.0.0'], { MAILTIME_API_TOKEN: TOKEN })
    expect(wide.code).toBe(2)
    expect(wide.stderr).toMatch(/allow_remote true/)
  })
})
