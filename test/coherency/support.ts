/**
 * Shared by the coherency suites: an account captured from a real Dovecot into a store, copies of
 * that store to damage, and the check run as a user runs it (the built CLI, `--json`).
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs } from '../support/dovecot'
import { tmpDir } from '../support/tmp'

export const imapEnv = (d: Dovecot): Record<string, string> => ({ MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' })

/** The bytes of message `i`: small ones are kept raw by the blob store, large ones gzipped. */
export const message = (i: number): Buffer =>
  Buffer.from(
    `Subject: message ${i}\r\nMessage-ID: <m${i}@coherency>\r\nFrom: a@example.com\r\n\r\n${i % 3 === 0 ? `${'all work and no play '.repeat(600)}${i}` : `body ${i} ${'x'.repeat(100 + i)}`}\r\n`,
  )

/** Fills an account: INBOX, Work and Work.Old, `n` messages spread over them. */
export const fill = async (d: Dovecot, user: string, n: number, first = 0): Promise<void> => {
  const c = clientAs(d, user)
  await c.connect()
  try {
    for (const box of ['Work', 'Work.Old']) await c.mailboxCreate(box).catch(() => undefined)
    const boxes = ['INBOX', 'Work', 'Work.Old']
    for (let i = first; i < first + n; i++) await c.append(boxes[i % 3] as string, message(i), i % 2 ? ['\\Seen'] : [], new Date(Date.UTC(2026, 1, 1, 0, i)))
  } finally {
    await c.logout()
  }
}

export interface StoreDir {
  readonly dir: string
  /** Global flags naming the store and its blobs. */
  readonly args: string[]
}

export const sqliteStore = (dir = tmpDir()): StoreDir => ({ dir, args: ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--blobs', path.join(dir, 'blobs'), '--tz', 'UTC'] })

/** A copy of a SQLite store (file and blobs) to damage. */
export const copyOf = (s: StoreDir): StoreDir => {
  const dir = tmpDir()
  fs.cpSync(s.dir, dir, { recursive: true })
  return sqliteStore(dir)
}

/** The file that holds a blob, raw or gzipped. */
export const blobFile = (blobs: string, digest: string): string => {
  const raw = path.join(blobs, digest.slice(0, 2), digest)
  return fs.existsSync(raw) ? raw : `${raw}.gz`
}

export interface CheckProblem {
  kind: string
  account: string | null
  itemId: number | null
  eventId: string | null
  revision: number | null
  digest: string | null
  operationId: string | null
  checkpoint: string | null
  detail: string
  repair: { repaired: boolean; how: string } | null
}

export interface CheckJson {
  coherent: boolean
  interrupted: boolean
  accounts: {
    account: string
    events: number
    undecodable: number
    blobReferences: number
    blobsRead: number
    itemsCompared: number
    scanCheckpoint: string
    lastRevision: number
  }[]
  index: { position: number | null; lastPosition: number | null }
  operations: { checked: number; closed: number; running: number; open: { operationId: string; verb: string; resume: string }[] } | null
  problems: CheckProblem[]
  notes: string[]
  repairs: { blobsRestored: number; indexRebuilt: { items: number; versions: number } | null; checkpointsReset: number } | null
}

/** Runs `doCoherencyCheck --json` on a store; the exit code, the report, and stderr. */
export const check = (s: StoreDir, words: readonly string[] = [], env: Record<string, string> = {}): { code: number; report: CheckJson; stderr: string } => {
  const r = mailtime([...s.args, '--json', 'doCoherencyCheck', ...words], env)
  let report: CheckJson
  try {
    report = JSON.parse(r.stdout) as CheckJson
  } catch {
    throw new Error(`doCoherencyCheck exited ${r.code} without a report: ${r.stderr}`)
  }
  return { code: r.code, report, stderr: r.stderr }
}

/** Problems without the long detail, for readable expectations. */
export const brief = (ps: readonly CheckProblem[]) =>
  ps.map((p) => ({ kind: p.kind, account: p.account, itemId: p.itemId, revision: p.revision, digest: p.digest, repaired: p.repair?.repaired ?? null }))
