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
 * item states one at a time from the index. Memory holds the set of digests, the content batches
 * not yet written, and the manifest's file list.
 */
import * as fs from 'fs'
import * as path from 'path'
import { setFlagsFromString } from 'v8'
import { GENESIS, chainHash } from '../../domain/export/hashChain'
import { type AccountId, streamOfAccount } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { eventJson } from '../../domain/json'
import { accountExists, accountStateAt, folderViewsOf } from '../../projections/accountView'
import { accountSource } from '../../projections/accountSource'
import { type Histories, completeFolderTree } from '../../projections/folderNaming'
import type { FolderTree } from '../../projections/folderTree'
import { orRaise } from '../../projections/errors'
import { snapshotItemJson } from '../../projections/snapshot'
import type { Backend } from '../app/ports'
import { safeSegment } from '../restore/folderNames'
import { stableStringify } from '../cli/stableJson'
import { type ContentJob, type ContentWriter, contentWriter } from './contentFiles'
import { type HashedFile, type ManifestFile, hashedFile } from './hashedFile'
import { contentPlace } from './layout'

export interface ExportParams {
  readonly account: AccountId
  readonly from: Instant
  readonly to: Instant
  readonly at: readonly Instant[]
  readonly toolVersion: string
  readonly createdAt: Instant
  /**
   * Called after each step that is complete on disk: each state file, the timeline, the content
   * files and MBOXes, the manifest (fault injection in tests: MAILTIME_FAULT=kill-after-step:N).
   */
  readonly afterStep?: () => Promise<void>
}

export type { ManifestFile }

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

/** A message of the state being written, for its folder's MBOX. */
interface MboxMessage {
  readonly folder: string
  readonly date: number
  readonly digest: string
  readonly size: number
}

/**
 * A state file, one item per line, streamed from the temporal index in item order: the same JSON
 * value as `snapshotOf` of the account view (what `verifyExport` compares), without building the
 * view or holding the items. The folder list comes after the items, since which folders are shown
 * depends on them. Each message goes to `onMessage` as it is read, for the MBOX files.
 *
 * Folders are named by the one rule (`projections/folderNaming.ts`). The live folders name nearly
 * every item; an item in a folder they do not name (deleted or not yet recorded at that instant, or
 * never learned) shows only while streaming. Its folder is then looked up, and when that changes a
 * name already written, the file is written again; from the first such item on, messages go to
 * `onMessage` only once their folder's name is final, in item order.
 */
const writeState = async (b: Backend, dest: string, rel: string, account: AccountId, at: Instant, onMessage?: (m: MboxMessage) => void): Promise<ManifestFile> => {
  const asOf = { validAt: at }
  const live = await orRaise(b.index.foldersAsOf(account, asOf))
  const events = await orRaise(b.index.accountEvents(account))
  const histories: Histories = new Map()
  const tree = await orRaise(completeFolderTree(b.index, account, asOf, live, [], histories))
  const first = hashedFile(dest, rel)
  const pass = await streamState(b, first, account, at, tree, events, onMessage, 0, true)
  if (pass.unnamed.size === 0) return first.close()
  const named = await orRaise(completeFolderTree(b.index, account, asOf, live, pass.unnamed, histories))
  const changed = [...pass.unnamed].some((id) => named.pathOf(id) !== tree.pathOf(id))
  if (!changed) {
    // The names written stand; only the messages held back remain.
    if (onMessage !== undefined) await streamState(b, undefined, account, at, named, events, onMessage, pass.heldFrom)
    return first.close()
  }
  first.close()
  fs.rmSync(path.join(dest, rel))
  const second = hashedFile(dest, rel)
  await streamState(b, second, account, at, named, events, onMessage, pass.heldFrom)
  return second.close()
}

/**
 * One pass over the items alive at `at`, writing to `f` (when given) and handing messages from item
 * `messagesFrom` on to `onMessage`. With `hold`, returns the folders the tree could not name and the
 * first item in one of them, from which messages were held back.
 */
const streamState = async (
  b: Backend,
  f: HashedFile | undefined,
  account: AccountId,
  at: Instant,
  tree: FolderTree,
  events: Parameters<typeof accountSource>[0],
  onMessage: ((m: MboxMessage) => void) | undefined,
  messagesFrom: number,
  hold = false,
): Promise<{ unnamed: Set<number>; heldFrom: number }> => {
  const asOf = { validAt: at }
  const counts = new Map<number, number>()
  const unnamed = new Set<number>()
  let heldFrom = Number.MAX_SAFE_INTEGER
  f?.write(`{"at":${JSON.stringify(new Date(at).toISOString())},"items":[`)
  let chunk: string[] = []
  let items = 0
  const live = await orRaise(
    b.index.eachLiveItem(account, asOf, (s) => {
      if (s.itemType === 'folder') return
      if (hold && !tree.names(s.folderId)) {
        unnamed.add(s.folderId)
        heldFrom = Math.min(heldFrom, s.itemId)
      }
      const folder = tree.pathOf(s.folderId)
      counts.set(s.folderId, (counts.get(s.folderId) ?? 0) + 1)
      if (f !== undefined) {
        chunk.push(`${items++ === 0 ? '' : ','}\n${snapshotItemJson(folder, s)}`)
        if (chunk.length >= 2000) {
          f.write(chunk.join(''))
          chunk = []
        }
      }
      if (onMessage !== undefined && s.itemId >= messagesFrom && s.itemId < heldFrom && s.itemType === 'message' && s.content !== undefined)
        onMessage({ folder, date: s.internalDate ?? s.createdAt ?? 0, digest: s.content.digest, size: s.content.size })
    }),
  )
  if (f !== undefined) {
    const exists = accountExists(accountStateAt(account, events, asOf), at, live > 0)
    const folderList = folderViewsOf(tree, counts, accountSource(events), exists).map((v) => ({ folderId: v.folderId, path: v.path }))
    f.write(`${chunk.join('')}\n],"exists":${exists},"folders":${stableStringify(folderList, 0)}}\n`)
  }
  return { unnamed, heldFrom }
}

/** A path that JSON writes as it is, between quotes. */
const PLAIN = /^[\w./-]*$/

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
        // Keys already in sorted order, digests hex, and a path JSON would not escape as it is:
        // the same text as `stableStringify`.
        .map((f, j) => `${i + j === 0 ? '' : ',\n    '}{"path":${PLAIN.test(f.path) ? `"${f.path}"` : JSON.stringify(f.path)},"sha256":"${f.sha256}","size":${f.size}}`)
        .join(''),
    )
  fs.writeSync(fd, `${tail}\n`)
  fs.closeSync(fd)
}

/** The MBOX file of a folder path. */
const mboxFile = (folder: string): string =>
  `mbox/${
    folder
      .split('/')
      .filter((s) => s.length > 0)
      .map((s) => safeSegment(s, ['/']))
      .join('/') || 'root'
  }.mbox`

type Progress = (done: number, total: number, what: string) => void

export const exportHistory = async (b: Backend, dest: string, p: ExportParams, onProgress?: Progress): Promise<Manifest> => {
  // V8's allocation-site pretenuring, off for the rest of the process: the states' long-lived
  // records (each content file's entry, the digests already claimed) taught it to allocate objects
  // of some sites directly in the old generation, where the timeline's short-lived ones then piled
  // up until a full collection. Peak RSS went from 216 MB to 295–336 MB in about half the runs of
  // a 100,000-message export, which were slower too (docs/performance.md). Collections read the
  // flag each time, so setting it now takes effect.
  setFlagsFromString('--no-allocation-site-pretenuring')
  // Message bodies go to the content writer (another thread), each blob read once for its content
  // file and its MBOX; this thread writes the states and the timeline meanwhile.
  const queued = { jobs: 0 }
  const writer = contentWriter(b.blobs, dest, (d) => onProgress?.(d, queued.jobs, 'contents'))
  try {
    return await writeExport(b, dest, p, writer, queued, onProgress)
  } catch (e) {
    await writer.abort()
    throw e
  }
}

const writeExport = async (b: Backend, dest: string, p: ExportParams, writer: ContentWriter, queued: { jobs: number }, onProgress?: Progress): Promise<Manifest> => {
  const submit = (jobs: ContentJob[]) => {
    queued.jobs += jobs.length
    writer.submit(jobs)
  }
  const files: ManifestFile[] = []
  const stream = streamOfAccount(p.account)
  const total = (await orRaise(b.store.streamRevision(stream))) + 1
  const written = new Set<string>()
  const dirs = new Set<string>()
  /** The content file of a digest the first time it is asked for, then undefined. */
  const contentFile = (digest: string, itemType: string): string | undefined => {
    if (written.has(digest)) return undefined
    written.add(digest)
    const { dir, ext } = contentPlace(itemType)
    if (!dirs.has(dir)) fs.mkdirSync(path.join(dest, dir), { recursive: true })
    dirs.add(dir)
    return `${dir}/${digest}.${ext}`
  }

  // 1. States, `to` first: its messages go to the writer as they are read, each to its folder's
  // MBOX in the state's order (item id), and to its content file (claimed now, so that the
  // timeline does not read those blobs again).
  const labels: { label: string; at: Instant }[] = [
    { label: 'from', at: p.from },
    { label: 'to', at: p.to },
    ...p.at.map((t) => ({ label: `at-${new Date(t).toISOString().replace(/[:.]/g, '-')}`, at: t })),
  ]
  const states: Manifest['states'] = labels.map(({ label, at }) => ({ label, at: new Date(at).toISOString(), file: `states/${label}.json` }))
  for (const [n, { label, at }] of [...labels.entries()].sort(([, a], [, c]) => Number(c.label === 'to') - Number(a.label === 'to'))) {
    onProgress?.(n, labels.length, 'states')
    const mboxOf = new Map<string, string>()
    let jobs: ContentJob[] = []
    const toMbox = (m: MboxMessage) => {
      let rel = mboxOf.get(m.folder)
      if (rel === undefined) mboxOf.set(m.folder, (rel = mboxFile(m.folder)))
      jobs.push({ digest: m.digest, size: m.size, rel: contentFile(m.digest, 'message'), mbox: { rel, date: m.date } })
      if (jobs.length >= 1000) {
        submit(jobs)
        jobs = []
      }
    }
    files.push(await writeState(b, dest, `states/${label}.json`, p.account, at, label === 'to' ? toMbox : undefined))
    submit(jobs)
    await p.afterStep?.()
  }

  // 2. The timeline, a page at a time, chained; every content it names that no MBOX holds goes to
  // the writer as it is found.
  const typeOfItem = new Map<number, string>()
  let jobs: ContentJob[] = []
  const tl = hashedFile(dest, 'timeline.jsonl')
  let prev = GENESIS
  let events = 0
  for (let from = 0; ; from += PAGE) {
    const page = await orRaise(b.store.readStream(stream, { from, maxCount: PAGE, withText: true }))
    for (const s of page) {
      if (s.event.occurredAt > p.to) continue
      const e = s.event as { content?: { digest: string; size: number }; itemType?: string; itemId?: number }
      // Only the types that are not filed as messages, the default below (most items are messages).
      if (e.itemId !== undefined && e.itemType !== undefined && e.itemType !== 'message') typeOfItem.set(e.itemId, e.itemType)
      if (e.content !== undefined) {
        // A content change names no item type: the item's creation did.
        const rel = contentFile(e.content.digest, e.itemType ?? (e.itemId === undefined ? undefined : typeOfItem.get(e.itemId)) ?? 'message')
        if (rel !== undefined) jobs.push({ digest: e.content.digest, size: e.content.size, rel })
      }
      // The store's own text when it has one (decoded above, so valid); a line must stay one line.
      const ej = s.text !== undefined && !s.text.includes('\n') && !s.text.includes('\r') ? s.text : eventJson(s.event)
      const hash = chainHash(prev, ej)
      // In parts: joined, the line would be copied once more before it is written.
      tl.write(`{"seq":${events},"revision":${s.revision},"prev":"${prev}","hash":"${hash}","event":`)
      tl.write(ej)
      tl.write('}\n')
      prev = hash
      events++
    }
    if (jobs.length >= 1000) {
      submit(jobs)
      jobs = []
    }
    onProgress?.(Math.min(from + page.length, total), total, 'timeline')
    // Let the content writer's replies in, so that it is handed more work while this loop runs,
    // and wait while it has much queued (the timeline can outrun the workers).
    await writer.ready()
    if (page.length < PAGE) break
  }
  submit(jobs)
  files.push(tl.close())
  await p.afterStep?.()
  const contents = await writer.finish()
  await p.afterStep?.()

  const manifest: Manifest = {
    format: 'mailtime-export-v1',
    tool: { name: 'mailtime', version: p.toolVersion },
    createdAt: new Date(p.createdAt).toISOString(),
    parameters: { account: p.account, from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(), at: p.at.map((t) => new Date(t).toISOString()) },
    timeline: { file: 'timeline.jsonl', events, genesis: GENESIS, head: prev },
    states,
    missing: contents.missing,
    // The export's own files in path order, then the content files in the order the export met
    // them (the `to` state's messages in item order, then the timeline's other contents): as
    // repeatable as a sort by path, which took 0.2–0.4 s of this last, single-threaded step.
    files: [...[...files, ...contents.mbox].sort((a, c) => (a.path < c.path ? -1 : 1)), ...contents.contents],
  }
  writeManifest(path.join(dest, 'manifest.json'), manifest)
  await p.afterStep?.()
  return manifest
}
