/**
 * The coherency check (`doCoherencyCheck`): reads a store and says whether what it holds is whole
 * and agrees with itself, naming every problem; with `repair`, mends what can be mended.
 *
 * Per account, one pass over the stream, page by page: every event decodes and names the account,
 * revisions have no hole and end where the stream's head says, every referenced blob exists (or,
 * with `readData`, hashes to its digest). A second pass collects the events of a bottom-k sample of
 * items (every item with `full`, in partitions that bound memory) and of items whose blob is
 * missing, and compares the temporal index with a replay of each. The scan checkpoint is compared
 * with the stream (`scanCheckpoint.ts`), the index's position with the events' last position, and,
 * for the whole store, every operation is closed or resumable (`operations.ts`).
 *
 * Memory: one page of events, the sample's events (or one partition's, about `FULL_BUDGET` events),
 * the events of the account's folders, and the problems found. No set of every digest or item.
 *
 * Reads are ordered so that a writer working meanwhile can make a checkpoint look behind the events,
 * never ahead: checkpoints and heads are read before the events they are compared with; an index
 * disagreement is checked again on a fresh read before it is reported.
 */
import { randomInt } from 'crypto'
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { type ImapLocation, type ItemEvent, isItemEvent } from '../../domain/events'
import { type AccountId, type ItemId, accountOfStream, streamOfAccount } from '../../domain/ids'
import type { StoreError } from '../../projections/errors'
import { type RecordedEvent, compareRecorded } from '../../projections/order'
import type { TimeTravel } from '../../projections/timeTravel'
import { itemVersions } from '../../projections/versions'
import type { BlobStore } from '../blobs/blobStore'
import { checkpointName } from '../capture/scanCheckpoint'
import type { EventStore } from '../store/eventStore'
import type { OperationLog } from '../store/operationLog'
import { blobChecker } from './blobCheck'
import { compareItem } from './indexCheck'
import type { MessageSource } from './messageSource'
import {
  type AccountReport,
  type CoherencyError,
  type CoherencyReport,
  type CoherencyRequest,
  DEFAULT_SAMPLE,
  type OperationsReport,
  type Problem,
  type RepairOutcome,
  byProblemOrder,
} from './model'
import { checkOperations } from './operations'
import { type Damage, type ScanReset, repairBlobs, resetScanCheckpoints, unrepairable } from './repair'
import { bottomK, partitionOf } from './sample'
import { checkpointAhead, checkpointFromStream, decodeScanCheckpoint, rereadEverything } from './scanCheckpoint'
import { type Entry, streamEntries } from './streamEntries'

/** The temporal index's position checkpoint, as both SQL indexes name it (sqliteTemporalIndex.ts, pgTemporalIndex.ts). */
export const INDEX_POSITION = 'index:global_position'
/** Item events per partition of a full comparison. */
export const FULL_BUDGET = 100_000

export interface RebuildableIndex extends TimeTravel {
  rebuild(onProgress?: (done: number, total: number) => void): TE.TaskEither<StoreError, { items: number; versions: number }>
}

export interface CheckProgress {
  readonly stage: 'events' | 'index' | 'operations' | 'repair'
  readonly label: string
  readonly done: number
  readonly total: number
}

export interface CoherencyDeps {
  readonly store: EventStore
  /** The store that holds the temporal index's position: the same store, or the copy beside an EventStoreDB source. */
  readonly indexStore: EventStore
  readonly index: RebuildableIndex
  readonly blobs: BlobStore
  readonly operations: OperationLog
  readonly isAlive: (host: string, pid: number) => boolean
  /** Where a repair fetches messages again, or why it cannot (no server configured). */
  readonly messages: E.Either<string, MessageSource>
  /** Salt of the item sample (random when absent). */
  readonly salt?: number
  readonly onProgress?: (p: CheckProgress) => void
  readonly shouldStop?: () => boolean
}

interface AccountOutcome {
  readonly report: AccountReport
  readonly problems: Problem[]
  readonly damages: Damage[]
  /** Items whose index history disagreed with the replay (to verify after a rebuild). */
  readonly disagreeing: Map<number, Problem>
  readonly scanReset: ScanReset | undefined
  /** Events of the stream are missing or do not decode. */
  readonly eventsLost: boolean
  readonly stopped: boolean
}

/** Shared between accounts: the index is one for the whole store. */
interface RunState {
  indexBroken: boolean
}

const storeError = (error: StoreError): CoherencyError => ({ _tag: 'Store', error })

/**
 * Lets the event loop run: the embedded store answers synchronously, so without this a whole check
 * is one task, and a stop signal (SIGINT) would wait for its end.
 */
const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Reads a whole stream through `visit`; Right(false) when stopped between pages. */
const readStream = async (deps: CoherencyDeps, stream: string, visit: (entries: readonly Entry[]) => void): Promise<E.Either<StoreError, boolean>> => {
  for await (const page of streamEntries(deps.store, stream)) {
    if (E.isLeft(page)) return page
    visit(page.right)
    await yieldToEvents()
    if (deps.shouldStop?.() === true) return E.right(false)
  }
  return E.right(true)
}

/** The events of the given items, read from the stream (undecodable rows skipped: they are reported by the first pass). */
const collectItems = async (
  deps: CoherencyDeps,
  stream: string,
  wanted: (item: number) => boolean,
): Promise<E.Either<StoreError, { items: Map<number, RecordedEvent<ItemEvent>[]>; complete: boolean }>> => {
  const items = new Map<number, RecordedEvent<ItemEvent>[]>()
  const r = await readStream(deps, stream, (entries) => {
    for (const x of entries) {
      if (x._tag !== 'Event') continue
      const e = x.stored.event
      if (!isItemEvent(e) || !wanted(e.itemId)) continue
      const list = items.get(e.itemId)
      const rec = { event: e, revision: x.stored.revision }
      if (list === undefined) items.set(e.itemId, [rec])
      else list.push(rec)
    }
  })
  return E.isLeft(r) ? r : E.right({ items, complete: r.right })
}

/** An item's recorded IMAP locations, newest first, each once. */
const locationsOf = (events: readonly RecordedEvent<ItemEvent>[]): ImapLocation[] => {
  const out: ImapLocation[] = []
  for (const r of [...events].sort(compareRecorded).reverse()) {
    const e = r.event
    const at = e.type === 'ItemCreated' || e.type === 'ItemMoved' ? e.imap : undefined
    if (at !== undefined && !out.some((l) => l.mailbox === at.mailbox && l.uidValidity === at.uidValidity && l.uid === at.uid)) out.push(at)
  }
  return out
}

const checkAccount = async (deps: CoherencyDeps, req: CoherencyRequest, account: AccountId, salt: number, run: RunState): Promise<E.Either<StoreError, AccountOutcome>> => {
  const stream = streamOfAccount(account)
  const progress = (stage: CheckProgress['stage'], done: number, total: number) => deps.onProgress?.({ stage, label: account, done, total })
  const problems: Problem[] = []

  // The checkpoint and the head first: a scan appending meanwhile can then only make them look behind.
  const cpRaw = await deps.store.readCheckpoint(checkpointName(account))()
  if (E.isLeft(cpRaw)) return cpRaw
  const cp = decodeScanCheckpoint(cpRaw.right)
  const head0 = await deps.store.streamRevision(stream)()
  if (E.isLeft(head0)) return head0

  // Pass 1: every event.
  let expected = 0
  let lastSeen = -1
  let events = 0
  let undecodable = 0
  let holes = 0
  let itemEvents = 0
  let maxItemId = 0
  let lastScanAt: number | undefined
  let references = 0
  const checker = blobChecker(deps.blobs, req.readData)
  const sampler = bottomK(req.sampleSize ?? DEFAULT_SAMPLE, salt)
  const folderIds = new Set<number>()
  const folderEvents = new Map<number, RecordedEvent<ItemEvent>[]>()
  const damages: Damage[] = []
  const pass1 = await readStream(deps, stream, (entries) => {
    for (const x of entries) {
      const revision = x._tag === 'Event' ? x.stored.revision : x.revision
      if (revision > expected) {
        holes++
        problems.push({ kind: 'revision-hole', account, revision: expected, detail: `${span(expected, revision - 1)} missing (the stream goes on at ${revision})` })
      }
      expected = revision + 1
      lastSeen = revision
      if (x._tag === 'Undecodable') {
        undecodable++
        problems.push({ kind: 'event-undecodable', account, revision, detail: `event ${revision} does not decode: ${x.reason}` })
        continue
      }
      events++
      const e = x.stored.event
      if (e.observedVia === 'imap-scan') lastScanAt = Math.max(lastScanAt ?? 0, e.recordedAt)
      if (e.accountId !== account)
        problems.push({ kind: 'event-wrong-account', account, revision, eventId: e.eventId, detail: `event ${revision} belongs to account ${e.accountId}, not to this stream's` })
      if (!isItemEvent(e)) continue
      itemEvents++
      maxItemId = Math.max(maxItemId, e.itemId)
      sampler.offer(e.itemId)
      if (e.itemType === 'folder') folderIds.add(e.itemId)
      if (folderIds.has(e.itemId)) {
        const list = folderEvents.get(e.itemId)
        const rec = { event: e, revision }
        if (list === undefined) folderEvents.set(e.itemId, [rec])
        else list.push(rec)
      }
      const content = e.type === 'ItemCreated' || e.type === 'ItemContentChanged' ? e.content : undefined
      if (content === undefined) continue
      references++
      const f = checker.check(content)
      const where = { account, itemId: e.itemId, eventId: e.eventId, revision, digest: content.digest }
      switch (f._tag) {
        case 'Ok':
          break
        case 'BadDigest':
          problems.push({ kind: 'blob-bad-digest', ...where, detail: `the event names content ${JSON.stringify(content.digest)}, which is not a SHA-256 digest` })
          break
        case 'SizeDiffers':
          problems.push({ kind: 'content-size', ...where, detail: `the event records ${content.size} bytes, the blob holds ${f.actual}` })
          break
        case 'Missing':
          damages.push({
            problem: { kind: 'blob-missing', ...where, detail: `blob ${content.digest} is not in the blob store (${f.path})` },
            account,
            itemId: e.itemId,
            digest: content.digest,
            size: content.size,
            locations: [],
          })
          break
        case 'Corrupt':
          damages.push({
            problem: { kind: 'blob-corrupt', ...where, detail: `blob ${f.path} is damaged: ${f.reason}` },
            account,
            itemId: e.itemId,
            digest: content.digest,
            size: content.size,
            locations: [],
          })
          break
        case 'Unreadable':
          damages.push({
            problem: { kind: 'blob-unreadable', ...where, detail: `blob ${f.path} cannot be read: ${f.reason}` },
            account,
            itemId: e.itemId,
            digest: content.digest,
            size: content.size,
            locations: [],
          })
          break
      }
    }
    progress('events', lastSeen + 1, Math.max(head0.right, lastSeen) + 1)
  })
  if (E.isLeft(pass1)) return pass1
  const head1 = await deps.store.streamRevision(stream)()
  if (E.isLeft(head1)) return head1
  if (pass1.right) {
    if (head0.right > lastSeen) {
      holes++
      problems.push({
        kind: 'revision-hole',
        account,
        revision: lastSeen + 1,
        detail: `${span(lastSeen + 1, head0.right)} missing (the stream's head says it ends at ${head0.right})`,
      })
    }
    if (lastSeen > head1.right)
      problems.push({
        kind: 'stream-head',
        account,
        revision: head1.right,
        detail: `events run to revision ${lastSeen}, but the stream's head says ${head1.right}: the next append would collide with revision ${head1.right + 1}`,
      })
  }

  const report = (itemsCompared: number): AccountReport => ({
    account,
    events,
    undecodable,
    lastRevision: head1.right,
    blobReferences: references,
    blobsRead: checker.read(),
    itemsCompared,
    scanCheckpoint: cp._tag === 'None' ? 'none' : cp._tag === 'Bad' ? 'undecodable' : 'checked',
  })
  const disagreeing = new Map<number, Problem>()
  if (!pass1.right) return E.right({ report: report(0), problems, damages, disagreeing, scanReset: undefined, eventsLost: undecodable + holes > 0, stopped: true })

  // The scan checkpoint against the stream.
  let scanReset: ScanReset | undefined
  const cpWhere = { account, checkpoint: checkpointName(account) }
  const facts = { maxItemId, folderEvents, lastScanAt }
  if (cp._tag === 'Bad') {
    const problem: Problem = {
      kind: 'scan-checkpoint-undecodable',
      ...cpWhere,
      detail: `the scan checkpoint does not decode (${cp.reason}): the next scan of the account will fail`,
    }
    problems.push(problem)
    const rebuilt = checkpointFromStream(facts)
    scanReset = {
      problem,
      account,
      raw: cpRaw.right,
      checkpoint: rebuilt,
      how: `checkpoint made again from the stream's ${Object.keys(rebuilt.folders).length} folders: the next scan of ${account} reads every folder in full and records what the events lack`,
    }
  }
  if (cp._tag === 'Ok') {
    const ahead = checkpointAhead(cp.value, facts)
    if (ahead.length > 0) {
      const problem: Problem = { kind: 'scan-checkpoint-ahead', ...cpWhere, detail: `the scan checkpoint is ahead of the events: ${ahead.join('; ')}` }
      problems.push(problem)
      scanReset = {
        problem,
        account,
        raw: cpRaw.right,
        checkpoint: rereadEverything(cp.value),
        how: `checkpoint reset: the next scan of ${account} reads every folder in full and records what the events lack`,
      }
    }
  }

  // Pass 2: the index against a replay, and what the items of missing blobs became. A stream with
  // lost events is not compared: the index may be the only trace of them, and differs by design.
  const compare = !run.indexBroken && undecodable === 0 && holes === 0
  const pending = new Set(damages.map((d) => d.itemId))
  let compared = 0
  if (compare || pending.size > 0) {
    const sample = req.full ? undefined : sampler.chosen()
    const parts = req.full && compare ? Math.max(1, Math.ceil(itemEvents / FULL_BUDGET)) : 1
    for (let p = 0; p < parts; p++) {
      const selected = (item: number) => compare && (sample !== undefined ? sample.has(item) : partitionOf(item, salt, parts) === p)
      const got = await collectItems(deps, stream, (item) => selected(item) || (p === 0 && pending.has(item)))
      if (E.isLeft(got)) return got
      if (!got.right.complete) return E.right({ report: report(compared), problems, damages, disagreeing, scanReset, eventsLost: undecodable + holes > 0, stopped: true })
      if (p === 0) {
        // A blob of an item purged since is gone by design (the purge deletes what no kept version references).
        for (const d of damages) {
          const evs = got.right.items.get(d.itemId) ?? []
          d.purged = itemVersions(evs).at(-1)?.state.status === 'purged'
          d.locations = locationsOf(evs)
        }
      }
      const total = [...got.right.items.keys()].filter(selected).length
      let done = 0
      for (const [item, evs] of got.right.items) {
        if (!selected(item) || run.indexBroken) continue
        const d = await compareItem(deps.index, account, item as ItemId, evs)
        if (E.isLeft(d)) {
          run.indexBroken = true
          problems.push({ kind: 'index-unreadable', account, itemId: item, detail: `the temporal index cannot be read: ${describe(d.left)}` })
          break
        }
        compared++
        done++
        if (d.right !== undefined) disagreeing.set(item, { kind: 'index-disagrees', account, itemId: item, detail: d.right })
        if (done % 50 === 0 || done === total) {
          progress('index', done, total)
          await yieldToEvents()
        }
        if (deps.shouldStop?.() === true)
          return E.right({ report: report(compared), problems, damages, disagreeing, scanReset, eventsLost: undecodable + holes > 0, stopped: true })
      }
    }
    // A writer may have appended to an item between our read and the index's: read again before reporting.
    if (disagreeing.size > 0 && !run.indexBroken) {
      const again = await recheck(deps, account, [...disagreeing.keys()])
      if (E.isLeft(again)) return again
      for (const item of [...disagreeing.keys()]) {
        const d = again.right.get(item)
        if (d === undefined) disagreeing.delete(item)
        else disagreeing.set(item, { kind: 'index-disagrees', account, itemId: item, detail: d })
      }
    }
  }
  return E.right({ report: report(compared), problems, damages, disagreeing, scanReset, eventsLost: undecodable + holes > 0, stopped: false })
}

const span = (from: number, to: number): string => (from === to ? `revision ${from} is` : `revisions ${from}–${to} are`)

const describe = (e: StoreError): string => {
  switch (e._tag) {
    case 'CorruptEvent':
      return `event ${e.stream}@${e.revision} does not decode (${e.reason})`
    case 'ConcurrencyConflict':
      return `concurrent write on ${e.stream}`
    default:
      return e.reason
  }
}

/** Compares the items again from a fresh read; the items that still disagree, with why. */
const recheck = async (deps: CoherencyDeps, account: AccountId, items: readonly number[]): Promise<E.Either<StoreError, Map<number, string>>> => {
  const wanted = new Set(items)
  const got = await collectItems({ ...deps, shouldStop: () => false }, streamOfAccount(account), (i) => wanted.has(i))
  if (E.isLeft(got)) return got
  const out = new Map<number, string>()
  for (const item of items) {
    const d = await compareItem(deps.index, account, item as ItemId, got.right.items.get(item) ?? [])
    if (E.isLeft(d)) return d
    if (d.right !== undefined) out.set(item, d.right)
  }
  return E.right(out)
}

/** The last global position of the events, from each stream's last event; `exact` is false when a stream ends in rows that do not decode (their position is unknown). */
const lastPosition = async (store: EventStore): Promise<E.Either<StoreError, { position: number | null; exact: boolean }>> => {
  const streams = await store.listStreams('')()
  if (E.isLeft(streams)) return streams
  let position: number | null = null
  let exact = true
  for (const s of streams.right) {
    // From the end (the adapter's default), then before each row that does not decode.
    let from: number | undefined
    for (;;) {
      const r = await store.readStream(s, { direction: 'backwards', maxCount: 1, ...(from !== undefined && { from }) })()
      if (E.isRight(r)) {
        const last = r.right[0]
        if (last !== undefined) position = Math.max(position ?? 0, last.globalPosition)
        break
      }
      if (r.left._tag !== 'CorruptEvent' || (from !== undefined && r.left.revision > from)) return r
      exact = false
      from = r.left.revision - 1
      if (from < 0) break
    }
  }
  return E.right({ position, exact })
}

export const checkCoherency = async (deps: CoherencyDeps, req: CoherencyRequest): Promise<E.Either<CoherencyError, CoherencyReport>> => {
  const salt = deps.salt ?? randomInt(0, 2 ** 31)
  const run: RunState = { indexBroken: false }
  const problems: Problem[] = []
  const notes: string[] = []

  // The index's position before any index query (each query catches the index up).
  const positionRaw = await deps.indexStore.readCheckpoint(INDEX_POSITION)()
  if (E.isLeft(positionRaw)) return E.left(storeError(positionRaw.left))

  let accounts: AccountId[]
  if (req.scope._tag === 'Account') accounts = [req.scope.account]
  else {
    const streams = await deps.store.listStreams('account-')()
    if (E.isLeft(streams)) return E.left(storeError(streams.left))
    accounts = streams.right.flatMap((s) => accountOfStream(s) ?? [])
  }

  const reports: AccountReport[] = []
  const damages: Damage[] = []
  const disagreeing: { account: AccountId; items: Map<number, Problem> }[] = []
  const resets: ScanReset[] = []
  let interrupted = false
  let eventsLost = false
  for (const account of accounts) {
    const r = await checkAccount(deps, req, account, salt, run)
    if (E.isLeft(r)) return E.left(storeError(r.left))
    reports.push(r.right.report)
    problems.push(...r.right.problems)
    for (const d of r.right.damages) if (d.purged !== true) damages.push(d)
    if (r.right.disagreeing.size > 0) disagreeing.push({ account, items: r.right.disagreeing })
    if (r.right.scanReset !== undefined) resets.push(r.right.scanReset)
    if (r.right.eventsLost) {
      eventsLost = true
      notes.push(`${account}: the index was not compared with a replay, since events of the stream are missing or do not decode`)
    } else if (run.indexBroken && r.right.report.itemsCompared === 0 && r.right.report.events > 0)
      notes.push(`${account}: the index was not compared with a replay, since it cannot be read`)
    if (r.right.stopped) {
      interrupted = true
      break
    }
  }
  problems.push(...damages.map((d) => d.problem))
  for (const d of disagreeing) problems.push(...d.items.values())

  // The index's position against the events'.
  let position: number | null = positionRaw.right === undefined ? null : Number(positionRaw.right)
  const last = await lastPosition(deps.indexStore)
  if (E.isLeft(last)) return E.left(storeError(last.left))
  let positionProblem: Problem | undefined
  if (position !== null && !Number.isSafeInteger(position)) {
    positionProblem = {
      kind: 'index-unreadable',
      checkpoint: INDEX_POSITION,
      detail: `the index's position checkpoint holds ${JSON.stringify(positionRaw.right)}, not a global position`,
    }
    position = null
  } else if (position !== null && position > (last.right.position ?? 0)) {
    if (last.right.exact)
      positionProblem = {
        kind: 'index-position-ahead',
        checkpoint: INDEX_POSITION,
        detail: `the index says it has indexed the events up to global position ${position}, but the last event is at ${last.right.position ?? 0}: events appended until the store passes ${position} would never be indexed`,
      }
    else notes.push(`the index's position (${position}) was not compared with the events': a stream ends in events that do not decode`)
  }
  if (positionProblem !== undefined) problems.push(positionProblem)

  // Operations: only for the whole store (they are not an account's).
  let operations: OperationsReport | null = null
  if (req.scope._tag === 'All' && !interrupted) {
    const ops = await checkOperations(deps.operations, deps.isAlive, (done, total) => deps.onProgress?.({ stage: 'operations', label: 'operations', done, total }))
    if (E.isLeft(ops)) return E.left(storeError(ops.left))
    operations = ops.right.report
    problems.push(...ops.right.problems)
  } else if (req.scope._tag === 'Account') notes.push('operations were not checked (they belong to the whole store: check all)')

  // Repair.
  const outcomes = new Map<Problem, RepairOutcome>()
  let repairs: CoherencyReport['repairs'] = null
  if (req.repair && !interrupted) {
    const blobs = await repairBlobs(deps.blobs, deps.messages, damages, (done, total) => deps.onProgress?.({ stage: 'repair', label: 'fetching blobs', done, total }))
    for (const [p, o] of blobs.outcomes) outcomes.set(p, o)
    const reset = await resetScanCheckpoints(deps.store, resets)
    if (E.isLeft(reset)) return E.left(storeError(reset.left))
    for (const [p, o] of reset.right.outcomes) outcomes.set(p, o)
    const indexProblems = [...problems.filter((p) => p.kind === 'index-unreadable' || p.kind === 'index-position-ahead' || p.kind === 'index-disagrees')]
    let indexRebuilt: { items: number; versions: number } | null = null
    // A rebuild from a stream with lost events would drop the index's only trace of them.
    if (eventsLost)
      for (const p of indexProblems) outcomes.set(p, { repaired: false, how: 'the index is not rebuilt while events are missing or do not decode (it may hold their only trace)' })
    else {
      const rebuilt = await deps.index.rebuild((done, total) => deps.onProgress?.({ stage: 'repair', label: 'rebuilding index', done, total }))()
      if (E.isLeft(rebuilt)) for (const p of indexProblems) outcomes.set(p, { repaired: false, how: `the index rebuild failed: ${describe(rebuilt.left)}` })
      else {
        indexRebuilt = rebuilt.right
        run.indexBroken = false
        // Verify what the rebuild was for, rather than trust it.
        const after = await deps.indexStore.readCheckpoint(INDEX_POSITION)()
        const lastAfter = await lastPosition(deps.indexStore)
        if (E.isLeft(after)) return E.left(storeError(after.left))
        if (E.isLeft(lastAfter)) return E.left(storeError(lastAfter.left))
        const positionNow = Number(after.right ?? '0')
        const positionOk = Number.isSafeInteger(positionNow) && positionNow <= (lastAfter.right.position ?? 0)
        for (const p of indexProblems.filter((x) => x.kind !== 'index-disagrees'))
          outcomes.set(
            p,
            positionOk
              ? { repaired: true, how: `index rebuilt from the events; its position is ${positionNow}, the events' last` }
              : { repaired: false, how: `index rebuilt, but its position is still ${after.right ?? 'unset'}` },
          )
        for (const { account, items } of disagreeing) {
          const again = await recheck(deps, account, [...items.keys()])
          if (E.isLeft(again)) return E.left(storeError(again.left))
          for (const [item, p] of items) {
            const d = again.right.get(item)
            outcomes.set(
              p,
              d === undefined
                ? { repaired: true, how: 'index rebuilt from the events; the item now agrees with the replay' }
                : { repaired: false, how: `still differs after the rebuild: ${d}` },
            )
          }
        }
      }
    }
    for (const p of problems) if (!outcomes.has(p)) outcomes.set(p, { repaired: false, how: unrepairable(p) })
    repairs = { blobsRestored: blobs.restored, indexRebuilt, checkpointsReset: reset.right.reset }
  }

  return E.right({
    scope: req.scope._tag === 'All' ? 'all' : req.scope.account,
    readData: req.readData,
    full: req.full,
    repair: req.repair,
    accounts: reports,
    index: { position, lastPosition: last.right.position },
    operations,
    problems: problems.map((p) => (outcomes.has(p) ? { ...p, repair: outcomes.get(p) as RepairOutcome } : p)).sort(byProblemOrder),
    notes,
    repairs,
    interrupted,
  })
}
