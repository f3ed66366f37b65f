/**
 * Short-lived mail (issue 20, item 3): the share of messages delivered and expunged L seconds later
 * that `doSmartScan watch true` records with their bytes, for L = 0.5, 1, 2 and 5 s, with each
 * change source: the Dovecot change feed (spool), IMAP NOTIFY, and polling rounds alone (IDLE in
 * INBOX, interval 60 s). A real loopback Dovecot with the shipped contrib/dovecot snippets; a plain
 * IMAP client (imapflow) appends each message to a folder (`Work` by default, where IDLE on INBOX
 * hears nothing; `--folder INBOX` for the other case) and expunges it after its lifetime.
 *
 *   npm run build && node dist/test/bench/shortLived.js [--per 20] [--modes spool,notify,poll] [--folder Work]
 *
 * It prints a Markdown table (docs/capture.md publishes one), with the machine's load at the start:
 * the figures depend on how fast the capture runs after each change, so on a loaded machine they
 * are lower bounds of what an idle one gives.
 */
import { type ChildProcess, spawn } from 'child_process'
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { streamOfAccount } from '../../domain/ids'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { type Dovecot, clientAs, removeDovecot, startDovecot } from '../support/dovecot'

const BIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js')
const LIFETIMES = [0.5, 1, 2, 5]

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

type Mode = 'spool' | 'notify' | 'poll'

const startWatch = (d: Dovecot, store: string, mode: Mode): { child: ChildProcess; ready: Promise<void> } => {
  const extra = mode === 'spool' ? ['spool', d.spoolDir as string] : mode === 'poll' ? ['notify', 'false'] : []
  const child = spawn(process.execPath, [BIN, '--store', store, 'doSmartScan', 'start', 'watch', 'true', 'interval', '60', ...extra], {
    env: { PATH: process.env.PATH ?? '', TZ: 'UTC', MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw', MAILTIME_IMAP_ACCOUNTS: 'alice' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let log = ''
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (b: Buffer) => {
      log += b.toString('utf8')
      if (/Z alice: \d+ events/.test(log)) resolve()
    })
    child.on('exit', (code) => reject(new Error(`the watch exited (${code}): ${log}`)))
  })
  return { child, ready }
}

const subjectsRecorded = async (store: string): Promise<Set<string>> => {
  const h = openSqliteDatabase(store.slice('sqlite:'.length))
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left))
  const s = sqliteEventStore(h.right)
  try {
    const r = await s.readStream(streamOfAccount('alice' as never))()
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    const out = new Set<string>()
    for (const { event } of r.right) {
      const e = event as { type: string; content?: unknown; headers?: { subject?: string } }
      if (e.type === 'ItemCreated' && e.content !== undefined && e.headers?.subject !== undefined) out.add(e.headers.subject)
    }
    return out
  } finally {
    await s.close()
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const measure = async (mode: Mode, per: number, folder: string): Promise<Map<number, number>> => {
  const d = await startDovecot({ alice: 'alicepw' }, mode === 'spool' ? { feed: {} } : {})
  if (folder !== 'INBOX') d.doveadm('mailbox', 'create', '-u', 'alice', folder)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-shortlived-'))
  const store = `sqlite:${path.join(dir, 'b.db')}`
  const w = startWatch(d, store, mode)
  try {
    await w.ready
    const c = clientAs(d, 'alice')
    await c.connect()
    await c.mailboxOpen(folder)
    const expunges: Promise<unknown>[] = []
    for (const life of LIFETIMES)
      for (let i = 0; i < per; i++) {
        const a = await c.append(
          folder,
          Buffer.from(`From: a@example.com\r\nSubject: life-${life}-${i}\r\nMessage-ID: <life-${life}-${i}-${mode}@example.com>\r\n\r\n${'x'.repeat(2000)}\r\n`),
        )
        if (a === false || a.uid === undefined) throw new Error('append failed')
        const uid = a.uid
        expunges.push(sleep(life * 1000).then(() => c.messageDelete(String(uid), { uid: true })))
        await sleep(250)
      }
    await Promise.all(expunges)
    await c.logout()
    // Let every capture the last changes triggered finish.
    await sleep(5000)
    const got = await subjectsRecorded(store)
    return new Map(LIFETIMES.map((life) => [life, Array.from({ length: per }, (_, i) => got.has(`life-${life}-${i}`)).filter(Boolean).length / per]))
  } finally {
    w.child.kill('SIGTERM')
    await new Promise((r) => w.child.once('exit', r))
    await removeDovecot(d)
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const main = async () => {
  const per = Number(arg('--per') ?? '20')
  const modes = (arg('--modes') ?? 'spool,notify,poll').split(',') as Mode[]
  const folder = arg('--folder') ?? 'Work'
  const load = os.loadavg()[0]?.toFixed(1)
  const results = new Map<Mode, Map<number, number>>()
  for (const m of modes) results.set(m, await measure(m, per, folder))
  const name: Record<Mode, string> = { spool: 'Dovecot change feed (spool)', notify: 'IMAP NOTIFY', poll: 'rounds every 60 s (IDLE in INBOX)' }
  const pct = (x: number | undefined) => (x === undefined ? '-' : `${Math.round(x * 100)}%`)
  process.stdout.write(
    [
      `${per} messages per lifetime in ${folder}, ${os.cpus().length} cores, load ${load} at start, Node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z`,
      '',
      `| source | ${LIFETIMES.map((l) => `${l} s`).join(' | ')} |`,
      `|---|${LIFETIMES.map(() => '---:').join('|')}|`,
      ...modes.map((m) => `| ${name[m]} | ${LIFETIMES.map((l) => pct(results.get(m)?.get(l))).join(' | ')} |`),
      '',
    ].join('\n'),
  )
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`)
  process.exit(1)
})
