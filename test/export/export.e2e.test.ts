/**
 * The verifiable export, end to end through the CLI on a demo store: export, verify, then tamper
 * with a copy in each way a reviewer must be able to detect, and read the MBOX files with Python's
 * mailbox module (an independent parser).
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { createHash } from 'crypto'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')

/** Every message of an MBOX, as Python reads it, with mboxrd's `>From` quoting undone. */
const PY = `
import sys, json, mailbox, hashlib, re
box = mailbox.mbox(sys.argv[1])
out = []
for key in box.keys():
    raw = box.get_bytes(key)
    raw = re.sub(rb'(?m)^>(>*From )', rb'\\1', raw)
    out.append(hashlib.sha256(raw).hexdigest())
print(json.dumps(out))
`

describe('exportHistory and verifyExport', () => {
  const dir = tmpDir()
  const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (...args: string[]) => mailtime([...store, ...args])
  const exp = path.join(dir, 'case-117')
  let massDeletionAt = ''

  beforeAll(() => {
    const d = run('--json', 'demo', 'end', '2026-10-01T00:00:00Z')
    massDeletionAt = JSON.parse(d.stdout).accounts[0].massDeletionAt
    const before = new Date(Date.parse(massDeletionAt) - 60_000).toISOString()
    const r = run('--json', 'exportHistory', 'alice@example.com', 'dest', exp, 'at', before)
    if (r.code !== 0) throw new Error(r.stderr)
  })

  const copy = (name: string) => {
    const to = path.join(dir, name)
    fs.cpSync(exp, to, { recursive: true })
    return to
  }
  const verify = (p: string) => run('verifyExport', p)

  it('writes every part, and the export verifies', () => {
    for (const p of ['manifest.json', 'timeline.jsonl', 'states/from.json', 'states/to.json', 'mbox/Inbox.mbox']) expect(fs.existsSync(path.join(exp, p))).toBe(true)
    const r = verify(exp)
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/verified \(\d+ events in an unbroken chain/)
    const manifest = JSON.parse(fs.readFileSync(path.join(exp, 'manifest.json'), 'utf8'))
    // Each .eml is named by the SHA-256 of its bytes, and each distinct body appears once.
    const emls = fs.readdirSync(path.join(exp, 'messages'))
    for (const f of emls.slice(0, 50)) expect(sha(fs.readFileSync(path.join(exp, 'messages', f)))).toBe(f.replace('.eml', ''))
    const timeline = fs
      .readFileSync(path.join(exp, 'timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(timeline).toHaveLength(manifest.timeline.events)
    const digests = new Set(timeline.flatMap((l) => (l.event.content?.digest && l.event.itemType === 'message' ? [l.event.content.digest] : [])))
    expect(new Set(emls.map((f) => f.replace('.eml', '')))).toEqual(digests)
    // The state before the mass deletion holds the messages it deleted; the last one does not.
    const at = JSON.parse(fs.readFileSync(path.join(exp, manifest.states[2].file), 'utf8'))
    const to = JSON.parse(fs.readFileSync(path.join(exp, 'states/to.json'), 'utf8'))
    expect(at.items.length - to.items.length).toBeGreaterThan(1000)
  })

  it('MBOX files open in Python’s mailbox module, one message per item of the folder, byte for byte', () => {
    const to = JSON.parse(fs.readFileSync(path.join(exp, 'states/to.json'), 'utf8'))
    const inbox = to.items
      .filter((i: { folder: string; itemType: string }) => i.folder === '/Inbox' && i.itemType === 'message')
      .map((i: { digest: string }) => i.digest)
      .sort()
    const py = spawnSync('python3', ['-c', PY, path.join(exp, 'mbox', 'Inbox.mbox')], { encoding: 'utf8' })
    expect(py.status).toBe(0)
    expect((JSON.parse(py.stdout) as string[]).sort()).toEqual(inbox)
  })

  it.each([
    [
      'one byte of an .eml changed',
      (p: string) => {
        const f = path.join(p, 'messages', fs.readdirSync(path.join(p, 'messages'))[3] as string)
        const b = fs.readFileSync(f)
        b.writeUInt8((b.readUInt8(b.length - 3) ^ 1) & 0xff, b.length - 3)
        fs.writeFileSync(f, b)
      },
      /messages\/[0-9a-f]{64}\.eml: SHA-256 mismatch/,
    ],
    [
      'a timeline line deleted',
      (p: string) => {
        const f = path.join(p, 'timeline.jsonl')
        const lines = fs.readFileSync(f, 'utf8').split('\n')
        lines.splice(9, 1)
        fs.writeFileSync(f, lines.join('\n'))
      },
      /timeline\.jsonl line 10: the hash chain is broken/,
    ],
    [
      'two timeline lines swapped',
      (p: string) => {
        const f = path.join(p, 'timeline.jsonl')
        const lines = fs.readFileSync(f, 'utf8').split('\n')
        ;[lines[4], lines[5]] = [lines[5] as string, lines[4] as string]
        fs.writeFileSync(f, lines.join('\n'))
      },
      /timeline\.jsonl line 5: the hash chain is broken/,
    ],
    [
      'the last timeline line removed',
      (p: string) => {
        const f = path.join(p, 'timeline.jsonl')
        const lines = fs.readFileSync(f, 'utf8').trimEnd().split('\n')
        fs.writeFileSync(f, `${lines.slice(0, -1).join('\n')}\n`)
      },
      /lines were removed from or added at the end/,
    ],
    [
      'a state file edited',
      (p: string) => {
        const f = path.join(p, 'states', 'to.json')
        fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('"\\\\Seen"', '"\\\\Flagged"'))
      },
      /states\/to\.json: SHA-256 mismatch/,
    ],
    [
      'a state file edited and its hash updated in the manifest',
      (p: string) => {
        const f = path.join(p, 'states', 'to.json')
        const text = fs.readFileSync(f, 'utf8').replace('"\\\\Seen"', '"\\\\Flagged"')
        fs.writeFileSync(f, text)
        const mf = path.join(p, 'manifest.json')
        const m = JSON.parse(fs.readFileSync(mf, 'utf8'))
        const entry = m.files.find((x: { path: string }) => x.path === 'states/to.json')
        entry.sha256 = sha(text)
        entry.size = Buffer.byteLength(text)
        fs.writeFileSync(mf, JSON.stringify(m))
      },
      /states\/to\.json: differs from the replayed timeline at items\[\d+\]\.flags/,
    ],
    ['a file added', (p: string) => fs.writeFileSync(path.join(p, 'messages', 'extra.eml'), 'x'), /messages\/extra\.eml: not in the manifest/],
  ])('%s is detected and named', (name, tamper, message) => {
    const p = copy(name.replace(/\W+/g, '-'))
    tamper(p)
    const r = verify(p)
    expect(r.code).toBe(8)
    expect(r.stderr).toMatch(message)
  })

  it('zip format verifies too; a non-empty destination is refused unless forced', () => {
    const z = path.join(dir, 'case.zip')
    expect(run('exportHistory', 'bob@example.com', 'format', 'zip', 'dest', z).code).toBe(0)
    expect(verify(z).code).toBe(0)
    expect(run('exportHistory', 'bob@example.com', 'dest', exp).code).toBe(2)
    const forced = path.join(dir, 'forced')
    fs.mkdirSync(forced)
    fs.writeFileSync(path.join(forced, 'note.txt'), 'hi')
    expect(run('exportHistory', 'bob@example.com', 'dest', forced, 'force', 'true').code).toBe(0)
    // The user's own file is not part of the export: verification says so.
    expect(verify(forced).stderr).toMatch(/note\.txt: not in the manifest/)
    const ops = JSON.parse(run('--json', 'getAllOperations').stdout).operations
    expect(ops.filter((o: { kind: string }) => o.kind === 'export').length).toBe(3)
  })

  it('a blob gone from the store or damaged there is named, left out of the files and the manifest, and the rest verifies (exit 7)', () => {
    // A store of its own: its blobs are changed.
    const d2 = path.join(dir, 'damaged')
    fs.cpSync(path.join(dir, 'm.db'), path.join(d2, 'm.db'), { recursive: true })
    fs.cpSync(path.join(dir, 'blobs'), path.join(d2, 'blobs'), { recursive: true })
    const to = JSON.parse(fs.readFileSync(path.join(exp, 'states/to.json'), 'utf8')) as { items: { digest: string | null; folder: string }[] }
    const [gone, bad] = [...new Set(to.items.filter((i) => i.folder === '/Inbox').flatMap((i) => (i.digest === null ? [] : [i.digest])))]
    if (gone === undefined || bad === undefined) throw new Error('the demo has too few messages')
    const blobFile = (digest: string) =>
      fs
        .readdirSync(path.join(d2, 'blobs', digest.slice(0, 2)))
        .filter((f) => f.startsWith(digest))
        .map((f) => path.join(d2, 'blobs', digest.slice(0, 2), f))[0] as string
    fs.rmSync(blobFile(gone))
    fs.writeFileSync(blobFile(bad), 'not what was stored')
    const out = path.join(dir, 'partial-export')
    const r = mailtime(['--store', `sqlite:${path.join(d2, 'm.db')}`, '--tz', 'UTC', '--json', 'exportHistory', 'alice@example.com', 'dest', out])
    expect(r.code).toBe(7)
    const missing = (JSON.parse(r.stdout).missing as { digest: string; reason: string }[]).sort((a, b) => (a.digest === gone ? -1 : b.digest === gone ? 1 : 0))
    expect(missing).toEqual([
      { digest: gone, reason: expect.stringMatching(/is missing/) },
      { digest: bad, reason: expect.stringMatching(/is corrupt/) },
    ])
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { files: { path: string }[]; missing: unknown[] }
    expect(manifest.missing).toHaveLength(2)
    for (const digest of [gone, bad]) {
      expect(fs.existsSync(path.join(out, 'messages', `${digest}.eml`))).toBe(false)
      expect(manifest.files.some((f) => f.path.includes(digest))).toBe(false)
    }
    const messages = (files: { path: string }[]) => files.filter((f) => f.path.startsWith('messages/')).length
    expect(messages(manifest.files)).toBe(messages(JSON.parse(fs.readFileSync(path.join(exp, 'manifest.json'), 'utf8')).files) - 2)
    expect(verify(out).code).toBe(0)
  })

  it('running the same export again finds it done and verified (a run killed after its last rename), but never writes over anything else', () => {
    const same = path.join(dir, 'same')
    const words = ['exportHistory', 'bob@example.com', 'to', '2026-03-05T00:00:00Z', 'dest', same]
    expect(run(...words).code).toBe(0)
    const again = run('--json', ...words)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ alreadyExported: true, dest: same })
    // Other parameters, or a changed file, and the directory is refused as before.
    expect(run('exportHistory', 'bob@example.com', 'to', '2026-03-06T00:00:00Z', 'dest', same).code).toBe(2)
    fs.appendFileSync(path.join(same, 'timeline.jsonl'), '\n')
    expect(run(...words).code).toBe(2)
  })
})
