/**
 * The demo's guided tour states facts about the store it wrote; each is checked here against the
 * verb a user would run to see the same thing.
 */
import * as path from 'path'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const END = '2026-11-26T11:00:00Z'

describe('the demo tour', () => {
  const store = () => ['--store', `sqlite:${path.join(dir, 'demo.db')}`, '--tz', 'Europe/Rome']
  let dir: string
  let tour: string
  beforeAll(() => {
    dir = tmpDir()
    const r = mailtime([...store(), 'demo', 'end', END])
    if (r.code !== 0) throw new Error(`demo failed: ${r.stderr}`)
    tour = r.stdout
  })

  it('counts the items that were there before the mass deletion and are gone now as diff counts them (the set, not two counts subtracted)', () => {
    const gone = /(\d+) items that are gone now were there then/.exec(tour)
    expect(gone).not.toBeNull()
    const meta = JSON.parse(mailtime([...store(), '--json', 'demo', 'end', END]).stdout) as { accounts: { account: string; massDeletionAt: string }[] }
    const wipe = meta.accounts.find((a) => a.account === 'alice@example.com')?.massDeletionAt
    expect(wipe).toBeDefined()
    const before = new Date(Date.parse(wipe as string) - 60_000).toISOString()
    const d = mailtime([...store(), '--json', 'diff', 'alice@example.com', before, 'last'])
    expect(d.code).toBe(0)
    const removed = (JSON.parse(d.stdout) as { removed: unknown[] }).removed.length
    expect(Number(gone?.[1])).toBe(removed)
  })

  it('prints the same text for the same end instant, so that the docs can show it as it is', () => {
    const other = tmpDir()
    const r = mailtime(['--tz', 'Europe/Rome', 'demo', 'end', END], {}, other)
    const again = mailtime(['--tz', 'Europe/Rome', 'demo', 'end', END], {}, tmpDir())
    expect(r.code).toBe(0)
    expect(again.stdout).toBe(r.stdout)
  })
})
