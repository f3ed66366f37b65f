/**
 * The verifiable full-history export of one account, for legal holds and investigations:
 *
 *   messages/<sha256>.eml      every distinct message body of every version in the timeline, once
 *   contacts/<sha256>.vcf      contact content, calendar/<sha256>.ics appointment content
 *   timeline.jsonl             every event of the account in stream order, both instants and
 *                              provenance, each line chained to the previous one by SHA-256
 *   states/<label>.json        folder tree and item list as of `from`, `to` and each `at`
 *   mbox/<folder path>.mbox    each folder as of `to`, mboxrd, for reviewers with a mail client
 *   manifest.json              every file's SHA-256 and size, the parameters, the tool version,
 *                              and the chain's head
 *
 * Everything is streamed: the timeline is read and written a page at a time, blobs one at a time,
 * item states one at a time from the index. Memory holds the set of digests, one short line per
 * item of the state being written, and one small record per message for the MBOX.
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { GENESIS, chainHash } from '../../domain/export/hashChain'
import { type AccountId, streamOfAccount } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { eventJson } from '../../domain/json'
import { accountExists, accountStateAt, folderViewsOf } from '../../projections/accountView'
import { folderTree } from '../../projections/folderTree'
import { orRaise } from '../../projections/errors'
import { snapshotItem } from '../../projections/snapshot'
import { describeBlobError } from '../blobs/blobStore'
import type { Backend } from '../app/backend'
import { safeSegment } from '../restore/folderNames'
import { stableStringify } from '../cli/stableJson'
import { contentPlace } from './layout'

export interface ExportParams {
  readonly account: AccountId
  readonly from: Instant
  readonly to: Instant
  readonly at: readonly Instant[]
  readonly toolVersion: string
  readonly createdAt: Instant
}

export interface ManifestFile {
  readonly path: string
  readonly sha256: string
  readonly size: number
}

export interface Manifest {
  readonly format: 'mailtime-export-v1'
  readonly tool: { name: 'mailtime'; version: string }
  readonly createdAt: string
  readonly parameters: { account: string; from: string; to: string; at: string[] }
  readonly timeline: { file: 'timeline.jsonl'; events: number; genesis: string; head: string }
  readonly states: { label: string; at: string; file: string }[]
  readonly missing: { digest: string; reason: string }[]
  readonly files: ManifestFile[]
}


const PAGE = 1000

/** A writer that hashes what it writes. */
const hashedFile = (root: string, rel: string) => {
  const file = path.join(root, rel)
  if (!fs.existsSync(path.dirname(file))) fs.mkdirSync(path.dirname(file), { recursive: true })
  const fd = fs.openSync(file, 'wx')
  const h = createHash('sha256')
  let size = 0
  return {
    write: (data: string | Buffer) => {
      const b = typeof data === 'string' ? Buffer.from(data) : data
      fs.writeSync(fd, b)
      h.update(b)
      size += b.length
    },
    close: (): ManifestFile => {
      fs.closeSync(fd)
      return { path: rel, sha256: h.digest('hex'), size }
    },
  }
}

/** mboxrd: a `From ` line before each message, `>` added to lines that start with `>*From `. */
const mboxEntry = (bytes: Buffer, date: number): Buffer => {
  const d = new Date(date)
  const asctime = d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, wd: string, day: string, mon: string, y: string, t: string) => `${wd} ${mon} ${day.padStart(2, ' ')} ${t} ${y}`)
  const body = bytes.toString('latin1').replace(/^(>*From )/gm, '>$1')
  const end = body.endsWith('\n') ? '' : '\n'
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n${body}${end}\n`, 'latin1')
}

interface MboxItem {
  readonly folder: string
  readonly order: number
  readonly date: number
  readonly itemId: number
  readonly digest: string
}

/**
 * A state file, one item per line, streamed from the temporal index: the same JSON value as
 * `snapshotOf` of the account view (what `verifyExport` compares), without building the view. What
 * it keeps is one short line per item (to sort them by id) and, for the MBOX, one small record per
 * message.
 */
const writeState = async (b: Backend, f: ReturnType<typeof hashedFile>, account: AccountId, at: Instant, mbox: MboxItem[] | undefined): Promise<ManifestFile> => {
  const asOf = { validAt: at }
  const folders = await orRaise(b.index.foldersAsOf(account, asOf))
  const tree = folderTree(folders)
  const lines: { id: number; line: string }[] = []
  const counts = new Map<number, number>()
  const live = await orRaise(
    b.index.eachLiveItem(account, asOf, (s) => {
      if (s.itemType === 'folder') return
      const folder = tree.pathOf(s.folderId)
      counts.set(s.folderId, (counts.get(s.folderId) ?? 0) + 1)
      lines.push({ id: s.itemId, line: stableStringify(snapshotItem(folder, s), 0) })
      if (mbox !== undefined && s.itemType === 'message' && s.content !== undefined)
        mbox.push({ folder, order: s.internalDate ?? 0, date: s.internalDate ?? s.createdAt ?? 0, itemId: s.itemId, digest: s.content.digest })
    }),
  )
  const exists = accountExists(accountStateAt(account, await orRaise(b.index.accountEvents(account)), asOf), at, live > 0)
  const folderList = folderViewsOf(folders, counts).map((v) => ({ folderId: v.folderId, path: v.path }))
  f.write(`{"at":${JSON.stringify(new Date(at).toISOString())},"exists":${exists},"folders":${stableStringify(folderList, 0)},"items":[`)
  lines.sort((a, c) => a.id - c.id)
  for (let i = 0; i < lines.length; i += 2000)
    f.write(
      lines
        .slice(i, i + 2000)
        .map((l, j) => `${i + j === 0 ? '' : ','}\n${l.line}`)
        .join(''),
    )
  f.write('\n]}\n')
  return f.close()
}

/** Each folder's messages as of `to`, oldest first, one mboxrd file per folder. */
const writeMboxes = (b: Backend, dest: string, items: MboxItem[]): ManifestFile[] => {
  items.sort((a, c) => (a.folder < c.folder ? -1 : a.folder > c.folder ? 1 : a.order - c.order || a.itemId - c.itemId))
  const files: ManifestFile[] = []
  let current: { folder: string; file: ReturnType<typeof hashedFile> } | undefined
  for (const i of items) {
    if (current?.folder !== i.folder) {
      if (current !== undefined) files.push(current.file.close())
      const rel = `mbox/${i.folder.split('/').filter((s) => s.length > 0).map((s) => safeSegment(s, ['/'])).join('/') || 'root'}.mbox`
      current = { folder: i.folder, file: hashedFile(dest, rel) }
    }
    const bytes = b.blobs.get(i.digest)
    if (E.isRight(bytes)) current.file.write(mboxEntry(bytes.right, i.date))
  }
  if (current !== undefined) files.push(current.file.close())
  return files
}

/**
 * The manifest, with one line per file written a chunk at a time: a single string of 100,000
 * entries would be the export's largest allocation.
 */
const writeManifest = (file: string, m: Manifest): void => {
  const placeholder = '\u0000files\u0000'
  const mark = JSON.stringify(placeholder)
  const [head = '', tail = ''] = stableStringify({ ...m, files: [placeholder] }).split(mark)
  const fd = fs.openSync(file, 'w')
  fs.writeSync(fd, head)
  for (let i = 0; i < m.files.length; i += 5000)
    fs.writeSync(
      fd,
      m.files
        .slice(i, i + 5000)
        .map((f, j) => `${i + j === 0 ? '' : ',\n    '}${stableStringify(f, 0)}`)
        .join(''),
    )
  fs.writeSync(fd, `${tail}\n`)
  fs.closeSync(fd)
}

export const exportHistory = async (b: Backend, dest: string, p: ExportParams, onProgress?: (done: number, total: number, what: string) => void): Promise<Manifest> => {
  const files: ManifestFile[] = []
  const missing: { digest: string; reason: string }[] = []
  const stream = streamOfAccount(p.account)
  const total = (await orRaise(b.store.streamRevision(stream))) + 1

  // 1. The timeline, a page at a time, chained; it also names every content the export must hold.
  const contents = new Map<string, string>()
  const tl = hashedFile(dest, 'timeline.jsonl')
  let prev = GENESIS
  let events = 0
  for (let from = 0; ; from += PAGE) {
    const page = await orRaise(b.store.readStream(stream, { from, maxCount: PAGE }))
    for (const s of page) {
      if (s.event.occurredAt > p.to) continue
      const e = s.event as { content?: { digest: string }; itemType?: string }
      if (e.content !== undefined) contents.set(e.content.digest, e.itemType ?? contents.get(e.content.digest) ?? 'message')
      const ej = eventJson(s.event)
      const hash = chainHash(prev, ej)
      tl.write(`{"seq":${events},"revision":${s.revision},"prev":"${prev}","hash":"${hash}","event":${ej}}\n`)
      prev = hash
      events++
    }
    onProgress?.(Math.min(from + page.length, total), total, 'timeline')
    if (page.length < PAGE) break
  }
  files.push(tl.close())

  // 2. Every distinct content the timeline references, once.
  // Read a batch, then write it: on ext4 here, alternating one read and one file creation ran
  // three times slower than batches (measured; see docs/performance.md).
  let done = 0
  let batch: { rel: string; bytes: Buffer }[] = []
  let batchBytes = 0
  const flush = () => {
    for (const x of batch) {
      const f = hashedFile(dest, x.rel)
      f.write(x.bytes)
      files.push(f.close())
      onProgress?.(++done, contents.size, 'contents')
    }
    batch = []
    batchBytes = 0
  }
  for (const dir of new Set([...contents.values()].map((t) => contentPlace(t).dir))) fs.mkdirSync(path.join(dest, dir), { recursive: true })
  for (const [digest, itemType] of contents) {
    const bytes = b.blobs.get(digest)
    if (E.isLeft(bytes)) {
      missing.push({ digest, reason: describeBlobError(bytes.left) })
      continue
    }
    const { dir, ext } = contentPlace(itemType)
    batch.push({ rel: `${dir}/${digest}.${ext}`, bytes: bytes.right })
    batchBytes += bytes.right.length
    if (batch.length >= 1000 || batchBytes >= 8 * 1024 * 1024) flush()
  }
  flush()

  // 3. States, and the MBOX of each folder as of `to`.
  const labels: { label: string; at: Instant }[] = [
    { label: 'from', at: p.from },
    { label: 'to', at: p.to },
    ...p.at.map((t) => ({ label: `at-${new Date(t).toISOString().replace(/[:.]/g, '-')}`, at: t })),
  ]
  const states: Manifest['states'] = []
  const mbox: MboxItem[] = []
  for (const [n, { label, at }] of labels.entries()) {
    onProgress?.(n, labels.length, 'states')
    files.push(await writeState(b, hashedFile(dest, `states/${label}.json`), p.account, at, label === 'to' ? mbox : undefined))
    states.push({ label, at: new Date(at).toISOString(), file: `states/${label}.json` })
  }
  onProgress?.(labels.length, labels.length, 'mbox')
  files.push(...writeMboxes(b, dest, mbox))

  const manifest: Manifest = {
    format: 'mailtime-export-v1',
    tool: { name: 'mailtime', version: p.toolVersion },
    createdAt: new Date(p.createdAt).toISOString(),
    parameters: { account: p.account, from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), at: p.at.map((t) => new Date(t).toISOString()) },
    timeline: { file: 'timeline.jsonl', events, genesis: GENESIS, head: prev },
    states,
    missing,
    files: files.sort((a, c) => (a.path < c.path ? -1 : 1)),
  }
  writeManifest(path.join(dest, 'manifest.json'), manifest)
  return manifest
}
