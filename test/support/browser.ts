/**
 * Debian's Chromium driven by playwright-core, as docs/api.md runs it: headless, no sandbox (CI runs
 * as root), and none of the background connections this machine's closed network refuses.
 * Screenshots go to test-artifacts/ (or MAILTIME_ARTIFACTS), kept after the run.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Browser, type Page, chromium } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'
export const chromiumAvailable = (): boolean => fs.existsSync(CHROMIUM)

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })

export const ARTIFACTS = process.env.MAILTIME_ARTIFACTS ?? path.join(__dirname, '..', '..', 'test-artifacts')

export const screenshot = async (page: Page, name: string): Promise<string> => {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  const file = path.join(ARTIFACTS, `${name}.png`)
  await page.screenshot({ path: file })
  return file
}
