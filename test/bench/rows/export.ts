/**
 * Full-history export of one account of 100,000 messages (scaled with --scale), each with a real
 * body in the blob store (300–600 bytes: stored raw, as gzip would not save a block), run as a user
 * runs it (the CLI in its own process, whose peak RSS is sampled from /proc), against `cp -r` of the
 * export it wrote (the same bytes, copied), into tmpfs and onto the disk.
 */
import { spawn, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { streamOfAccount } from '../../../domain/ids'
import { type Instant, instant } from '../../../domain/instant'
import { makeEvent } from '../../../domain/makeEvent'
import type { MailEvent } from '../../../domain/events'
import { openBackend } from '../../../src/wiring/backend'
import { rng } from '../../../src/demo/random'
import { fmt, now, peakRssMB } from '../measure'
import type { Line, RowResult, RowSpec } from '../row'

const CLI = path.join(__dirname, '..', '..', '..', 'src', 'cli', 'main.js')

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

/** Runs the CLI and samples its resident memory until it exits. */
const runSampled = (args: readonly string[]): Promise<{ code: number; ms: number; peakMB: number; stderr: string }> =>
  new Promise((resolve) => {
    const t = now()
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    let peak = 0
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))
        if (m !== null) peak = Math.max(peak, Number(m[1]) / 1024)
      } catch {
        // The process has just exited.
      }
    }, 20)
    child.on('close', (code) => {
      clearInterval(sample)
      resolve({ code: code ?? -1, ms: now() - t, peakMB: peak, stderr })
    })
  })

export const exportRow: RowSpec = {
  name: 'export',
  title: 'full-history export against cp -r of the same bytes',
  hasGoal: true,
  run: async ({ data, scale }): Promise<RowResult> => {
    const n = Math.max(1_000, Math.round(100_000 * scale))
    // A directory of its own, and the previous runs' data deleted only after measuring: on ext4
    // without a journal (this VM's disk), creating files within minutes of deleting 100,000 others
    // takes several times longer (the inode allocator checks each recently freed inode), and the
    // export, which creates its files first, would pay for it and cp would not (docs/performance.md).
    const dir = path.join(data, `export-${Date.now()}`)
    const leftovers = fs.existsSync(data)
      ? fs
          .readdirSync(data)
          .filter((f) => f === 'export' || f.startsWith('export-'))
          .map((f) => path.join(data, f))
      : []
    fs.mkdirSync(dir, { recursive: true })
    const store = `sqlite:${path.join(dir, 'm.db')}`
    const b = openBackend(store, path.join(dir, 'blobs'))
    if (E.isLeft(b)) throw new Error('store')
    const r = rng(11)
    const account = 'export@example.com'
    const words = ['report', 'budget', 'meeting', 'invoice', 'travel', 'project', 'review', 'draft']
    const start = Date.parse('2026-01-01T00:00:00Z')
    let seq = 0
    let batch: MailEvent[] = []
    const prov = (at: number) => ({ accountId: account as never, observedVia: 'demo' as const, source: { kind: 'bench', seq: seq++ }, recordedAt: instant(at) })
    for (let i = 0; i < n; i++) {
      const at = start + i * 60_000
      const body = Buffer.from(
        `From: s${i % 50}@example.org\r\nTo: ${account}\r\nSubject: ${words[i % words.length]} ${i}\r\nMessage-ID: <e${i}@example.org>\r\n\r\n${Array.from({ length: r.int(20, 60) }, () => words[r.int(0, words.length - 1)]).join(' ')}\r\n`,
      )
      const put = b.right.blobs.put(body)
      if (E.isLeft(put)) throw new Error('blob')
      batch.push(
        makeEvent('ItemCreated', prov(at), instant(at), {
          itemId: (256 + i) as never,
          itemType: 'message',
          folderId: (i % 3 === 0 ? 5 : 2) as never,
          flags: (i % 2 === 0 ? ['\\Seen'] : []) as never[],
          tags: [],
          content: { digest: put.right.digest, size: body.length },
          headers: { subject: `${words[i % words.length]} ${i}` },
        }),
      )
      if (i % 10 === 0) batch.push(makeEvent('ItemFlagsChanged', prov(at + 1000), instant(at + 1000), { itemId: (256 + i) as never, flags: ['\\Seen', '\\Flagged'] as never[] }))
      if (batch.length >= 5000) {
        const a = await b.right.store.appendToStream(streamOfAccount(account as never), batch)()
        if (E.isLeft(a)) throw new Error('append')
        batch = []
      }
    }
    if (batch.length > 0) await b.right.store.appendToStream(streamOfAccount(account as never), batch)()
    await b.right.index.liveItemsAsOf(account as never, { validAt: instant(start) as Instant })()
    await b.right.close()

    // Each place three times, export and cp alternating, medians compared: on this VM one run of
    // either can take half as long again as the next. On tmpfs both sides read and write memory
    // (the export's store and blobs are copied there first, as cp reads the export there): it
    // measures the work of each; on the disk both read and write this machine's ext4.
    const shm = fs.existsSync('/dev/shm') ? fs.mkdtempSync('/dev/shm/mailtime-bench-') : undefined
    if (shm !== undefined) spawnSync('cp', ['-r', path.join(dir, 'm.db'), path.join(dir, 'blobs'), shm])
    const places = [
      ...(shm === undefined ? [] : [{ name: 'tmpfs', root: shm, store: `sqlite:${path.join(shm, 'm.db')}`, blobs: path.join(shm, 'blobs') }]),
      { name: 'disk', root: dir, store, blobs: path.join(dir, 'blobs') },
    ]
    const rows: Line[] = []
    try {
      for (const place of places) {
        const exportMs: number[] = []
        const cpMs: number[] = []
        let peakMB = 0
        let bytes = 0
        for (let round = 0; round < 3; round++) {
          const dest = path.join(place.root, `out-${round}`)
          const ex = await runSampled(['--store', place.store, '--blobs', place.blobs, '--quiet', 'exportHistory', account, 'dest', dest])
          if (ex.code !== 0) throw new Error(`export failed: ${ex.stderr}`)
          exportMs.push(ex.ms)
          peakMB = Math.max(peakMB, ex.peakMB)
          bytes = Number(spawnSync('du', ['-sb', dest], { encoding: 'utf8' }).stdout.split('\t')[0])
          const t = now()
          const cp = spawnSync('cp', ['-r', dest, path.join(place.root, `copy-${round}`)])
          cpMs.push(now() - t)
          if (cp.status !== 0) throw new Error('cp failed')
          if (round === 0) {
            const ok = spawnSync(process.execPath, [CLI, 'verifyExport', dest], { encoding: 'utf8' })
            if (ok.status !== 0) throw new Error(`the export does not verify: ${ok.stderr}`)
          }
        }
        const ours = median(exportMs)
        const theirs = median(cpMs)
        const ratio = theirs / ours
        rows.push({
          what: `export ${n.toLocaleString('en-US')} messages to ${place.name} (${fmt(bytes / 1e6)} MB written; median of 3)`,
          ours: `${fmt(bytes / 1e6 / (ours / 1000))} MB/s (${exportMs.map((ms) => fmt(ms / 1000)).join(', ')} s), peak RSS ${fmt(peakMB)} MB`,
          baseline: `cp -r: ${fmt(bytes / 1e6 / (theirs / 1000))} MB/s (${cpMs.map((ms) => fmt(ms / 1000)).join(', ')} s)`,
          ratio,
          goal: '≥ 0.5× cp; RSS < 300 MB',
          pass: ratio >= 0.5 && peakMB < 300,
        })
      }
    } finally {
      for (const d of [...leftovers, ...places.map((p) => p.root), dir]) fs.rmSync(d, { recursive: true, force: true })
    }
    return {
      rows,
      peakRssMB: peakRssMB(),
    }
  },
}
