/**
 * Restore throughput on one corpus of realistic messages (5,000 and about 230 MB at full size:
 * mostly short text mails, one in five with an attachment), into a real Dovecot on loopback:
 * - Mailtime's IMAP restore (MULTIAPPEND from the blob store, with the operations stream written as
 *   it goes) against a bare MULTIAPPEND loop of the same messages from memory, with the same batch
 *   size and number of connections (bareMultiAppend.ts);
 * - Mailtime's Maildir restore against `doveadm backup` of the same messages with
 *   `maildir_copy_with_hardlinks=no` (with hard links dsync copies nothing).
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { ItemId } from '../../../domain/ids'
import type { Instant } from '../../../domain/instant'
import type { RestoreItem, RestorePlan } from '../../../domain/restore/plan'
import { fsBlobStore } from '../../../src/blobs/blobStore'
import { openBackend } from '../../../src/wiring/backend'
import { connectAs } from '../../../src/imap/connection'
import { imapTarget } from '../../../src/restore/imap/imapTarget'
import { maildirTarget } from '../../../src/restore/maildirTarget'
import { runRestore } from '../../../src/restore/runRestore'
import type { RestoreTarget } from '../../../src/restore/target'
import { rng } from '../../../src/demo/random'
import { type Dovecot, clientAs, removeDovecot, startDovecot } from '../../support/dovecot'
import { bareMultiAppend } from '../bareMultiAppend'
import { fmt, now, peakRssMB } from '../measure'
import type { RowResult, RowSpec } from '../row'

const corpus = (n: number): Buffer[] => {
  const r = rng(7)
  const words = ['meeting', 'budget', 'report', 'quarter', 'invoice', 'project', 'review', 'draft', 'schedule', 'client', 'team', 'update', 'please', 'thanks', 'attached']
  const text = (bytes: number) => {
    const out: string[] = []
    let len = 0
    while (len < bytes) {
      const line = Array.from({ length: 12 }, () => words[r.int(0, words.length - 1)]).join(' ')
      out.push(line)
      len += line.length + 2
    }
    return out.join('\r\n')
  }
  return Array.from({ length: n }, (_, i) => {
    const head = `From: User ${i % 97} <user${i % 97}@example.org>\r\nTo: bench@example.com\r\nSubject: Message ${i} about ${words[i % words.length]}\r\nMessage-ID: <bench.${i}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n`
    if (r.next() < 0.8) return Buffer.from(`${head}Content-Type: text/plain; charset=utf-8\r\n\r\n${text(r.int(2_000, 20_000))}\r\n`)
    const attachment = Buffer.alloc(r.int(45_000, 225_000))
    for (let k = 0; k < attachment.length; k++) attachment[k] = r.int(0, 255)
    const b64 = (attachment.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
    return Buffer.from(
      `${head}Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain\r\n\r\n${text(1_500)}\r\n--b${i}\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="file${i}.bin"\r\n\r\n${b64}\r\n--b${i}--\r\n`,
    )
  })
}

const count = async (d: Dovecot, user: string): Promise<number> => {
  const c = clientAs(d, user)
  await c.connect()
  const s = await c.status('INBOX', { messages: true })
  await c.logout()
  return s === false ? -1 : (s.messages ?? -1)
}

/** Mailtime's defaults (imapTarget.ts), passed explicitly so that both sides use the same. */
const BATCH = 50
const BATCH_BYTES = 16 * 1024 * 1024
const CONNECTIONS = 2

export const restoreRow: RowSpec = {
  name: 'restore',
  title: 'restore into Dovecot (IMAP) and Maildir against a bare MULTIAPPEND loop and dsync',
  hasGoal: true,
  run: async ({ data, scale }): Promise<RowResult> => {
    const n = Math.max(50, Math.round(5_000 * scale))
    const dir = path.join(data, 'restore')
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    fs.chmodSync(dir, 0o755)
    const msgs = corpus(n)
    const mb = msgs.reduce((s, m) => s + m.length, 0) / 1e6
    const date = (i: number) => Date.UTC(2026, 0, 1) + i * 60_000
    const blobs = fsBlobStore(path.join(dir, 'blobs'))
    const planItems: RestoreItem[] = msgs.map((m, i) => {
      const put = blobs.put(m)
      if (E.isLeft(put)) throw new Error('blob put failed')
      return {
        itemId: (256 + i) as ItemId,
        itemType: 'message',
        folder: ['Inbox'],
        flags: ['\\Seen'],
        tags: [],
        internalDate: date(i) as Instant,
        digest: put.right.digest,
        size: m.length,
      }
    })
    const plan = (target: string): RestorePlan => ({
      kind: 'newAccount',
      sourceAccount: 'bench',
      targetAccount: target,
      folders: [['Inbox']],
      items: planItems,
      folderItems: [],
      unrestorable: [],
    })
    const backend = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(backend)) throw new Error('store')
    const d = await startDovecot({ bare: 'pw', ours: 'pw' })
    const rate = (ms: number) => (n / ms) * 1000
    const restore = async (target: RestoreTarget, account: string): Promise<number> => {
      const t = now()
      const r = await runRestore(
        { operations: backend.right.operations, blobs, now: Date.now, host: 'bench', pid: process.pid, isAlive: () => true, show: String, signalled: () => false },
        { verb: 'bench', params: {}, resumeKey: `bench-${account}-${Date.now()}`, plans: [plan(account)], target, initiator: 'bench', recipients: [] },
      )
      if (r.summary.restored !== n) throw new Error(`restored ${r.summary.restored} of ${n}: ${r.summary.error ?? ''}`)
      return now() - t
    }
    try {
      const t0 = now()
      await bareMultiAppend(
        { host: '127.0.0.1', port: d.port, user: d.admin.user, pass: d.admin.password, authzid: 'bare' },
        msgs.map((bytes, i) => ({ bytes, internalDate: date(i) })),
        { batchSize: BATCH, batchBytes: BATCH_BYTES, connections: CONNECTIONS },
      )
      const bare = now() - t0
      const src = { host: '127.0.0.1', port: d.port, secure: false, admin: d.admin, passwords: {}, accounts: [], description: d.url }
      const ours = await restore(
        imapTarget(
          {
            host: '127.0.0.1',
            port: d.port,
            secure: false,
            description: d.url,
            loginFor: (a) => ({ user: d.admin.user, pass: d.admin.password, authzid: a }),
            connect: async (a) => {
              const c = await connectAs(src, a)
              return E.isLeft(c) ? E.left({ _tag: 'Failure' as const, reason: c.left._tag }) : E.right(c.right)
            },
          },
          { batchSize: BATCH, batchBytes: BATCH_BYTES, connections: CONNECTIONS },
        ),
        'ours',
      )
      for (const u of ['bare', 'ours']) if ((await count(d, u)) !== n) throw new Error(`${u} does not hold ${n} messages`)

      // Maildir: Mailtime from the blob store, dsync from the Maildir the bare loop filled.
      const mdOurs = path.join(dir, 'maildir-ours')
      const maildirMs = await restore(maildirTarget(mdOurs), 'maildir')
      // dsync as Dovecot runs it (mail_fsync=optimized: every message file fsynced, its index files
      // fdatasynced), then without the fsyncs and without the mail_log plugin this test server has;
      // what remains is its index, its UID list and reading through Dovecot's storage (notes).
      const dsync = (name: string, options: readonly string[]): number => {
        const out = path.join(dir, name)
        fs.mkdirSync(out)
        fs.chownSync(out, 8, 8)
        const t = now()
        const ds = spawnSync(
          'doveadm',
          ['-c', path.join(d.dir, 'dovecot.conf'), '-o', 'maildir_copy_with_hardlinks=no', ...options.flatMap((o) => ['-o', o]), 'backup', '-u', 'bare', `maildir:${out}`],
          { encoding: 'utf8' },
        )
        const ms = now() - t
        if (ds.status !== 0) throw new Error(`doveadm backup failed: ${ds.stderr}`)
        const copied = fs.readdirSync(path.join(out, 'cur')).length + fs.readdirSync(path.join(out, 'new')).length
        if (copied !== n) throw new Error(`dsync copied ${copied} of ${n}`)
        return ms
      }
      const dsyncMs = dsync('maildir-dsync', [])
      const lightMs = dsync('maildir-dsync-nofsync', ['mail_fsync=never', 'mail_plugins='])

      const ratio = rate(ours) / rate(bare)
      return {
        rows: [
          {
            what: `IMAP restore, ${n.toLocaleString('en-US')} messages, ${fmt(mb)} MB, batches of ${BATCH} on ${CONNECTIONS} connections`,
            ours: `${fmt(rate(ours))} msg/s, ${fmt((mb / ours) * 1000)} MB/s`,
            baseline: `bare MULTIAPPEND loop from memory, same batches and connections: ${fmt(rate(bare))} msg/s`,
            ratio,
            goal: '≥ 1.3× the bare loop',
            pass: ratio >= 1.3,
          },
          {
            what: `Maildir restore, ${n.toLocaleString('en-US')} messages`,
            ours: `${fmt(rate(maildirMs))} msg/s, ${fmt((mb / maildirMs) * 1000)} MB/s`,
            baseline: `doveadm backup, no hard links: ${fmt(rate(dsyncMs))} msg/s (it does more: fsyncs, index; see the notes)`,
            ratio: dsyncMs / maildirMs,
            goal: '',
            pass: undefined,
          },
          {
            what: `Maildir restore, ${n.toLocaleString('en-US')} messages, against dsync without its fsyncs`,
            ours: `${fmt(rate(maildirMs))} msg/s`,
            baseline: `doveadm backup, no hard links, mail_fsync=never, no mail_log: ${fmt(rate(lightMs))} msg/s (still writes its index; see the notes)`,
            ratio: lightMs / maildirMs,
            goal: '',
            pass: undefined,
          },
        ],
        peakRssMB: peakRssMB(),
      }
    } finally {
      await backend.right.close()
      await removeDovecot(d)
    }
  },
}
