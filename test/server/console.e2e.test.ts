/**
 * The web console in a real browser (Debian's Chromium, driven by playwright-core), against
 * `mailtime serve` over a store the demo filled: sign in, move the slider to before the demo's mass
 * deletion and see the deleted messages come back, open an item's history, preview an undelete,
 * run a restore into a new account and an export, following each to its report. Screenshots are
 * kept in test-artifacts/.
 */
import * as fs from 'fs'
import * as path from 'path'
import type { Browser, Page } from 'playwright-core'
import { mailtime } from '../support/cli'
import { chromiumAvailable, launchChromium, screenshot } from '../support/browser'
import { describeWithService } from '../support/services'
import { type Served, startServe } from '../support/serve'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(180_000)

const END = '2026-03-10T00:00:00Z'
const TOKEN = 'console-token-0123456789abcdef'
const ZONE = 'Europe/Rome'

/** The instant a `datetime-local` value (with or without seconds) names in ZONE. */
const zoned = (local: string): number => {
  const guess = Date.parse(`${local}Z`)
  const offset = Date.parse(`${new Date(guess).toLocaleString('sv-SE', { timeZone: ZONE }).replace(' ', 'T')}Z`) - guess
  return guess - offset
}

interface Item {
  itemId: number
  itemType: string
  subject: string | null
  createdAt: string
}

describeWithService(chromiumAvailable(), 'Chromium (browser)')('the web console in Chromium', () => {
  let dir: string
  let store: string[]
  let server: Served
  let browser: Browser
  let page: Page
  let massDeletionAt: number
  const errors: string[] = []
  const cli = (...words: string[]) => {
    const r = mailtime([...store, '--json', ...words])
    if (r.code !== 0) throw new Error(`${words[0]} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as unknown
  }

  beforeAll(async () => {
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const demo = cli('demo', 'end', END) as { accounts: { account: string; massDeletionAt: string | null }[] }
    massDeletionAt = Date.parse(demo.accounts.find((a) => a.account === 'alice@example.com')?.massDeletionAt ?? '')
    server = await startServe(store, ['target', `maildir:${path.join(dir, 'restored')}`, 'exports', path.join(dir, 'exports')], { MAILTIME_API_TOKEN: TOKEN })
    browser = await launchChromium()
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, timezoneId: ZONE, locale: 'en-GB' })
    page = await context.newPage()
    page.on('pageerror', (e) => errors.push(e.message))
    page.on('dialog', (d) => void d.accept())
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    cleanupTmp()
  })

  const rows = () => page.locator('#list tbody tr')
  const waitForCount = (text: RegExp) => page.locator('#count', { hasText: text }).waitFor()

  it('asks for the token, refuses a wrong one, and shows the account in the viewer\'s time zone', async () => {
    await page.goto(server.base)
    await page.locator('#login').waitFor()
    await page.fill('#token', 'not-the-token-at-all')
    await page.click('#login-form button')
    await page.locator('#error', { hasText: /refused the token/ }).waitFor()
    await page.fill('#token', TOKEN)
    await page.click('#login-form button')
    await rows().first().waitFor()
    expect(await page.textContent('#zone')).toContain(ZONE)
    const latest = cli('getAccountState', 'alice@example.com') as { items: Item[] }
    const messages = latest.items.filter((i) => i.itemType !== 'folder').length
    await waitForCount(new RegExp(`^${messages} items$`))
    // The activity plot has one bar per day, and the mass deletion's day stands out in red.
    const deletedBars = await page.locator('#activity g.bucket rect.deleted').count()
    expect(deletedBars).toBeGreaterThan(0)
    expect(await page.textContent('#peak')).toMatch(/Most deletions: 1\d{3} in the day/)
    await screenshot(page, 'console-1-latest')
  })

  it('moves the slider to before the mass deletion, and the deleted messages come back in the list', async () => {
    const removed = (cli('diff', 'alice@example.com', new Date(massDeletionAt - 60_000).toISOString(), new Date(massDeletionAt + 60_000).toISOString()) as { removed: Item[] }).removed
    const target = massDeletionAt - 86_400_000
    const gone = removed.find((i) => i.itemType === 'message' && i.subject !== null && Date.parse(i.createdAt) < target - 86_400_000)
    if (gone?.subject == null) throw new Error('no deleted message to look for')
    // The subject is not in the latest list…
    await page.fill('#filter', gone.subject)
    await waitForCount(/^0 items$/)
    // …then the user drags the slider's thumb from its right end to a day before the deletion.
    const box = await page.locator('#slider').boundingBox()
    if (box === null) throw new Error('no slider')
    const [min, max] = await page.locator('#slider').evaluate((e) => [Number(e.getAttribute('min')), Number(e.getAttribute('max'))])
    if (min === undefined || max === undefined) throw new Error('no slider range')
    const thumb = 8
    const x = (ms: number) => box.x + thumb + ((box.width - 2 * thumb) * (ms - min)) / (max - min)
    await page.mouse.move(x(max), box.y + box.height / 2)
    await page.mouse.down()
    await page.mouse.move(x(target), box.y + box.height / 2, { steps: 12 })
    await page.mouse.up()
    const at = await page.locator('#slider').inputValue().then(Number)
    expect(at).toBeLessThan(massDeletionAt)
    expect(at).toBeGreaterThan(target - 2 * 86_400_000)
    await page.locator('#list tbody tr td.subject', { hasText: gone.subject }).first().waitFor()
    const before = (cli('getAccountState', 'alice@example.com', 'date', new Date(at).toISOString()) as { items: Item[] }).items
    const matching = before.filter((i) => i.itemType !== 'folder' && (i.subject ?? '').toLowerCase().includes(gone.subject?.toLowerCase() ?? ''))
    expect(await rows().count()).toBe(matching.length)
    // The date field and the label show the same instant, in the viewer's zone.
    expect(zoned(await page.inputValue('#at'))).toBe(Math.floor(at / 1000) * 1000)
    await page.fill('#filter', '')
    await waitForCount(/items/)
    const all = before.filter((i) => i.itemType !== 'folder').length
    await waitForCount(new RegExp(`of ${all} items`))
    await screenshot(page, 'console-2-before-deletion')

    // The item panel: every version of the deleted message, with what changed.
    await page.fill('#filter', gone.subject)
    await page.locator('#list tbody tr', { hasText: gone.subject }).first().click()
    await page.locator('#item ol.versions').waitFor()
    const history = cli('getItem', 'alice@example.com', String((await page.locator('#list tbody tr', { hasText: gone.subject }).first().getAttribute('data-item')) ?? ''), 'date', 'all') as { versions: { cause: string }[] }
    expect(await page.locator('#item ol.versions > li').count()).toBe(history.versions.length)
    expect(await page.textContent('#item')).toContain('ItemDeleted')
    expect(await page.textContent('#item')).toMatch(/live → deleted/)
    await screenshot(page, 'console-3-item-history')
  })

  it('previews an undelete of the deletion window and shows its plan', async () => {
    // The window was set to the day of most deletions when the account was opened; preview it.
    const from = await page.inputValue('#und-from')
    const to = await page.inputValue('#und-to')
    await page.click('#und-preview')
    await page.locator('#plan .counts').waitFor()
    expect(zoned(from)).toBeLessThanOrEqual(massDeletionAt)
    expect(zoned(to)).toBeGreaterThanOrEqual(massDeletionAt)
    const plan = cli('doUndelete', 'alice@example.com', new Date(zoned(from)).toISOString(), new Date(zoned(to)).toISOString(), 'dry_run', 'true') as { plan: { counts: { items: number; folders: number; unrestorable: number } } }
    expect(plan.plan.counts.items).toBeGreaterThan(1000)
    expect(await page.textContent('#plan .counts')).toBe(
      `${plan.plan.counts.items} items in ${plan.plan.counts.folders} folders would be restored; ${plan.plan.counts.unrestorable} unrestorable.`,
    )
    await screenshot(page, 'console-4-undelete-plan')
  })

  it('runs a restore into a new account and an export, each followed to its report', async () => {
    await page.fill('#rna-dest', 'alice.before@example.com')
    await page.click('#rna-run')
    await page.locator('#job h3', { hasText: /doRestoreOnNewAccount: (done|partial)/ }).waitFor({ timeout: 120_000 })
    const restored = Number(await page.locator('#job .report tr', { hasText: /^restored/ }).locator('td').textContent())
    expect(restored).toBeGreaterThan(1000)
    const ops = cli('getAllOperations') as { operations: { verb: string; restored: number }[] }
    expect(ops.operations.filter((o) => o.verb === 'doRestoreOnNewAccount').map((o) => o.restored)).toEqual([restored])
    expect(fs.existsSync(path.join(dir, 'restored'))).toBe(true)
    await screenshot(page, 'console-5-restore-report')

    await page.click('#exp-preview')
    await page.locator('#plan h3', { hasText: /Export preview/ }).waitFor()
    expect(Number(await page.locator('#plan .report tr', { hasText: /^itemChanges/ }).locator('td').textContent())).toBeGreaterThan(1000)
    await page.click('#exp-run')
    await page.locator('#job h3', { hasText: /exportHistory: done/ }).waitFor({ timeout: 120_000 })
    const dest = await page.locator('#job .report tr', { hasText: /^dest/ }).locator('td').textContent()
    expect(path.dirname(dest ?? '')).toBe(path.join(dir, 'exports'))
    expect(mailtime([...store, 'verifyExport', dest ?? '']).code).toBe(0)
    await screenshot(page, 'console-6-export-report')
    expect(errors).toEqual([])
  })
})
