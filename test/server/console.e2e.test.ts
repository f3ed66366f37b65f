/**
 * The web console in a real browser (Debian's Chromium, driven by playwright-core), against
 * `mailtime serve` over a store the demo filled: sign in, move the slider to before the demo's mass
 * deletion and see the deleted messages come back, open an item's history, preview an undelete,
 * preview and run a restore into a new account (the folders it recreates named) and an export,
 * following each to its report. An account captured from a real Dovecot, whose deletions two scans
 * could only bound, shows the undelete window's note and the deleted folders it recreates.
 * Screenshots are kept in test-artifacts/.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import type { Browser, Page } from 'playwright-core'
import { mailtime } from '../support/cli'
import { clockPast, iso, nextWholeSecond } from '../support/clock'
import { chromiumAvailable, launchChromium, screenshot } from '../support/browser'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
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

interface DryRun {
  plan: { counts: { items: number; folderItems: number; folders: number; unrestorable: number }; folderItems: { folder: string }[] }
  possiblyInWindow?: { from: string; to: string; deletions: number }[]
}

const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`

/** The plan's counts as the page words them. */
const countsText = (c: DryRun['plan']['counts'], into = '') =>
  `${n(c.items + c.folderItems, 'item', 'items')} would be restored${into}: ${n(c.items, 'message', 'messages')} in ${n(c.folders, 'folder', 'folders')}${
    c.folderItems > 0 ? `, and ${n(c.folderItems, 'folder', 'folders')} recreated as items` : ''
  }; ${c.unrestorable} unrestorable.`

/** An instant as a `datetime-local` value with seconds in ZONE (the reverse of `zoned`). */
const local = (t: number): string => new Date(t).toLocaleString('sv-SE', { timeZone: ZONE }).replace(' ', 'T')

/** An instant as the page shows it, in ZONE. */
const shown = (iso: string) => new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: ZONE }).format(new Date(iso))

const msg = (subject: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: dave@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\nDate: Mon, 02 Feb 2026 10:00:00 +0000\r\n\r\nHello ${subject}\r\n`,
  )

describeWithService(chromiumAvailable() && dovecotAvailable(), 'Chromium (browser) and Dovecot')('the web console in Chromium', () => {
  let dir: string
  let store: string[]
  let server: Served
  let browser: Browser
  let page: Page
  let massDeletionAt: number
  let d: Dovecot
  /** Whole seconds, real instants: after dave's first scan (narrow window's start), before his second (its end), and after the second. */
  let windowFrom = 0
  let windowTo = 0
  let afterScans = 0
  const errors: string[] = []
  const cli = (...words: string[]) => {
    const r = mailtime([...store, '--json', ...words])
    if (r.code !== 0) throw new Error(`${words[0]} exited ${r.code}: ${r.stderr}`)
    return JSON.parse(r.stdout) as unknown
  }
  const scan = (account: string) => {
    const r = mailtime([...store, 'doAccountScan', account], { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' })
    if (r.code !== 0) throw new Error(`doAccountScan exited ${r.code}: ${r.stderr}`)
  }

  beforeAll(async () => {
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const demo = cli('demo', 'end', END) as { accounts: { account: string; massDeletionAt: string | null }[] }
    massDeletionAt = Date.parse(demo.accounts.find((a) => a.account === 'alice@example.com')?.massDeletionAt ?? '')
    // dave, captured from a real Dovecot by two scans on the real clock; between them two messages and
    // a folder with its subfolder and message were deleted: deletions the scans can only bound. The
    // page's windows are in whole seconds, so the scans are more than two seconds apart: the window
    // windowFrom..windowTo lies strictly between them.
    d = await startDovecot({ dave: 'davepw' })
    const doveadm = (...args: string[]) => execFileSync('/usr/bin/doveadm', ['-c', path.join(d.dir, 'dovecot.conf'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
    doveadm('mailbox', 'create', '-u', 'dave', 'Old', 'Old.Sub')
    const c = clientAs(d, 'dave')
    await c.connect()
    for (const subject of ['One', 'Two', 'Three']) await c.append('INBOX', msg(subject), [], new Date('2026-02-20T09:00:00Z'))
    await c.append('Old', msg('Filed'), ['\\Seen'], new Date('2026-02-21T09:00:00Z'))
    await c.logout()
    scan('dave')
    windowFrom = nextWholeSecond(Date.now())
    windowTo = windowFrom + 1000
    await clockPast(windowTo)
    const c2 = clientAs(d, 'dave')
    await c2.connect()
    const lock = await c2.getMailboxLock('INBOX')
    await c2.messageDelete('1:2')
    lock.release()
    await c2.logout()
    doveadm('mailbox', 'delete', '-u', 'dave', '-r', 'Old')
    scan('dave')
    afterScans = nextWholeSecond(Date.now())
    await clockPast(afterScans)
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
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  const rows = () => page.locator('#list tbody tr')
  const waitForCount = (text: RegExp) => page.locator('#count', { hasText: text }).waitFor()

  it("asks for the token, refuses a wrong one, and shows the account in the viewer's time zone", async () => {
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
    const removed = (cli('diff', 'alice@example.com', new Date(massDeletionAt - 60_000).toISOString(), new Date(massDeletionAt + 60_000).toISOString()) as { removed: Item[] })
      .removed
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
    const history = cli(
      'getItem',
      'alice@example.com',
      String((await page.locator('#list tbody tr', { hasText: gone.subject }).first().getAttribute('data-item')) ?? ''),
      'date',
      'all',
    ) as { versions: { cause: string }[] }
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
    const plan = cli('doUndelete', 'alice@example.com', new Date(zoned(from)).toISOString(), new Date(zoned(to)).toISOString(), 'dry_run', 'true') as DryRun
    expect(plan.plan.counts.items).toBeGreaterThan(1000)
    expect(await page.textContent('#plan .counts')).toBe(countsText(plan.plan.counts))
    // The demo's window holds messages only: no folder list, and no note about the window.
    expect(plan.plan.counts.folderItems).toBe(0)
    expect(await page.locator('#plan .plan-folders, #plan .window-note').count()).toBe(0)
    await screenshot(page, 'console-4-undelete-plan')
  })

  it('previews a restore into a new account, naming every folder it recreates, empty ones included', async () => {
    const at = new Date(Number(await page.inputValue('#slider'))).toISOString()
    await page.fill('#rna-dest', 'alice.before@example.com')
    await page.click('#rna-preview')
    await page.locator('#plan .plan-folders li').first().waitFor()
    const plan = cli('doRestoreOnNewAccount', 'alice@example.com', 'alice.before@example.com', at, 'dry_run', 'true') as DryRun
    expect(plan.plan.counts.folderItems).toBeGreaterThan(0)
    expect(await page.textContent('#plan .counts')).toBe(countsText(plan.plan.counts, ' into alice.before@example.com'))
    expect(await page.locator('#plan .plan-folders li').allTextContents()).toEqual(plan.plan.folderItems.map((f) => `/${f.folder}`))
    await page.locator('#plan').scrollIntoViewIfNeeded()
    await screenshot(page, 'console-4b-restore-plan')
  })

  it('runs a restore into a new account and an export, each followed to its report', async () => {
    await page.fill('#rna-dest', 'alice.before@example.com')
    await page.click('#rna-run')
    await page.locator('#job h3', { hasText: /doRestoreOnNewAccount: (done|partial)/ }).waitFor({ timeout: 120_000 })
    const restored = Number(
      await page
        .locator('#job .report tr', { hasText: /^restored/ })
        .locator('td')
        .textContent(),
    )
    expect(restored).toBeGreaterThan(1000)
    const ops = cli('getAllOperations') as { operations: { verb: string; restored: number; operationId: string }[] }
    const runs = ops.operations.filter((o) => o.verb === 'doRestoreOnNewAccount')
    expect(runs.map((o) => o.restored)).toEqual([restored])
    expect(fs.existsSync(path.join(dir, 'restored'))).toBe(true)
    // The report names the folders the restore recreated: every user folder of the account then.
    const state = cli('getAccountState', 'alice@example.com', 'date', new Date(Number(await page.inputValue('#slider'))).toISOString()) as {
      folders: { folderId: number; path: string; system: boolean }[]
    }
    const userFolders = state.folders.filter((f) => !f.system)
    expect(userFolders.length).toBeGreaterThan(0)
    expect((await page.locator('#job .folders-recreated li').allTextContents()).sort()).toEqual(userFolders.map((f) => f.path).sort())
    await screenshot(page, 'console-5-restore-report')

    await page.click('#exp-preview')
    await page.locator('#plan h3', { hasText: /Export preview/ }).waitFor()
    expect(
      Number(
        await page
          .locator('#plan .report tr', { hasText: /^itemChanges/ })
          .locator('td')
          .textContent(),
      ),
    ).toBeGreaterThan(1000)
    await page.click('#exp-run')
    await page.locator('#job h3', { hasText: /exportHistory: done/ }).waitFor({ timeout: 120_000 })
    const dest = await page.locator('#job .report tr', { hasText: /^dest/ }).locator('td').textContent()
    expect(path.dirname(dest ?? '')).toBe(path.join(dir, 'exports'))
    expect(mailtime([...store, 'verifyExport', dest ?? '']).code).toBe(0)
    await screenshot(page, 'console-6-export-report')
    expect(errors).toEqual([])
  })

  it('an undelete window between two scans says how many deletions the scans could only bound, in the preview and in the report; widened, it recreates the deleted folders', async () => {
    await page.fill('#filter', '')
    await page.selectOption('#account', 'dave')
    const narrow = cli('doUndelete', 'dave', iso(windowFrom), iso(windowTo), 'dry_run', 'true') as DryRun
    const bounded = narrow.possiblyInWindow?.[0]
    // Opening an account aims the undelete at its day of most deletions (in Rome: the day of the
    // second scan, which recorded them): wait for that, so that the window typed below is not overwritten.
    const day = local(Date.parse(bounded?.to ?? '')).slice(0, 10)
    await page.waitForFunction(`document.getElementById('und-to')?.value === '${day}T23:59:59'`)
    await waitForCount(/^1 item$/)
    // Between the two scans, where dave remembers deleting.
    await page.fill('#und-from', local(windowFrom))
    await page.fill('#und-to', local(windowTo))
    await page.click('#und-preview')
    await page.locator('#plan .window-note').waitFor()
    expect(narrow.possiblyInWindow).toHaveLength(1)
    expect(bounded?.deletions).toBe(5)
    const note = `0 items deleted in this window; 5 deletions were recorded between ${shown(bounded?.from ?? '')} and ${shown(bounded?.to ?? '')}, whose exact instants are unknown — widen the window or import the server's log`
    expect(await page.textContent('#plan .window-note')).toBe(note)
    expect(await page.textContent('#plan .counts')).toBe(countsText(narrow.plan.counts))
    await page.locator('#plan').scrollIntoViewIfNeeded()
    await screenshot(page, 'console-7-undelete-window-note')
    // Run as it is, the undelete restores nothing, and its report says why.
    await page.click('#und-run')
    await page.locator('#job h3', { hasText: /doUndelete: done/ }).waitFor({ timeout: 120_000 })
    expect(await page.textContent('#job .window-note')).toBe(note)

    // Widened to the second scan: two messages, and the deleted folder with its subfolder and message.
    await page.fill('#und-to', local(afterScans))
    await page.click('#und-preview')
    await page.locator('#plan .plan-folders li').first().waitFor()
    const wide = cli('doUndelete', 'dave', iso(windowFrom), iso(afterScans), 'dry_run', 'true') as DryRun
    expect(wide.plan.counts).toMatchObject({ items: 3, folderItems: 2, unrestorable: 0 })
    expect(await page.textContent('#plan .counts')).toBe(countsText(wide.plan.counts))
    expect(await page.locator('#plan .plan-folders li').allTextContents()).toEqual(['/Old', '/Old/Sub'])
    expect(await page.locator('#plan .window-note').count()).toBe(0)
    await page.click('#und-run')
    await page.locator('#job h3', { hasText: /doUndelete: done/ }).waitFor({ timeout: 120_000 })
    expect(await page.locator('#job .folders-recreated li').allTextContents()).toEqual(['/Old', '/Old/Sub'])
    expect(
      Number(
        await page
          .locator('#job .report tr', { hasText: /^restored/ })
          .locator('td')
          .textContent(),
      ),
    ).toBe(5)
    await page.locator('#job .folders-recreated').scrollIntoViewIfNeeded()
    await screenshot(page, 'console-8-undelete-folders-report')
    expect(errors).toEqual([])
  })
})
