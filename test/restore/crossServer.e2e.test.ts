/**
 * Hierarchy and naming on both real servers, and restores across them (issue 23.4): Dovecot
 * (Maildir++, separator `.`, parents of a folder created alone are `\NonExistent`) and Cyrus
 * (separator `/`, `.` an ordinary character). Each account holds non-ASCII names (modified UTF-7 on
 * the wire), a deep tree, a parent that is not a mailbox, and names holding the other server's
 * separator where the server allows it; all changes by a plain IMAP client. Each is captured, then
 * restored into the other server with `doExternalRestore` (and Dovecot → Cyrus → Dovecot again),
 * and the tree read back over IMAP.
 */
import * as fs from 'fs'
import * as path from 'path'
import { IMAP_SERVERS, type MailServer, asUser } from '../support/imapServers'
import { describeWithService } from '../support/services'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { sha256 } from '../../src/blobs/blobStore'

jest.setTimeout(240_000)

const msg = (subject: string) =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n\r\nHello\r\n`,
  )

const [dovecotKind, cyrusKind] = IMAP_SERVERS as readonly [(typeof IMAP_SERVERS)[number], (typeof IMAP_SERVERS)[number]]
const DEEP = Array.from({ length: 12 }, (_, i) => `L${i + 1}`)

/** The folders (levels joined with `/`, `\Noselect` marked) and messages (folder, subject, flags, date, digest) of an account. */
const readTree = (s: MailServer, user: string) =>
  asUser(s, user, async (c) => {
    const folders: string[] = []
    const messages: string[] = []
    for (const box of await c.list()) {
      const name = box.path.toUpperCase() === 'INBOX' ? 'INBOX' : box.path.split(box.delimiter).join('/')
      const level = [...box.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f))
      folders.push(name)
      if (level) continue
      const lock = await c.getMailboxLock(box.path, { readOnly: true })
      try {
        if ((c.mailbox as { exists: number }).exists > 0)
          for await (const m of c.fetch('1:*', { flags: true, internalDate: true, envelope: true, source: true }))
            messages.push(
              [
                name,
                m.envelope?.subject,
                [...(m.flags ?? [])]
                  .filter((f) => f !== '\\Recent')
                  .sort()
                  .join(' '),
                new Date(m.internalDate ?? 0).toISOString(),
                sha256(m.source ?? Buffer.alloc(0)),
              ].join(' | '),
            )
      } finally {
        lock.release()
      }
    }
    return { folders: folders.sort(), messages: messages.sort() }
  })

/** The tree every account starts with; `levels` as the user sees them. */
const TREE: readonly { levels: readonly string[]; subject?: string; flags?: string[] }[] = [
  { levels: ['Überweisungen', 'März 2026'], subject: 'Transfer', flags: ['\\Seen', '$Bank'] },
  { levels: ['日本語'], subject: 'Kanji' },
  { levels: ['R&D', 'Post 📬'], subject: 'Emoji', flags: ['\\Flagged'] },
  { levels: DEEP, subject: 'Deep' },
  { levels: ['Projects', 'Alpha'], subject: 'Spec', flags: ['Review'] },
]

describeWithService(dovecotKind.available() && cyrusKind.available(), 'Dovecot and Cyrus')('hierarchy and naming on Dovecot and Cyrus, and restores across them', () => {
  let dovecot: MailServer
  let cyrus: MailServer
  let dovecot2: MailServer
  let dir: string
  const storeOf = (name: string) => path.join(dir, name, 'mailtime.db')
  const envFor = (s: MailServer) => {
    const config = path.join(dir, `${s.kind}-${s.port}.json`)
    fs.writeFileSync(config, JSON.stringify({ provisioning: s.provisioning() }))
    return { MAILTIME_IMAP_URL: s.url, MAILTIME_IMAP_USER: s.admin.user, MAILTIME_IMAP_PASSWORD: s.admin.password, MAILTIME_CONFIG: config }
  }
  const run = (store: string, env: Record<string, string>, ...args: string[]) => {
    const r = mailtime(['--store', `sqlite:${store}`, '--tz', 'UTC', '--json', ...args], env)
    if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout)
  }
  const folderPaths = (store: string, account: string): string[] => (run(store, {}, 'getAccountState', account).folders as { path: string }[]).map((f) => f.path).sort()

  const fill = async (s: MailServer, user: string, extra: readonly (readonly string[])[]) =>
    asUser(s, user, async (c) => {
      for (const t of [...TREE.map((t) => t.levels), ...extra]) await c.mailboxCreate(s.mailbox(t))
      for (const t of TREE) if (t.subject !== undefined) await c.append(s.mailbox(t.levels), msg(t.subject), t.flags ?? [], new Date('2026-03-01T09:00:00Z'))
    })

  beforeAll(async () => {
    dir = tmpDir()
    for (const d of ['dana', 'cyril', 'dana-on-cyrus', 'erin']) fs.mkdirSync(path.join(dir, d))
    dovecot = await dovecotKind.start(['dana', 'erin'])
    cyrus = await cyrusKind.start(['cyril'])
    dovecot2 = await dovecotKind.start([])
    // Dovecot (Maildir++): a name cannot hold its separator `.`; a child created alone leaves its parents \NonExistent (DEEP, R&D).
    await fill(dovecot, 'dana', [])
    // A header with raw UTF-8 (not RFC 2047): Dovecot stores it as it is.
    await asUser(dovecot, 'dana', (c) => c.append('INBOX', msg('Überweisung'), [], new Date('2026-03-01T09:00:00Z')))
    // Cyrus: `.` is an ordinary character. (It refuses to delete a parent under its child, "NO
    // [HASCHILDREN]", so no level there stops being a mailbox; parents created with a child are mailboxes.)
    await fill(cyrus, 'cyril', [['Notes v1.2']])
  })
  afterAll(async () => {
    for (const s of [dovecot, cyrus, dovecot2]) await s?.remove()
    cleanupTmp()
  })

  const deepPaths = DEEP.map((_, i) => `/${DEEP.slice(0, i + 1).join('/')}`)
  const common = ['/Inbox', '/Projects', '/Projects/Alpha', '/R&D', '/R&D/Post 📬', '/Überweisungen', '/Überweisungen/März 2026', '/日本語', ...deepPaths]

  it('Dovecot: every level is a folder, parents that are not mailboxes included, non-ASCII names as the user sees them, a 12-level tree', () => {
    run(storeOf('dana'), envFor(dovecot), 'doAccountScan', 'dana')
    expect(folderPaths(storeOf('dana'), 'dana')).toEqual(common.sort())
  })

  it('Cyrus: the same, and a name with a dot is one level', async () => {
    expect((await readTree(cyrus, 'cyril')).folders).toContain('Notes v1.2')
    run(storeOf('cyril'), envFor(cyrus), 'doAccountScan', 'cyril')
    expect(folderPaths(storeOf('cyril'), 'cyril')).toEqual([...common, '/Notes v1.2'].sort())
  })

  it('doExternalRestore of the Dovecot capture into Cyrus keeps the tree and every message, byte for byte; and back into a Dovecot', async () => {
    const source = await readTree(dovecot, 'dana')
    const r = run(path.join(dir, 'local-c.db'), envFor(cyrus), 'doExternalRestore', path.join(dir, 'dana'), 'accounts', 'dana', 'target', cyrus.url)
    expect(r).toMatchObject({ state: 'done', unrestored: [] })
    const onCyrus = await readTree(cyrus, 'dana')
    // Levels Dovecot only implied are mailboxes on Cyrus (a restore creates every folder as a folder).
    expect(onCyrus.folders).toEqual(source.folders)
    // The message with raw UTF-8 in a header: see the test below.
    const plain = (ms: string[]) => ms.filter((m) => !/berweisung/.test(m))
    expect(plain(onCyrus.messages)).toEqual(plain(source.messages))
    expect(onCyrus.messages).toHaveLength(source.messages.length)
    // And back: captured on Cyrus, restored into another Dovecot.
    run(storeOf('dana-on-cyrus'), envFor(cyrus), 'doAccountScan', 'dana')
    expect(folderPaths(storeOf('dana-on-cyrus'), 'dana')).toEqual(folderPaths(storeOf('dana'), 'dana'))
    const back = run(path.join(dir, 'local-d2.db'), envFor(dovecot2), 'doExternalRestore', path.join(dir, 'dana-on-cyrus'), 'accounts', 'dana', 'target', dovecot2.url)
    expect(back).toMatchObject({ state: 'done', unrestored: [] })
    const again = await readTree(dovecot2, 'dana')
    expect(plain(again.messages)).toEqual(plain(source.messages))
    expect(again.folders).toEqual(source.folders)
  })

  // Found here: Cyrus 3.6 (default `munge8bit: yes`) replaces each 8-bit byte of a header with "X"
  // at APPEND: the Subject "Überweisung" in raw UTF-8 comes back as "XXberweisung", another digest,
  // and the restore reports the message restored (state done, unrestored []): altered, and silently.
  // A restore into Cyrus should find the change (or the admin set `munge8bit: no` or `reject8bit: yes`).
  it.failing('a message with raw UTF-8 in a header is restored into Cyrus byte for byte', async () => {
    const back = (await readTree(cyrus, 'dana')).messages.filter((m) => /berweisung/.test(m))
    expect(back).toEqual((await readTree(dovecot, 'dana')).messages.filter((m) => /berweisung/.test(m)))
  })

  it('a restore of a Dovecot capture into Cyrus reports each message Cyrus refuses, with its reason (exit 7); the others are restored', async () => {
    const bareLf = Buffer.from('From: Marco <marco@example.org>\nSubject: Bare LF\nMessage-ID: <lf@example.org>\n\nLine one\nLine two\n')
    const badHeader = Buffer.from('From: Marco <marco@example.org>\r\nSubject: Bad header\r\nNo colon on this line\r\n\r\nBody\r\n')
    await asUser(dovecot, 'erin', async (c) => {
      await c.append('INBOX', msg('Fine'), [], new Date('2026-03-01T09:00:00Z'))
      await c.append('INBOX', badHeader, ['\\Seen'], new Date('2026-03-01T09:00:00Z'))
      await c.append('INBOX', bareLf, [], new Date('2026-03-01T09:00:00Z'))
    })
    run(storeOf('erin'), envFor(dovecot), 'doAccountScan', 'erin')
    const items = run(storeOf('erin'), {}, 'getAccountState', 'erin').items as { itemId: number; subject: string; digest: string }[]
    // Dovecot serves every line ending as CRLF over IMAP, so its capture holds no bare LF.
    expect(items.find((i) => i.subject === 'Bare LF')?.digest).toBe(sha256(Buffer.from(bareLf.toString().replace(/\n/g, '\r\n'))))
    const r = mailtime(
      ['--store', `sqlite:${path.join(dir, 'local-erin.db')}`, '--tz', 'UTC', '--json', 'doExternalRestore', path.join(dir, 'erin'), 'accounts', 'erin', 'target', cyrus.url],
      envFor(cyrus),
    )
    expect(r.code).toBe(7)
    const out = JSON.parse(r.stdout)
    const bad = items.find((i) => i.subject === 'Bad header')
    expect(out.unrestored).toEqual([expect.objectContaining({ itemId: bad?.itemId, reason: 'the server refused it: Message contains invalid header' })])
    expect((await readTree(cyrus, 'erin')).messages.map((m) => m.split(' | ')[1]).sort()).toEqual(['Bare LF', 'Fine'])
  })

  it("doExternalRestore of the Cyrus capture into Dovecot keeps the tree; a name holding Dovecot's separator is renamed and reported", async () => {
    const source = await readTree(cyrus, 'cyril')
    const r = run(path.join(dir, 'local-d.db'), envFor(dovecot), 'doExternalRestore', path.join(dir, 'cyril'), 'accounts', 'cyril', 'target', dovecot.url)
    expect(r).toMatchObject({ state: 'done', unrestored: [] })
    expect(JSON.stringify(r)).toContain('Notes v1_2')
    const onDovecot = await readTree(dovecot, 'cyril')
    const renamed = (x: string) => x.replace('Notes v1.2', 'Notes v1_2')
    expect(onDovecot.folders).toEqual(source.folders.map(renamed).sort())
    expect(onDovecot.messages).toEqual(source.messages.map(renamed).sort())
  })
})
