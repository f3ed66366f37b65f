/**
 * Hostile and broken input, through the CLI as users run it:
 * - mailbox.log files with truncated, binary, enormous (10 MB) and wrongly encoded lines import
 *   exactly what their valid lines say, and name each bad line by file and line; the parsers are
 *   total over arbitrary text (fast-check);
 * - a truncated or overwritten SQLite file gives a clear error (exit 4) and a restore from it writes
 *   nothing; a blob whose bytes no longer match its hash is reported unrestorable, and nothing of
 *   it is written;
 * - dates around DST changes and 29 February are read or refused with a message naming them.
 */
import fc from 'fast-check'
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import { storedBlobFile } from '../../src/blobs/blobStore'
import { classify } from '../../src/capture/mailboxLog/changes'
import { parseRecordLine } from '../../src/capture/mailboxLog/record'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(180_000)
afterAll(cleanupTmp)

const ctx = (account: string) => `[name=${account};mid=7;ip=10.0.0.9;]`
const valid = [
  `2026-03-02 09:00:00,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=300, Message-ID=<m300@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:00:01,000 INFO  [LmtpServer-1] ${ctx('alice@example.com')} mailop - Adding Message: id=301, Message-ID=<m301@x>, parentId=-1, folderId=2, folderName=Inbox acct=alice@example.com.`,
  `2026-03-02 09:10:00,000 INFO  [qtp1-3:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - moving Message (id=300) to Folder Trash (id=3)`,
  `2026-03-02 09:12:00,000 INFO  [qtp1-3:https://mail/service/soap/MsgActionRequest] ${ctx('alice@example.com')} mailop - Deleting Message (id=301).`,
]

describe('hostile mailbox.log lines', () => {
  it('import exactly what the valid lines say, and name every bad line by file and line', () => {
    const dir = tmpDir()
    const clean = path.join(dir, 'clean.log')
    fs.writeFileSync(clean, `${valid.join('\n')}\n`)
    const hostile = path.join(dir, 'mailbox.log')
    const lines: Buffer[] = [
      Buffer.from(valid[0] as string),
      Buffer.from('2026-03-02 09:00:00,500 INFO  [LmtpServer-1] [name=alice@exam'), // truncated mid-context
      Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x0d, 0x80, 0x00]), // binary, with a NUL and an escape
      Buffer.from(valid[1] as string),
      Buffer.concat([Buffer.from('2026-03-02 09:05:00,000 INFO  [x] [name=alice@example.com;] mailop - '), Buffer.alloc(10 * 1024 * 1024, 'A')]), // 10 MB
      Buffer.from(`2026-03-02 09:06:00,000 INFO  [x] [name=j\xf6rg@example.com;] mailop - moving Message (id=300) to Folder Trash (id=3)`, 'latin1'), // not UTF-8
      Buffer.from(valid[2] as string),
      Buffer.from('\r'),
      Buffer.from(valid[3] as string),
    ]
    fs.writeFileSync(hostile, Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])))
    const run = (file: string) => {
      const store = ['--store', `sqlite:${path.join(dir, `${path.basename(file)}.db`)}`, '--tz', 'UTC']
      const r = mailtime([...store, '--json', 'importLog', file, 'account', 'alice@example.com'])
      expect([r.code, r.stderr]).toEqual([0, ''])
      // Event ids differ (they name the file and line each fact came from); the history must not.
      const history = (id: string) =>
        (JSON.parse(mailtime([...store, '--json', 'getItem', 'alice@example.com', id, 'date', 'all']).stdout) as { versions: { eventId: string }[] }).versions.map(
          ({ eventId: _id, ...v }) => v,
        )
      return { summary: JSON.parse(r.stdout) as { events: number; malformedSamples: { file: string; line: number; reason: string }[] }, history: ['300', '301'].map(history) }
    }
    const a = run(clean)
    const b = run(hostile)
    expect(b.summary.events).toBe(a.summary.events)
    expect(b.history).toEqual(a.history)
    // Line numbers as an editor counts them (the binary line's carriage return does not start a
    // line); the 10 MB line is a record of no interest (skipped, like any foreign line).
    expect(b.summary.malformedSamples.map((m) => [m.file, m.line, m.reason.slice(0, 40)])).toEqual([
      ['mailbox.log', 2, 'unrecognised record layout: "2026-03-02 '],
      ['mailbox.log', 3, 'a continuation line with no record befor'],
      ['mailbox.log', 6, 'bad account name "j\ufffdrg@example.com"'],
    ])
  })

  it('the record parser and the change classifier are total over any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'grapheme', maxLength: 300 }).map((s) => `2026-03-02 09:00:00,000 INFO  [t] [name=a;] mailop - ${s}`),
        ),
        (line) => {
          const r = parseRecordLine(line)
          if (r !== undefined) classify(r.message)
          classify(line)
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('a broken store or blob', () => {
  let dir: string
  let store: string[]
  const END = '2026-03-10T00:00:00Z'
  beforeAll(() => {
    dir = tmpDir()
    store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    expect(mailtime([...store, 'demo', 'end', END]).code).toBe(0)
  })

  it('a truncated or overwritten SQLite file: exit 4 naming the file, and a restore from it writes nothing', () => {
    for (const damage of ['truncate', 'overwrite'] as const) {
      const copy = path.join(tmpDir(), 'broken.db')
      const bytes = fs.readFileSync(path.join(dir, 'm.db'))
      fs.writeFileSync(
        copy,
        damage === 'truncate' ? bytes.subarray(0, Math.floor(bytes.length / 3)) : Buffer.concat([Buffer.from('this is not a database'.padEnd(4096, '!')), bytes.subarray(4096)]),
      )
      const broken = ['--store', `sqlite:${copy}`, '--blobs', path.join(dir, 'blobs'), '--tz', 'UTC']
      const r = mailtime([...broken, 'getAccountState', 'alice@example.com'])
      expect({ damage, code: r.code }).toEqual({ damage, code: 4 })
      expect(r.stderr).toContain(copy)
      expect(r.stderr).not.toMatch(/\n\s+at /) // a message, not a stack trace
      const target = path.join(tmpDir(), 'restore')
      const restore = mailtime([...broken, 'doRestoreOnNewAccount', 'alice@example.com', 'alice2@example.com', 'last', 'target', `maildir:${target}`])
      expect(restore.code).toBe(4)
      expect(fs.existsSync(target) ? fs.readdirSync(target, { recursive: true }).filter((f) => String(f).includes(':2,')) : []).toEqual([])
    }
  })

  it('a blob whose bytes no longer match its hash: that item is unrestorable with the reason, nothing of it is written, the rest is restored', () => {
    const state = JSON.parse(mailtime([...store, '--json', 'getAccountState', 'carol@example.com']).stdout) as { items: { itemId: number; itemType: string; digest?: string }[] }
    const victim = state.items.find((i) => i.itemType === 'message' && i.digest !== undefined)
    if (victim?.digest === undefined) throw new Error('no message')
    const stored = storedBlobFile(path.join(dir, 'blobs'), victim.digest)
    if (stored === undefined) throw new Error('blob not stored')
    const blob = stored.file
    const original = fs.readFileSync(blob)
    const bytes = stored.gzip ? zlib.gunzipSync(original) : Buffer.from(original)
    const mid = Math.floor(bytes.length / 2)
    bytes[mid] = (bytes[mid] ?? 0) ^ 0x01
    fs.writeFileSync(blob, stored.gzip ? zlib.gzipSync(bytes) : bytes)
    try {
      const target = path.join(tmpDir(), 'restore')
      const r = mailtime([...store, '--json', 'doRestoreOnNewAccount', 'carol@example.com', 'carol2@example.com', 'last', 'target', `maildir:${target}`])
      expect(r.code).toBe(7)
      const out = JSON.parse(r.stdout) as { restored: number; unrestored: { itemId: number; reason: string }[] }
      expect(out.unrestored.map((u) => u.itemId)).toContain(victim.itemId)
      expect(out.unrestored.find((u) => u.itemId === victim.itemId)?.reason).toMatch(new RegExp(`${victim.digest}|hash|digest`, 'i'))
      expect(out.restored).toBeGreaterThan(0)
      // Nothing with the damaged bytes reached the target.
      const files = (fs.readdirSync(target, { recursive: true }) as string[]).map((f) => path.join(target, f)).filter((f) => fs.statSync(f).isFile())
      expect(files.filter((f) => fs.readFileSync(f).equals(bytes))).toEqual([])
    } finally {
      fs.writeFileSync(blob, original)
    }
  })
})

describe('paths from the user or from the mail', () => {
  it('a restore_folder that climbs out, is absolute or holds control characters stays inside the target', () => {
    const dir = tmpDir()
    const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    expect(mailtime([...store, 'demo', 'end', '2026-03-10T00:00:00Z']).code).toBe(0)
    const item = (JSON.parse(mailtime([...store, '--json', 'demo', 'end', '2026-03-10T00:00:00Z']).stdout) as { accounts: { showcaseItem: number }[] }).accounts[0]?.showcaseItem
    const parent = tmpDir()
    const target = path.join(parent, 'target')
    for (const folder of ['../../outside', '/etc/cron.d', 'a/../../b', '..\\..\\windows', 'tab\there\u0001ctrl', '.', '..']) {
      const r = mailtime([...store, 'doItemRestore', 'alice@example.com', String(item), 'restore_folder', folder, 'target', `maildir:${target}`])
      expect({ folder, code: r.code }).toEqual({ folder, code: 0 })
    }
    expect(fs.readdirSync(parent)).toEqual(['target'])
    const files = (fs.readdirSync(target, { recursive: true }) as string[]).map((f) => path.resolve(target, f))
    expect(files.length).toBeGreaterThan(7)
    expect(files.every((f) => f.startsWith(`${target}/`))).toBe(true)
    expect(files.filter((f) => /[\u0000-\u001f]/.test(f))).toEqual([])
  })
})

describe('dates around DST changes and 29 February, on the command line', () => {
  let store: string[]
  beforeAll(() => {
    store = ['--store', `sqlite:${path.join(tmpDir(), 'm.db')}`, '--tz', 'Europe/Rome']
    expect(mailtime([...store, 'demo', 'end', '2026-03-10T00:00:00Z']).code).toBe(0)
  })
  const asOf = (d: string) => mailtime([...store, 'getAccountState', 'alice@example.com', 'date', d])

  it.each([
    ['29/02/2028 12:00:00', 0, ''], // a leap year
    ['29/02/2027 12:00:00', 2, '29/02/2027'], // not one
    ['29/03/2026 02:30:00', 2, 'does not exist in Europe/Rome'], // the spring-forward gap
    ['25/10/2026 02:30:00', 2, 'happens twice in Europe/Rome'], // the fall-back overlap
    ['2026-10-25T02:30:00+01:00', 0, ''], // the overlap, made explicit
    ['31/04/2026 00:00:00', 2, '31/04/2026'],
  ])('%s: exit %i', (d, code, message) => {
    const r = asOf(d)
    expect({ d, code: r.code }).toEqual({ d, code })
    expect(r.stderr).toContain(message)
  })
})
