/**
 * importLog never succeeds on a file it cannot use: a Dovecot log written with Dovecot's default
 * log_timestamp (no year), a garbage file, or a file mostly made of malformed lines stops the import
 * with exit 4, naming the file and its first bad line, and records nothing from it. A log with a
 * few malformed lines is still imported (they are counted and named).
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

describeWithService(dovecotAvailable(), 'Dovecot')('importLog refuses a file it cannot use', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  let real: string[]
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const events = () => (JSON.parse(mailtime([...store(), '--json', 'getAccountInfo', 'eve'], env).stdout) as { events?: number }).events ?? 0
  const write = (name: string, lines: readonly string[]) => {
    const f = path.join(dir, name)
    fs.writeFileSync(f, `${lines.join('\n')}\n`)
    return f
  }

  beforeAll(async () => {
    d = await startDovecot({ eve: 'evepw' })
    dir = tmpDir()
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }
    const c = clientAs(d, 'eve')
    await c.connect()
    for (const s of ['A', 'B', 'C']) await c.append('INBOX', Buffer.from(`Subject: ${s}\r\nMessage-ID: <${s}@eve>\r\n\r\n${s}\r\n`), [], new Date('2026-03-01T10:00:00Z'))
    expect(mailtime([...store(), 'doAccountScan', 'eve'], env).code).toBe(0)
    await c.mailboxOpen('INBOX')
    await c.messageFlagsAdd('1:3', ['\\Flagged'], { uid: true })
    await c.messageDelete('3', { uid: true })
    await c.logout()
    for (let i = 0; i < 200 && !/imap\(eve\).*expunge: box=INBOX, uid=3/.test(fs.readFileSync(d.logPath, 'utf8')); i++) await new Promise((r) => setTimeout(r, 50))
    real = fs
      .readFileSync(d.logPath, 'utf8')
      .split('\n')
      .filter((l) => /imap\(eve\)/.test(l))
    expect(real.length).toBeGreaterThan(3)
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it('a Dovecot log written with the default log_timestamp (no year) fails, naming the file, its first line and the setting', () => {
    // What Dovecot writes with log_timestamp = "%b %d %H:%M:%S ": the same lines, without a year.
    const noYear = real.map((l) => l.replace(/^\d{4}-(\d{2})-(\d{2}) /, (_m, mo: string, day: string) => `${MONTHS[Number(mo) - 1]} ${day} `))
    const f = write('dovecot-default.log', noYear)
    const before = events()
    for (const format of [[], ['format', 'dovecot']]) {
      const r = mailtime([...store(), 'importLog', f, ...format], env)
      expect(r.code).toBe(4)
      expect(r.stderr).toContain(`mailtime: ${f} is not a log importLog can read`)
      expect(r.stderr).toContain(`${noYear.length} of its ${noYear.length} lines are malformed, the first at line 1`)
      expect(r.stderr).toContain(JSON.stringify(noYear[0]).slice(0, 60))
      expect(r.stderr).toContain('log_timestamp = "%Y-%m-%d %H:%M:%S "')
      expect(r.stderr).toContain('no year')
    }
    expect(events()).toBe(before)
  })

  it('a garbage file fails with exit 4 and records nothing', () => {
    const before = events()
    const f = write('garbage.log', ['hello', 'this is not a log', '\u0000\u0001binary'])
    const r = mailtime([...store(), 'importLog', f, 'dry_run', 'true'], env)
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(`${f} is not a log importLog can read`)
    expect(r.stderr).toContain('the first at line 1')
    expect(mailtime([...store(), 'importLog', f], env).code).toBe(4)
    expect(events()).toBe(before)
  })

  it('a file with more malformed lines than usable ones fails and records nothing, even its usable lines; a few malformed lines do not stop an import', () => {
    const before = events()
    const bad = ['Dec 07 19:26:09 imap(eve)<1><x>: Info: expunge: box=INBOX, uid=1', 'garbage', 'more garbage']
    const mostly = write('mostly.log', [real[0] as string, ...bad, real[1] as string])
    const r = mailtime([...store(), 'importLog', mostly, 'format', 'dovecot'], env)
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('3 of its 5 lines are malformed, the first at line 2')
    expect(events()).toBe(before)
    // The real log with one bad line in it imports, and names the line.
    const few = write('few.log', [...real, 'garbage'])
    const ok = mailtime([...store(), '--json', 'importLog', few, 'format', 'dovecot'], env)
    expect(ok.code).toBe(0)
    const s = JSON.parse(ok.stdout) as { appended: number; malformedSamples: { file: string; line: number }[] }
    expect(s.malformedSamples).toEqual([expect.objectContaining({ file: 'few.log', line: real.length + 1 })])
    expect(s.appended).toBeGreaterThan(0)
  })
})
