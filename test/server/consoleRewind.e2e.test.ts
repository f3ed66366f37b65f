/**
 * The rewind from the web console, against `mailtime serve` and a real Dovecot whose accounts a
 * plain IMAP client hijacks: over HTTP, the preview route answers the CLI's `doRewind … dry_run true
 * --json` document and changes nothing on the server, the run route starts a job that puts the
 * account back, and a legal hold fails the job with 409; in Chromium, "Rewind to this instant" from
 * the item list shows the same plan grouped by action, the run needs the account's name typed,
 * Cancel writes nothing, and the confirmed run is followed to its report. The serve's restore target
 * is a Maildir tree: the rewind acts on the live IMAP server regardless.
 */
import * as path from 'path'
import type { Browser, Page } from 'playwright-core'
import { chromiumAvailable, launchChromium, screenshot } from '../support/browser'
import { mailtime } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { HIJACK_COUNTS, expectedAfter, fillAccount, hijack, keepFolderToday, pause, readAccount } from '../support/hijack'
import { describeWithService } from '../support/services'
import { type Served, startServe } from '../support/serve'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(180_000)

const TOKEN = 'rewind-token-0123456789abcdef'
const ZONE = 'Europe/Rome'

interface Preview {
  dryRun: boolean
  instant: string
  plan: { counts: Record<string, number>; groups: { group: string; count: number; actions: { description: string }[] }[] }
  refusedBecause?: string
}
interface JobView {
  id: string
  verb: string
  state: string
  result: Record<string, unknown> | null
  error: string | null
  status: number | null
}

describeWithService(dovecotAvailable(), 'Dovecot')('the rewind from the web console', () => {
  let d: Dovecot
  let dir: string
  let store: string[]
  let env: Record<string, string>
  let server: Served
  /** The instant bob is rewound to (just after his capture, before the server started). */
  let bobAt: number
  const cli = (...words: string[]) => {
    const r = mailtime([...store, '--json', ...words], env)
    if (r.code !== 0) throw new Error(`${words[0]} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as unknown
  }
  const get = async <T>(p: string): Promise<T> => (await fetch(`${server.base}${p}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json() as Promise<T>
  const post = (p: string, body: unknown) =>
    fetch(`${server.base}${p}`, { method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  const finished = async (id: string): Promise<JobView> => {
    for (;;) {
      const j = await get<JobView>(`/api/jobs/${id}`)
      if (j.state !== 'running') return j
      await pause(200)
    }
  }
  const rewinds = () => (cli('getAllOperations') as { operations: { verb: string; params?: Record<string, string> }[] }).operations.filter((o) => o.verb === 'doRewind')

  /** The account filled and captured, then an instant (whole second) after that capture. */
  const capturedThen = async (user: string): Promise<number> => {
    await fillAccount(d, user)
    cli('doAccountScan', user)
    await pause(1100)
    const at = Math.floor(Date.now() / 1000) * 1000
    await pause(1100)
    return at
  }

  beforeAll(async () => {
    d = await startDovecot({ bob: 'bobpw', carol: 'carolpw', erin: 'erinpw' })
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    bobAt = await capturedThen('bob')
    server = await startServe(store, ['target', `maildir:${path.join(dir, 'restored')}`], { ...env, MAILTIME_API_TOKEN: TOKEN })
  })

  afterAll(async () => {
    await server?.stop()
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  describe('over HTTP', () => {
    it("the preview route answers the CLI's dry run and changes nothing; the run route starts a job that puts the account back", async () => {
      const at = new Date(bobAt).toISOString()
      const before = await readAccount(d, 'bob')
      await hijack(d, 'bob')
      const hijacked = await readAccount(d, 'bob')

      const r = await post('/api/accounts/bob/rewind/preview', { at })
      expect(r.status).toBe(200)
      const preview = (await r.json()) as Preview
      expect(preview.plan.counts).toEqual(HIJACK_COUNTS)
      expect(preview.plan.groups.map((g) => g.group)).toEqual(['rename back', 'move back', 'come back', 're-flag', 'keep aside'])
      expect(preview).toEqual(cli('doRewind', 'bob', at, 'dry_run', 'true'))
      expect(await readAccount(d, 'bob')).toEqual(hijacked)
      expect(rewinds()).toEqual([])

      const started = await post('/api/accounts/bob/rewind', { at })
      expect(started.status).toBe(202)
      const { job } = (await started.json()) as { job: JobView }
      expect(job).toMatchObject({ verb: 'doRewind', state: 'running' })
      const end = await finished(job.id)
      expect(end).toMatchObject({ state: 'done', error: null, result: { dryRun: false, state: 'done', differences: [], failed: [], plan: { counts: HIJACK_COUNTS } } })
      expect(await readAccount(d, 'bob')).toEqual(expectedAfter(before, hijacked, keepFolderToday()))
      expect(rewinds().map((o) => o.params?.account)).toEqual(['bob'])
    })

    it('names a bad parameter in a 400, and fails the run of an account under legal hold with 409, writing nothing', async () => {
      const cases: [string, unknown, RegExp][] = [
        ['/api/accounts/bob/rewind/preview', {}, /^bad parameters: at: /],
        ['/api/accounts/bob/rewind/preview', { at: '2026-03-02T10:00:00Z', remove_new_folders: 'maybe' }, /remove_new_folders/],
        ['/api/accounts/bob/rewind/preview', { at: '31/02/2026 10:00:00' }, /31\/02\/2026/],
        ['/api/accounts/bob/rewind', { at: 'soon' }, /soon/],
      ]
      for (const [p, body, message] of cases) {
        const r = await post(p, body)
        const out = (await r.json()) as { error?: string; job?: JobView }
        // A run's bad date is found by the use case, inside the job.
        const error = out.job === undefined ? { status: r.status, message: out.error } : await finished(out.job.id).then((j) => ({ status: j.status, message: j.error }))
        expect({ p, body, error }).toEqual({ p, body, error: { status: 400, message: expect.stringMatching(message) } })
      }
      const at = new Date(await capturedThen('carol')).toISOString()
      await hijack(d, 'carol')
      const hijacked = await readAccount(d, 'carol')
      cli('legalHold', 'set', 'carol', 'reason', 'case 2026-117')
      const preview = (await (await post('/api/accounts/carol/rewind/preview', { at })).json()) as Preview
      expect(preview.refusedBecause).toContain('carol is under legal hold')
      const { job } = (await (await post('/api/accounts/carol/rewind', { at })).json()) as { job: JobView }
      expect(await finished(job.id)).toMatchObject({ state: 'failed', status: 409, error: expect.stringContaining('carol is under legal hold') })
      expect(await readAccount(d, 'carol')).toEqual(hijacked)
    })
  })

  describeWithService(chromiumAvailable(), 'Chromium (browser)')('in Chromium', () => {
    let browser: Browser
    let page: Page
    const errors: string[] = []

    beforeAll(async () => {
      browser = await launchChromium()
      const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, timezoneId: ZONE, locale: 'en-GB' })
      page = await context.newPage()
      page.on('pageerror', (e) => errors.push(e.message))
    })

    afterAll(async () => {
      await browser?.close()
    })

    it('"Rewind to this instant" shows the plan grouped by action with counts; the run needs the account typed; Cancel writes nothing; the confirmed run ends done', async () => {
      const at = await capturedThen('erin')
      const before = await readAccount(d, 'erin')
      await hijack(d, 'erin')
      const hijacked = await readAccount(d, 'erin')

      await page.goto(server.base)
      await page.fill('#token', TOKEN)
      await page.click('#login-form button')
      await page.locator('#list tbody tr').first().waitFor()
      await page.selectOption('#account', 'erin')
      // The instant after erin's capture, typed in the viewer's zone: the list shows the account then.
      await page.fill('#at', new Date(at).toLocaleString('sv-SE', { timeZone: ZONE }).replace(' ', 'T'))
      await page.locator('#count', { hasText: /^4 items$/ }).waitFor()
      expect((await page.locator('#list td.subject').allTextContents()).sort()).toEqual(['Budget', 'Lunch', 'Spec', 'Travel'])

      await page.click('#rewind-open')
      await page.locator('#rw-plan .counts').waitFor()
      const plan = cli('doRewind', 'erin', new Date(at).toISOString(), 'dry_run', 'true') as Preview
      expect(plan.plan.counts).toEqual(HIJACK_COUNTS)
      expect(await page.locator('#rw-plan .counts').textContent()).toBe(`6 actions: ${plan.plan.groups.map((g) => `${g.group} ${g.count}`).join(', ')}.`)
      expect(await page.locator('#rw-plan .rewind-group h4').allTextContents()).toEqual(plan.plan.groups.map((g) => `${g.group}: ${g.count}`))
      expect(await page.locator('#rw-plan .rewind-group li').allTextContents()).toEqual(plan.plan.groups.flatMap((g) => g.actions.map((a) => a.description)))
      expect(await page.textContent('#rewind h3')).toContain('Rewind erin to')
      await page.locator('#rewind').scrollIntoViewIfNeeded()
      await screenshot(page, 'console-rewind-1-plan')

      // The confirm step: the run stays off until the account's name is typed exactly.
      expect(await page.isDisabled('#rw-run')).toBe(true)
      await page.fill('#rw-confirm', 'eri')
      expect(await page.isDisabled('#rw-run')).toBe(true)
      await page.fill('#rw-confirm', 'erin')
      expect(await page.isDisabled('#rw-run')).toBe(false)
      // Cancel: the panel closes, no job starts, no operation is recorded, the server is untouched.
      await page.click('#rw-cancel')
      expect(await page.isHidden('#rewind')).toBe(true)
      await pause(500)
      expect((await get<{ jobs: JobView[] }>('/api/jobs')).jobs.filter((j) => j.verb === 'doRewind' && JSON.stringify(j).includes('erin'))).toEqual([])
      expect(rewinds().filter((o) => o.params?.account === 'erin')).toEqual([])
      expect(await readAccount(d, 'erin')).toEqual(hijacked)

      // Opened again, confirmed: the run is a job followed in the panel to its report.
      await page.click('#rewind-open')
      await page.locator('#rw-plan .counts').waitFor()
      await page.fill('#rw-confirm', 'erin')
      await page.click('#rw-run')
      await page.locator('#rw-job h3', { hasText: /doRewind: (done|partial|failed|stopped)/ }).waitFor({ timeout: 120_000 })
      expect(await page.textContent('#rw-job h3')).toBe('doRewind: done')
      expect(
        await page
          .locator('#rw-job .report tr', { hasText: /^state/ })
          .locator('td')
          .textContent(),
      ).toBe('done')
      expect(await page.locator('#rw-job .differences').count()).toBe(0)
      expect(await readAccount(d, 'erin')).toEqual(expectedAfter(before, hijacked, keepFolderToday()))
      expect(rewinds().filter((o) => o.params?.account === 'erin')).toHaveLength(1)
      await screenshot(page, 'console-rewind-2-report')
      expect(errors).toEqual([])
    })
  })
})
