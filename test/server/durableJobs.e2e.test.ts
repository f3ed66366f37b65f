/**
 * `mailtime serve` on a PostgreSQL store, as users run it: a console export is a job in the store
 * that another server process shows, to its end. (A server killed mid-job is taken over in
 * durableJobs.int.test.ts; an end-to-end kill needs a pause hook in the Maildir target, not there yet.)
 */
import * as path from 'path'
import { mailtime } from '../support/cli'
import { postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { type Served, startServe } from '../support/serve'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { waitFor } from '../support/wait'

jest.setTimeout(180_000)

const END = '2026-03-10T00:00:00Z'
const TOKEN = 'test-token-0123456789abcdef'

interface Job {
  id: string
  state: string
  label: string
  notes: string[]
  result: { dest?: string } | null
}

describeWithService(postgresAvailable(), 'PostgreSQL')('durable console jobs (serve on PostgreSQL)', () => {
  let store: string[]
  let dir: string
  const servers: Served[] = []
  beforeAll(async () => {
    dir = tmpDir()
    store = ['--store', await (await sharedPostgres()).freshDatabase(), '--blobs', path.join(dir, 'blobs'), '--tz', 'UTC']
    const r = mailtime([...store, 'demo', 'end', END])
    if (r.code !== 0) throw new Error(`demo failed: ${r.stderr}`)
  })
  afterAll(async () => {
    for (const s of servers) await s.stop()
    await stopSharedPostgres()
    cleanupTmp()
  })

  const serve = async () => {
    const s = await startServe(store, ['exports', path.join(dir, 'exports')], { MAILTIME_API_TOKEN: TOKEN })
    servers.push(s)
    return s
  }
  const headers = { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }
  const job = async (base: string, id: string): Promise<Job> => (await (await fetch(`${base}/api/jobs/${id}`, { headers })).json()) as Job
  const exportOn = async (base: string): Promise<Job> => {
    const r = await fetch(`${base}/api/accounts/carol@example.com/export`, { method: 'POST', headers, body: JSON.stringify({ to: END }) })
    expect(r.status).toBe(202)
    return ((await r.json()) as { job: Job }).job
  }
  const verified = (dest: string) => mailtime([...store, '--json', 'verifyExport', dest]).code

  it('an export started on one server process is a job every server process shows, to its end', async () => {
    const [a, b] = [await serve(), await serve()]
    const started = await exportOn(a.base)
    await waitFor('the job to end, as the other server shows it', async () => (await job(b.base, started.id)).state !== 'running', 120_000)
    const seen = await job(b.base, started.id)
    expect(seen.state).toBe('done')
    expect(verified(String(seen.result?.dest))).toBe(0)
    const list = (await (await fetch(`${b.base}/api/jobs`, { headers })).json()) as { jobs: Job[] }
    expect(list.jobs.map((j) => j.id)).toContain(started.id)
  })
})
