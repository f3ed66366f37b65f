/**
 * The core CLI as a user runs it: the demo, time-travel queries, stable --json output, and one-line
 * errors with documented exit codes.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const END = '2026-03-10T00:00:00Z'
let dir: string
let store: string
const on = (s: string) => ['--store', `sqlite:${s}`, '--tz', 'Europe/Rome']

beforeAll(() => {
  dir = tmpDir()
  store = path.join(dir, 'a.db')
  const r = mailtime([...on(store), 'demo', 'end', END])
  if (r.code !== 0) throw new Error(`demo failed: ${r.stderr}`)
})

describe('mailtime demo', () => {
  it('writes three accounts and a guided tour, and appends nothing the second time', () => {
    const again = mailtime([...on(store), 'demo', 'end', END])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('already in this store')
    const accounts = JSON.parse(mailtime([...on(store), '--json', 'getAvailableAccounts']).stdout)
    expect(accounts.accounts.map((a: { account: string }) => a.account)).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com'])
    const items = accounts.accounts.reduce((n: number, a: { events: number }) => n + a.events, 0)
    expect(items).toBeGreaterThan(10_000)
  })

  it('runs with the embedded defaults in an empty directory (./mailtime-data)', () => {
    const cwd = tmpDir()
    const r = mailtime(['demo', 'end', END], {}, cwd)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('1. alice@example.com now')
    expect(r.stdout).toContain('before the mass deletion')
    expect(fs.existsSync(path.join(cwd, 'mailtime-data', 'mailtime.db'))).toBe(true)
    expect(fs.readdirSync(path.join(cwd, 'mailtime-data', 'blobs')).length).toBeGreaterThan(100)
  })
})

describe('time travel from the command line', () => {
  const demoMeta = () => JSON.parse(mailtime([...on(store), '--json', 'demo', 'end', END]).stdout).accounts[0]

  it("getItem date all shows an item's whole life in the chosen zone: created, moved to Trash, deleted", () => {
    const { showcaseItem } = demoMeta()
    const r = mailtime([...on(store), '--json', 'getItem', 'alice@example.com', String(showcaseItem), 'date', 'all'])
    expect(r.code).toBe(0)
    const j = JSON.parse(r.stdout)
    const causes: string[] = j.versions.map((v: { cause: string }) => v.cause)
    expect(causes[0]).toBe('ItemCreated')
    expect(causes[causes.length - 1]).toBe('ItemDeleted')
    const trash = j.versions.find((v: { cause: string; state: { folderPath: string } }) => v.cause === 'ItemMoved' && v.state.folderPath === '/Trash')
    expect(trash).toBeDefined()
    expect(j.versions[0].validFrom).toMatch(/\+0[12]:00$/)
    const text = mailtime([...on(store), 'getItem', 'ALICE@example.com', String(showcaseItem), 'date', 'all']).stdout
    expect(text).toContain('times in Europe/Rome')
    expect(text).toMatch(/ItemDeleted\s+deleted\s+\/Trash/)
  })

  it('the account before the mass deletion holds the messages that are gone after it', () => {
    const { massDeletionAt } = demoMeta()
    const before = new Date(Date.parse(massDeletionAt) - 60_000).toISOString()
    const after = new Date(Date.parse(massDeletionAt) + 3_600_000).toISOString()
    const b = JSON.parse(mailtime([...on(store), '--json', 'getAccountState', 'alice@example.com', 'date', before]).stdout)
    const a = JSON.parse(mailtime([...on(store), '--json', 'getAccountState', 'alice@example.com', 'date', after]).stdout)
    const inbox = (v: { folders: { path: string; itemCount: number }[] }) => v.folders.find((f) => f.path === '/Inbox')?.itemCount
    expect(inbox(b)).toBeGreaterThan(100)
    expect(inbox(a)).toBeLessThan((inbox(b) ?? 0) / 10)
    const d = JSON.parse(mailtime([...on(store), '--json', 'diff', 'alice@example.com', before, after]).stdout)
    expect(d.removed.length).toBeGreaterThan(100)
    const s = JSON.parse(mailtime([...on(store), '--json', 'doItemSearch', 'alice@example.com', 'after', before, 'before', after]).stdout)
    expect(s.count).toBe(d.removed.filter((i: { itemType: string }) => i.itemType === 'message').length)
  })

  it('prints identical JSON bytes for two stores holding the same events, and after an index rebuild', () => {
    const other = path.join(tmpDir(), 'b.db')
    expect(mailtime([...on(other), 'demo', 'end', END]).code).toBe(0)
    const q = ['--json', 'getAccountState', 'bob@example.com', 'date', '2026-02-20T12:00:00Z']
    const x = mailtime([...on(store), ...q]).stdout
    expect(mailtime([...on(other), ...q]).stdout).toBe(x)
    expect(mailtime([...on(other), 'rebuildIndex']).code).toBe(0)
    expect(mailtime([...on(other), ...q]).stdout).toBe(x)
    expect(x.length).toBeGreaterThan(10_000)
  })

  it('getAccountInfo and doItemSearch answer about a renamed folder and deleted items', () => {
    const info = JSON.parse(mailtime([...on(store), '--json', 'getAccountInfo', 'bob@example.com']).stdout)
    expect(info).toMatchObject({ account: 'bob@example.com', legalHold: null })
    expect(info.deletions).toBeGreaterThan(0)
    const folders = JSON.parse(mailtime([...on(store), '--json', 'doItemSearch', 'bob@example.com', 'type', 'folder']).stdout)
    expect(folders.items.map((f: { name: string }) => f.name)).toContain('Newsletters')
  })
})

describe('errors: one line on stderr and a documented exit code', () => {
  it('an unknown account exits 3 and lists the accounts there are', () => {
    const r = mailtime([...on(store), 'getAccountState', 'nobody@example.com'])
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toContain('unknown account "nobody@example.com"')
    expect(r.stderr).toContain('alice@example.com')
  })

  it('an item that never existed exits 3; a malformed item id exits 2', () => {
    expect(mailtime([...on(store), 'getItem', 'alice@example.com', '99999999']).code).toBe(3)
    expect(mailtime([...on(store), 'getItem', 'alice@example.com', 'abc']).code).toBe(2)
  })

  it('a bad date exits 2, and a DST gap names both candidates', () => {
    const bad = mailtime([...on(store), 'getAccountState', 'alice@example.com', 'date', '31/02/2026 10:00:00'])
    expect(bad.code).toBe(2)
    const gap = mailtime([...on(store), 'getAccountState', 'alice@example.com', 'date', '29/03/2026 02:30:00'])
    expect(gap.code).toBe(2)
    expect(gap.stderr).toContain('2026-03-29T01:30:00+01:00')
    expect(gap.stderr).toContain('2026-03-29T03:30:00+02:00')
  })

  it('a store that cannot be opened exits 4 without a stack trace', () => {
    const junk = path.join(tmpDir(), 'junk.db')
    fs.writeFileSync(junk, 'not a database '.repeat(500))
    const r = mailtime(['--store', `sqlite:${junk}`, 'getAvailableAccounts'])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(junk)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('an event that no longer decodes exits 4 naming stream and revision; --debug adds the stack', () => {
    const copy = path.join(tmpDir(), 'corrupt.db')
    fs.copyFileSync(store, copy)
    for (const ext of ['-wal', '-shm']) if (fs.existsSync(store + ext)) fs.copyFileSync(store + ext, copy + ext)
    const Database = require('better-sqlite3')
    const db = new Database(copy)
    db.prepare("UPDATE events SET data = replace(data, '\"ItemMoved\"', '\"ItemTeleported\"') WHERE stream = 'account-carol@example.com' AND type = 'ItemMoved'").run()
    db.prepare("DELETE FROM checkpoints WHERE name = 'index:global_position'").run()
    db.close()
    const r = mailtime(['--store', `sqlite:${copy}`, 'getAccountState', 'carol@example.com'])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/stored event account-carol@example.com@\d+ cannot be decoded/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    const d = mailtime(['--store', `sqlite:${copy}`, '--debug', 'getAccountState', 'carol@example.com'])
    expect(d.stderr).toMatch(/\n\s+at /)
  })

  it('an unknown verb or attribute is a usage error (exit 2); --help exits 0 and lists the verbs', () => {
    expect(mailtime([...on(store), 'doSomething']).code).toBe(2)
    expect(mailtime([...on(store), 'getItem', 'alice@example.com', '300', 'colour', 'red']).code).toBe(2)
    const h = mailtime(['--help'])
    expect(h.code).toBe(0)
    for (const v of ['getItem', 'getAccountState', 'doItemSearch', 'diff', 'getAvailableAccounts', 'getAccountInfo', 'demo']) expect(h.stdout).toContain(v)
    const vh = mailtime(['getitem', '--help'])
    expect(vh.stdout).toContain('Attributes:')
  })
})
