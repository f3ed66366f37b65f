/**
 * Awkward mail and folder names, end to end through a real Dovecot: messages with bare LF line
 * ends, raw 8-bit headers, no Message-ID, a duplicated Message-ID, and a 50 MB attachment, in
 * folders named in several scripts and with IMAP's special characters. Each is captured, then
 * restored into a new account over IMAP and into a Maildir tree that Dovecot serves as is: both
 * must hold exactly the source's folders, bytes and flags. And the passwords used throughout appear
 * in no output, operation record, store file or export.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { mailboxOf } from './harness'

jest.setTimeout(300_000)

const FOLDERS = ['R&D', 'Entwürfe', '日本語', 'Ελληνικά и Кириллица', 'with  spaces', '&-ampersand', '[brackets] (parens) {braces}']
const IMAP_PASSWORD = 'Adm1n-Secret-For-Grep'

describeWithService(dovecotAvailable(), 'Dovecot')('awkward mail and folder names, captured and restored', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  const outputs: string[] = []
  const run = (...args: string[]) => {
    const r = mailtime(['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC', ...args], env)
    outputs.push(r.stdout, r.stderr)
    return r
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw' })
    // The master user's password, set to one this test then looks for everywhere.
    const masters = path.join(d.dir, 'masters')
    fs.writeFileSync(masters, fs.readFileSync(masters, 'utf8').replace(/^admin:.*$/m, `admin:{PLAIN}${IMAP_PASSWORD}`))
    dir = tmpDir()
    env = { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: IMAP_PASSWORD }
    const c = clientAs({ ...d, admin: { user: 'admin', password: IMAP_PASSWORD } }, 'alice')
    await c.connect()
    for (const f of FOLDERS) await c.mailboxCreate(f)
    const big = Buffer.alloc(50 * 1024 * 1024)
    for (let i = 0; i < big.length; i++) big[i] = 65 + ((i * 7919) % 26)
    const mails: [string, Buffer][] = [
      ['INBOX', Buffer.from('From: a@example.org\nTo: alice@example.com\nSubject: bare LF line ends\nMessage-ID: <lf@x>\n\nbody\nwith LF only\n')],
      ['INBOX', Buffer.from('From: Jörg Müller <j@example.org>\r\nSubject: Grüße aus Köln — ☃ 8-bit, unencoded\r\nMessage-ID: <8bit@x>\r\n\r\nHallo\r\n', 'utf8')],
      ['INBOX', Buffer.from('From: a@example.org\r\nSubject: no Message-ID at all\r\n\r\nhello\r\n')],
      ['INBOX', Buffer.from('From: a@example.org\r\nSubject: first of two with one Message-ID\r\nMessage-ID: <dup@x>\r\n\r\none\r\n')],
      ['INBOX', Buffer.from('From: a@example.org\r\nSubject: second of two with one Message-ID\r\nMessage-ID: <dup@x>\r\n\r\ntwo\r\n')],
      [
        'R&D',
        Buffer.concat([
          Buffer.from(
            'From: a@example.org\r\nSubject: 50 MB attachment\r\nMessage-ID: <big@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="big.txt"\r\n\r\n',
          ),
          big,
          Buffer.from('\r\n--b--\r\n'),
        ]),
      ],
      ...FOLDERS.map((f, i): [string, Buffer] => [f, Buffer.from(`From: a@example.org\r\nSubject: in ${f}\r\nMessage-ID: <f${i}@x>\r\n\r\nfolder ${i}\r\n`)]),
    ]
    for (const [box, bytes] of mails) await c.append(box, bytes, box === 'INBOX' ? ['\\Seen', 'Keyword$1'] : [], new Date('2026-03-02T10:00:00Z'))
    await c.logout()
    d.addUser('copy', 'pw')
  })

  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  const source = () => mailboxOf({ ...d, admin: { user: 'admin', password: IMAP_PASSWORD } }, 'alice')
  const read = (user: string) => mailboxOf({ ...d, admin: { user: 'admin', password: IMAP_PASSWORD } }, user)

  it('restores them over IMAP into a new account exactly: folders, bytes, flags', async () => {
    expect(run('doAccountScan', 'alice').code).toBe(0)
    const expected = await source()
    for (const f of FOLDERS) expect({ f, found: expected.some((l) => l.startsWith(`${f} `)) }).toEqual({ f, found: true })
    expect(expected).toHaveLength(6 + FOLDERS.length)
    const r = run('--json', 'doRestoreOnNewAccount', 'alice', 'copy', 'last')
    expect([r.code, r.stderr]).toEqual([0, ''])
    expect(await read('copy')).toEqual(expected)
  })

  it('restores them into a Maildir tree that Dovecot serves exactly as the source', async () => {
    const base = tmpDir()
    fs.chmodSync(base, 0o755) // Dovecot's mail user must reach the tree
    const maildir = path.join(base, 'maildir')
    const r = run('--json', 'doRestoreOnNewAccount', 'alice', 'alice.maildir', 'last', 'target', `maildir:${maildir}`)
    expect([r.code, r.stderr]).toEqual([0, ''])
    d.addUserWithMaildir('fromdisk', 'pw', maildir)
    expect(await read('fromdisk')).toEqual(await source())
    // Every file it wrote is inside the target.
    const files = execFileSync('find', [maildir, '-type', 'f'], { encoding: 'utf8' }).trim().split('\n')
    expect(files.every((f) => path.resolve(f).startsWith(`${path.resolve(maildir)}/`))).toBe(true)
  })

  it('maps a restore_folder with the IMAP separator, "..", "/" and control characters to safe names on the server', async () => {
    const item = (JSON.parse(run('--json', 'doItemSearch', 'alice', 'search_string', 'in R&D', 'search_filter', 'all').stdout) as { items: { itemId: number }[] }).items[0]?.itemId
    expect(item).toBeDefined()
    const r = run('--json', 'doItemRestore', 'alice', String(item), 'restore_folder', 'a.b/../c\u0001d/.')
    expect([r.code, r.stderr]).toEqual([0, ''])
    const after = await source()
    // One segment per "/" of the request, none holding the separator, a bare ".." or a control character.
    const placed = after.filter((l) => l.startsWith('a_b.'))
    expect(placed).toHaveLength(1)
    const folder = placed[0]?.split(' ')[0] ?? ''
    expect(folder.split('.')).toEqual(['a_b', '__', 'c_d', '_'])
  })

  it('puts the passwords in no output, operation record, store file or export', () => {
    const exportDir = path.join(tmpDir(), 'export')
    expect(run('exportHistory', 'alice', 'dest', exportDir).code).toBe(0)
    run('--json', 'getAllOperations')
    run('--debug', 'doAccountScan', 'alice')
    run('--json', 'doAccountScan', 'nosuchuser')
    const haystacks: [string, Buffer][] = [
      ['outputs', Buffer.from(outputs.join('\n'))],
      ...execFileSync('find', [dir, exportDir, '-type', 'f'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .filter((f) => !f.includes('/blobs/'))
        .map((f): [string, Buffer] => [f, fs.readFileSync(f)]),
    ]
    expect(haystacks.length).toBeGreaterThan(5)
    for (const secret of [IMAP_PASSWORD, 'alicepw']) expect(haystacks.filter(([, b]) => b.includes(secret)).map(([n]) => n)).toEqual([])
  })
})
