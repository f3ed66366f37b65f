/**
 * Input checks as an admin meets them: a misspelt key anywhere in the config file, an unknown verb,
 * an impossible date, and dates that are accepted but deserve a note (in the future).
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime, withoutTestWarning } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const END = '2026-03-10T00:00:00Z'
const NOW = { MAILTIME_NOW: '2026-03-10T00:00:00Z' }
const notes = withoutTestWarning
let store: string[] = []

beforeAll(() => {
  store = ['--store', `sqlite:${path.join(tmpDir(), 'a.db')}`, '--tz', 'UTC']
  const r = mailtime([...store, 'demo', 'end', END])
  if (r.code !== 0) throw new Error(`demo failed: ${r.stderr}`)
})

describe('input checks', () => {
  it('a misspelt nested config key stops the command with exit 2, naming the file, the key and the keys known there', () => {
    const file = path.join(tmpDir(), 'mailtime.json')
    fs.writeFileSync(file, JSON.stringify({ imap: { url: 'imap://127.0.0.1:143', usr: 'admin' } }))
    const r = mailtime([...store, '--config', file, 'getAvailableAccounts'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`mailtime: config file ${file}: unknown key "imap.usr" (known: url, user, password, accounts, passwords, connections)\n`)
  })

  it('an unknown verb is one line with the mailtime: prefix, and a near miss gets a suggestion', () => {
    const r = mailtime([...store, 'frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('mailtime: unknown verb "frobnicate" (mailtime --help lists the verbs)\n')
    const near = mailtime([...store, 'getitm', 'alice@example.com', '300'])
    expect(near.code).toBe(2)
    expect(near.stderr).toBe('mailtime: unknown verb "getitm" (did you mean getItem?)\n')
    const flag = mailtime([...store, '--colour', 'getAvailableAccounts'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toMatch(/^mailtime: unknown option '--colour'/)
  })

  it.each([
    ['03/03/2026 25:00:00', 'hour 25 is out of range (00–23)'],
    ['03/03/2026 10:61', 'minute 61 is out of range (00–59)'],
    ['03/13/2026', 'month 13 is out of range (01–12)'],
    ['31/02/2026 10:00:00', 'day 31 does not exist in that month'],
    ['2026-03-01T24:30:00', 'hour 24 is out of range (00–23)'],
  ])('an impossible date %s says which part is out of range, in plain words', (date, reason) => {
    const r = mailtime([...store, 'getAccountState', 'alice@example.com', 'date', date])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`bad date ${JSON.stringify(date)}: ${reason}.`)
    expect(r.stderr).not.toMatch(/as a \w+, which is invalid|of type number/)
  })

  it('a date in the future is accepted with a note on stderr, also with --json (whose stdout stays one JSON document); --quiet silences it', () => {
    const future = '2026-04-01T00:00:00Z'
    const text = mailtime([...store, 'getAccountState', 'alice@example.com', 'date', future], NOW)
    expect(text.code).toBe(0)
    expect(notes(text.stderr)).toBe(
      'mailtime: note: date 01/04/2026 00:00:00 +00:00 is in the future (now is 10/03/2026 00:00:00 +00:00); the backup holds nothing later than now\n',
    )
    const json = mailtime([...store, '--json', 'getAccountState', 'alice@example.com', 'date', future], NOW)
    expect(json.code).toBe(0)
    expect(json.stderr).toContain('is in the future')
    expect(JSON.parse(json.stdout).account).toBe('alice@example.com')
    expect(json.stdout).not.toContain('future')
    expect(notes(mailtime([...store, '--quiet', 'getAccountState', 'alice@example.com', 'date', future], NOW).stderr)).toBe('')
    for (const args of [
      ['getItem', 'alice@example.com', '300', 'date', future],
      ['diff', 'alice@example.com', '2026-03-01T00:00:00Z', future],
      ['getAccountState', 'alice@example.com', 'known_at', future],
    ])
      expect(mailtime([...store, ...args], NOW).stderr).toContain('is in the future')
  })

  it('a date in the past, last and first give no note; a Carbonio account has no first scan to be before', () => {
    for (const date of ['2025-11-01T00:00:00Z', '2026-03-01T00:00:00Z', 'last'])
      expect(notes(mailtime([...store, 'getAccountState', 'alice@example.com', 'date', date], NOW).stderr)).toBe('')
    expect(notes(mailtime([...store, 'diff', 'alice@example.com', 'first', 'last'], NOW).stderr)).toBe('')
  })
})
