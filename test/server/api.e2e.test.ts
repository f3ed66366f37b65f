/**
 * The web console's API as a browser or a script uses it: `mailtime serve` started as a user starts
 * it, over a store the demo filled, asked over real HTTP. It answers with the same documents as the
 * CLI's --json (one implementation), refuses calls without the token, names bad parameters in a
 * 400, and sends its security headers.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Served, startServe } from '../support/serve'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(120_000)

const END = '2026-03-10T00:00:00Z'
const TOKEN = 'test-token-0123456789abcdef'
let store: string[]
let base: string
let server: Served

beforeAll(async () => {
  const dir = tmpDir()
  store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const demo = mailtime([...store, 'demo', 'end', END])
  if (demo.code !== 0) throw new Error(demo.stderr)
  server = await startServe(store, ['exports', path.join(dir, 'exports'), 'target', `maildir:${path.join(dir, 'restored')}`], { MAILTIME_API_TOKEN: TOKEN })
  base = server.base
})

afterAll(async () => {
  await server.stop()
  cleanupTmp()
})

/** `token` null sends no Authorization header at all. */
const get = (p: string, token: string | null = TOKEN) => fetch(`${base}${p}`, { headers: token === null ? {} : { Authorization: `Bearer ${token}` } })
const post = (p: string, body: unknown) =>
  fetch(`${base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
const cli = (...words: string[]) => JSON.parse(mailtime([...store, '--json', ...words]).stdout) as unknown

describe('the web console API', () => {
  it('refuses every call without the right token, and sends its security headers', async () => {
    for (const token of [null, 'wrong', '', `${TOKEN}x`, TOKEN.slice(0, -1)]) {
      const r = await get('/api/accounts', token)
      expect({ token, status: r.status }).toEqual({ token, status: 401 })
      expect(JSON.stringify(await r.json())).not.toContain(TOKEN)
    }
    // Other spellings of the same route are guarded too ("%61" is "a").
    for (const p of ['/%61pi/accounts', '/api/accounts/alice%40example.com/state', '/%61pi/jobs']) expect({ p, status: (await get(p, null)).status }).toEqual({ p, status: 401 })
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
      [`/api/accounts/alice@example.com/activity?bucket=hour&tz=Asia%2FKolkata`, cli('getActivity', 'alice@example.com', 'bucket', 'hour', 'zone', 'Asia/Kolkata')],
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
    const newPlan = await post('/api/accounts/alice@example.com/restore-new-account', { destination: 'alice.before@example.com', at: before })
    expect(newPlan.status).toBe(200)
    expect(await newPlan.json()).toEqual(cli('doRestoreOnNewAccount', 'alice@example.com', 'alice.before@example.com', before, 'dry_run', 'true'))
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

/** Polls a job until it ends. */
const finished = async (id: string): Promise<{ state: string; done: number; total: number; result: Record<string, unknown>; error: string | null; status: number | null }> => {
  for (;;) {
    const r = await get(`/api/jobs/${id}`)
    expect(r.status).toBe(200)
    const j = (await r.json()) as { state: string; done: number; total: number; result: Record<string, unknown>; error: string | null; status: number | null }
    if (j.state !== 'running') return j
    await new Promise((res) => setTimeout(res, 200))
  }
}

describe('jobs: restores and exports started from the console', () => {
  it("runs a restore into a new account as a job, with its progress and the verb's report", async () => {
    const meta = (cli('demo', 'end', END) as { accounts: { massDeletionAt: string }[] }).accounts[0]
    const before = new Date(Date.parse(meta?.massDeletionAt ?? '') - 60_000).toISOString()
    const plan = cli('doRestoreOnNewAccount', 'alice@example.com', 'alice.job@example.com', before, 'dry_run', 'true') as {
      plan: { counts: { items: number; folderItems: number; unrestorable: number } }
    }
    // Messages and folders (every folder of the account is an item the restore recreates).
    const writable = plan.plan.counts.items + plan.plan.counts.folderItems
    expect(plan.plan.counts.folderItems).toBeGreaterThan(0)
    const r = await post('/api/accounts/alice@example.com/restore-new-account', { destination: 'alice.job@example.com', at: before, dry_run: 'false' })
    expect(r.status).toBe(202)
    const { job } = (await r.json()) as { job: { id: string; state: string } }
    const j = await finished(job.id)
    expect(j.error).toBeNull()
    expect(j.total).toBe(writable + plan.plan.counts.unrestorable)
    expect(j.done).toBe(j.total)
    expect(j.result.restored).toBe(writable)
    // The operation the verb recorded is the one the job reports.
    const op = (await (await get(`/api/operations/${String(j.result.operationId)}`)).json()) as { verb: string; restored: number }
    expect(op).toMatchObject({ verb: 'doRestoreOnNewAccount', restored: writable })
  })

  it('previews an export without writing it, with the counts the CLI gives', async () => {
    const r = await post('/api/accounts/carol@example.com/export', { to: END, dry_run: 'true' })
    expect(r.status).toBe(200)
    const preview = (await r.json()) as { dryRun: boolean; dest: string; itemChanges: number; liveItemsAtTo: number }
    const expected = cli('exportHistory', 'carol@example.com', 'to', END, 'dry_run', 'true') as { itemChanges: number; liveItemsAtTo: number; foldersAtTo: number }
    expect(preview).toMatchObject({ dryRun: true, itemChanges: expected.itemChanges, liveItemsAtTo: expected.liveItemsAtTo, foldersAtTo: expected.foldersAtTo })
    expect(expected.itemChanges).toBeGreaterThan(100)
    expect(fs.existsSync(preview.dest)).toBe(false)
  })

  it('runs an export as a job into a new directory under the export folder, which verifyExport accepts', async () => {
    const r = await post('/api/accounts/carol@example.com/export', { to: END })
    expect(r.status).toBe(202)
    const j = await finished(((await r.json()) as { job: { id: string } }).job.id)
    expect(j.state).toBe('done')
    const dest = String(j.result.dest)
    expect(path.relative(path.join(path.dirname(store[1]?.slice('sqlite:'.length) ?? ''), 'exports'), dest)).toMatch(/^carol@example\.com-[0-9T]+-[0-9a-f]{6}$/)
    const v = mailtime([...store, '--json', 'verifyExport', dest])
    expect(v.code).toBe(0)
  })

  it('reports a failure inside the verb as a failed job with its status, and an unknown job as a 404', async () => {
    const r = await post('/api/accounts/carol@example.com/export', { from: END, to: '2026-01-01T00:00:00Z' })
    expect(r.status).toBe(202)
    const j = await finished(((await r.json()) as { job: { id: string } }).job.id)
    expect(j).toMatchObject({ state: 'failed', status: 400 })
    expect(j.error).toMatch(/from is after to/)
    expect((await get('/api/jobs/job-nope')).status).toBe(404)
    const bad = await post('/api/accounts/carol@example.com/export', { format: 'tar' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/format/)
  })
})

describe('mailtime serve', () => {
  it('refuses a short token, a token file others can read, and a host beyond loopback without allow_remote true', () => {
    expect(mailtime([...store, 'serve', 'port', '0'], { MAILTIME_API_TOKEN: 'short' }).code).toBe(2)
    const wide = mailtime([...store, 'serve', 'port', '0', 'host', '0.0.0.0'], { MAILTIME_API_TOKEN: TOKEN })
    expect(wide.code).toBe(2)
    expect(wide.stderr).toMatch(/allow_remote true/)
    const dir = tmpDir()
    const file = path.join(dir, 'api-token')
    fs.writeFileSync(file, 'a-token-that-others-can-read\n', { mode: 0o644 })
    const open = mailtime(['--store', `sqlite:${path.join(dir, 'm.db')}`, 'serve', 'port', '0'])
    expect(open.code).toBe(2)
    expect(open.stderr).toContain(`${file} can be read by other users`)
  })

  it('without a configured token, creates one in a file only its owner reads, and never prints it', async () => {
    const dir = tmpDir()
    const s = await startServe(['--store', `sqlite:${path.join(dir, 'm.db')}`], [], {})
    const file = path.join(dir, 'api-token')
    try {
      expect(fs.statSync(file).mode & 0o777).toBe(0o600)
      const token = fs.readFileSync(file, 'utf8').trim()
      expect(token).toMatch(/^[0-9a-f]{48}$/)
      expect((await fetch(`${s.base}/api/accounts`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200)
      expect((await fetch(`${s.base}/api/accounts`)).status).toBe(401)
      // The page needs no token to load (it holds no data), and is served with the CSP.
      const pageResponse = await fetch(`${s.base}/`)
      expect(pageResponse.status).toBe(200)
      expect(pageResponse.headers.get('content-security-policy')).toMatch(/script-src 'self'/)
      expect(await pageResponse.text()).not.toMatch(/<script>|<style>| on\w+=/)
    } finally {
      const out = await s.stop()
      expect(out.stdout).toContain(`API token: created in ${file}`)
      expect(out.stdout + out.stderr).not.toContain(fs.readFileSync(file, 'utf8').trim())
    }
  })
})
