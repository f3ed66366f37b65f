/**
 * Hostile mail in the console: a message whose subject and sender are HTML, in a folder whose name
 * is HTML, is captured from a real Dovecot and shown in Chromium. Every one of them must read as
 * text: no element is made from them and no script runs (the page never parses untrusted text as
 * markup; the CSP would also refuse inline script, so the test checks the DOM, not only the flag).
 */
import * as path from 'path'
import type { Browser, Page } from 'playwright-core'
import { mailtime } from '../support/cli'
import { chromiumAvailable, launchChromium, screenshot } from '../support/browser'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { type Served, startServe } from '../support/serve'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(120_000)

const TOKEN = 'xss-token-0123456789abcdef'
const SUBJECT = `<script>window.__xss='script'</script><img src=x onerror="window.__xss='img'">Invoice`
const SENDER = `<img src=y onerror=window.__xss='from'>`
const FOLDER = '<svg onload=alert(1)>Evil' // no '.': Dovecot's hierarchy separator

describeWithService(chromiumAvailable() && dovecotAvailable(), 'Chromium and Dovecot')('hostile subjects, senders and folder names in the console', () => {
  let d: Dovecot
  let server: Served
  let browser: Browser
  let page: Page
  const dialogs: string[] = []

  beforeAll(async () => {
    d = await startDovecot({ mallory: 'mallorypw' })
    const dir = tmpDir()
    const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const c = clientAs(d, 'mallory')
    await c.connect()
    await c.mailboxCreate(FOLDER)
    const raw = `From: "${SENDER}" <evil@example.com>\r\nTo: mallory@example.com\r\nSubject: ${SUBJECT}\r\nMessage-ID: <xss-1@example.com>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nHello\r\n`
    await c.append('INBOX', Buffer.from(raw), [], new Date('2026-03-02T10:00:00Z'))
    await c.append(FOLDER, Buffer.from(raw.replace('xss-1', 'xss-2')), [], new Date('2026-03-02T10:00:00Z'))
    await c.logout()
    const env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    const scan = mailtime([...store, 'doAccountScan', 'mallory'], env)
    if (scan.code !== 0) throw new Error(`scan exited ${scan.code}: ${scan.stderr}`)
    server = await startServe(store, [], { MAILTIME_API_TOKEN: TOKEN })
    browser = await launchChromium()
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage()
    page.on('dialog', (dl) => {
      dialogs.push(dl.message())
      void dl.dismiss()
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('shows them as text, makes no element of them, and runs no script', async () => {
    await page.goto(server.base)
    await page.fill('#token', TOKEN)
    await page.click('#login-form button')
    await page.locator('#list tbody tr').nth(1).waitFor()
    const subjects = await page.locator('#list td.subject').allTextContents()
    expect(subjects).toEqual([SUBJECT, SUBJECT])
    expect(await page.locator('#list td').evaluateAll((cells) => cells.reduce((n, c) => n + c.children.length, 0))).toBe(0)
    expect(await page.locator('#list tbody tr').first().textContent()).toContain(SENDER)
    expect(await page.locator('#folders .name').allTextContents()).toContain(FOLDER)
    await page.locator('#folders button', { hasText: 'Evil' }).click()
    await page.locator('#count', { hasText: /^1 item$/ }).waitFor()
    await page.locator('#list tbody tr').first().click()
    await page.locator('#item h3').waitFor()
    expect(await page.locator('#item h3').textContent()).toBe(SUBJECT)
    expect(await page.locator('#item').textContent()).toContain(FOLDER)
    await screenshot(page, 'console-xss')
    // Nothing the mail carried became an element anywhere on the page, and nothing ran.
    expect(await page.locator('main script, main img').count()).toBe(0)
    expect(await page.locator('main svg').count()).toBe(1) // the activity plot, and only it
    expect(await page.evaluate(() => (globalThis as { __xss?: string }).__xss)).toBeUndefined()
    expect(dialogs).toEqual([])
  })
})
