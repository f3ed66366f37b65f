/**
 * DAV capture of one account: reads its address books and calendars from the server (sync-collection
 * where the server has it, an ETag listing where it does not), stores every new object's bytes in the
 * blob store, decides with the pure diff (`diff.ts`) and appends the events with the checkpoint.
 *
 * Guarantees:
 * 1. The checkpoint (a sync token per collection) is written in the same transaction as the last
 *    batch of the round's events; earlier batches carry the previous checkpoint. A round killed at
 *    any point reads again from the old tokens, and the diff against the projection records only
 *    what is missing.
 * 2. The blobs a batch names are durable (fsynced) before the batch is committed.
 * 3. An unreachable server or a refused login fails the round with nothing appended; a collection
 *    that cannot be read is reported and kept as recorded, the others are captured. A home the
 *    server does not have (404) is an account without address books or calendars, unless the
 *    backup knows collections in it (then it is reported, and they are kept).
 * 4. Appends carry the stream revision the round started from: a concurrent writer (an IMAP scan of
 *    the same account) makes this round fail with a conflict, never interleave.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { FIRST_USER_ITEM_ID, streamOfAccount } from '../../domain/ids'
import { type Instant, MAX_INSTANT } from '../../domain/instant'
import { describeErrors } from '../../domain/decode'
import type { ItemState } from '../../domain/state'
import type { StoreError } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import { type BlobStore, describeBlobError } from '../blobs/blobStore'
import type { EventStore } from '../store/eventStore'
import { ScanCheckpoint, checkpointName as imapCheckpointName } from '../capture/scanCheckpoint'
import { type CollectionInfo, type DavClient, type DavError, type MemberEtag, type SyncAnswer, describeDavError } from './client'
import { type CollectionRead, type CollectionReport, DavCheckpoint, type FetchedObject, type ObservedCollection, type RestoredObject, davCheckpointName, diffDav } from './diff'
import { parseDavObject } from './parse'

export type DavCaptureError =
  | { readonly _tag: 'Store'; readonly error: StoreError }
  | { readonly _tag: 'Blob'; readonly message: string }
  | { readonly _tag: 'Dav'; readonly account: string; readonly error: DavError }
  | { readonly _tag: 'BadCheckpoint'; readonly account: string; readonly reason: string }

export const describeDavCaptureError = (e: DavCaptureError): string => {
  switch (e._tag) {
    case 'Store':
      return `store: ${e.error._tag}`
    case 'Blob':
      return `blob store: ${e.message}`
    case 'Dav':
      return `${e.account}: ${describeDavError(e.error)}`
    case 'BadCheckpoint':
      return `the DAV checkpoint of ${e.account} cannot be read (${e.reason})`
  }
}

export interface DavCaptureReport {
  readonly account: AccountId
  readonly firstRound: boolean
  readonly eventsAppended: number
  readonly bytesStored: number
  readonly objectsRead: number
  readonly collections: readonly CollectionReport[]
  readonly collectionsCreated: number
  readonly collectionsRenamed: number
  readonly collectionsDeleted: number
  /** Objects recorded although they could not be read in full. */
  readonly problems: readonly { href: string; problem: string }[]
  /** Homes or collections that could not be read (kept as recorded): a round with any is partial. */
  readonly failed: readonly { href: string; reason: string }[]
  readonly interrupted: boolean
}

export interface DavCaptureDeps {
  readonly store: EventStore
  readonly index: TimeTravel
  readonly blobs: BlobStore
  readonly now: () => Instant
  /** Events per append; default 1000. */
  readonly batchSize?: number
  /** GETs in flight at once; default 4. */
  readonly parallel?: number
  readonly shouldStop?: () => boolean
  /** Objects restores wrote into this account on this server (read after the listing). */
  readonly restored?: () => Promise<E.Either<StoreError, (href: string, digest: string) => RestoredObject | undefined>>
  readonly afterBatch?: (batch: number) => Promise<void>
  readonly onProgress?: (p: { collection: string; done: number; collections: number }) => void
}

const readJsonCheckpoint = async <A>(deps: DavCaptureDeps, name: string, decode: (u: unknown) => E.Either<string, A>): Promise<E.Either<string | StoreError, A | undefined>> => {
  const raw = await deps.store.readCheckpoint(name)()
  if (E.isLeft(raw)) return raw
  if (raw.right === undefined) return E.right(undefined)
  try {
    return decode(JSON.parse(raw.right))
  } catch (e) {
    return E.left((e as Error).message)
  }
}

/** Runs `f` over `xs` with at most `n` at once, in order of results. */
const mapLimit = async <A, B>(xs: readonly A[], n: number, f: (x: A) => Promise<B>): Promise<B[]> => {
  const out: B[] = new Array<B>(xs.length)
  let next = 0
  const worker = async () => {
    for (let i = next++; i < xs.length; i = next++) out[i] = await f(xs[i] as A)
  }
  await Promise.all(Array.from({ length: Math.min(n, xs.length) }, worker))
  return out
}

/** What to ask a collection: nothing (its token did not move), changes since a token, or everything. */
const listCollection = async (
  client: DavClient,
  info: CollectionInfo,
  cp: DavCheckpoint['collections'][string] | undefined,
): Promise<E.Either<DavError, { mode: 'sync' | 'etag'; answer: SyncAnswer } | 'unchanged'>> => {
  if (info.syncToken !== undefined) {
    if (cp?.mode === 'sync' && cp.token === info.syncToken) return E.right('unchanged')
    const from = cp?.mode === 'sync' ? cp.token : undefined
    let r = await client.sync(info.href, from)
    // A token the server forgot (RFC 6578 §3.2): everything again, compared with what is recorded.
    if (E.isLeft(r) && r.left._tag === 'DavInvalidToken') r = await client.sync(info.href, undefined)
    if (E.isRight(r)) return E.right({ mode: 'sync', answer: r.right })
    if (r.left._tag !== 'DavRefused') return r
    // The server advertises a token but refuses the report: list ETags instead.
  }
  if (cp?.mode === 'etag' && info.ctag !== undefined && cp.token === info.ctag) return E.right('unchanged')
  const l = await client.etags(info.href)
  return E.isLeft(l) ? l : E.right({ mode: 'etag', answer: { ...l.right, ...(info.ctag !== undefined && { token: info.ctag }) } })
}

export const captureDavAccount = async (
  client: DavClient,
  account: AccountId,
  homes: readonly string[],
  deps: DavCaptureDeps,
): Promise<E.Either<DavCaptureError, DavCaptureReport>> => {
  const stream = streamOfAccount(account)
  const cp0 = await readJsonCheckpoint(deps, davCheckpointName(account), (u) => E.mapLeft(describeErrors)(DavCheckpoint.decode(u)))
  if (E.isLeft(cp0)) return E.left(typeof cp0.left === 'string' ? { _tag: 'BadCheckpoint', account, reason: cp0.left } : { _tag: 'Store', error: cp0.left })
  // Item ids are shared with the IMAP scanner: never hand out one its checkpoint has reserved.
  const imapCp = await readJsonCheckpoint(deps, imapCheckpointName(account), (u) => E.mapLeft(describeErrors)(ScanCheckpoint.decode(u)))
  if (E.isLeft(imapCp) && typeof imapCp.left !== 'string') return E.left({ _tag: 'Store', error: imapCp.left })
  const now = deps.now()
  const revision = await deps.store.streamRevision(stream)()
  if (E.isLeft(revision)) return E.left({ _tag: 'Store', error: revision.left })
  const last = { validAt: MAX_INSTANT as Instant }
  const live = await deps.index.liveItemsAsOf(account, last)()
  if (E.isLeft(live)) return E.left({ _tag: 'Store', error: live.left })
  const deleted = await deps.index.deletedBetween(account, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
  if (E.isLeft(deleted)) return E.left({ _tag: 'Store', error: deleted.left })
  const accountEvents = await deps.index.accountEvents(account)()
  if (E.isLeft(accountEvents)) return E.left({ _tag: 'Store', error: accountEvents.left })
  const nextItemId = Math.max(
    FIRST_USER_ITEM_ID,
    E.isRight(imapCp) ? (imapCp.right?.nextItemId ?? 0) : 0,
    ...live.right.map((s) => s.itemId + 1),
    ...deleted.right.map((d) => d.itemId + 1),
  )
  const knownByHref = new Map<string, ItemState>()
  for (const s of live.right) if (s.itemType !== 'folder' && s.dav !== undefined) knownByHref.set(s.dav.href, s)

  // The homes' collections. A server that is down or refuses the login stops the round here.
  const infos: CollectionInfo[] = []
  const unlistedHomes: string[] = []
  const failed: { href: string; reason: string }[] = []
  for (const home of homes) {
    const r = await client.collections(home)
    if (E.isLeft(r)) {
      if (r.left._tag === 'DavUnavailable' || r.left._tag === 'DavAuthFailed') return E.left({ _tag: 'Dav', account, error: r.left })
      // No such home, and the backup knows no collection in it: an account that never used
      // address books or calendars (a mail account on a site with a DAV server). One the backup
      // knows collections in is a failure: its collections are kept, never taken as deleted.
      if (r.left._tag === 'DavRefused' && r.left.status === 404 && !live.right.some((s) => s.itemType === 'folder' && s.dav?.href.startsWith(home) === true)) continue
      unlistedHomes.push(home)
      failed.push({ href: home, reason: describeDavError(r.left) })
      continue
    }
    infos.push(...r.right)
  }

  let bytesStored = 0
  let objectsRead = 0
  const observed: ObservedCollection[] = []
  for (const [i, info] of infos.entries()) {
    deps.onProgress?.({ collection: info.href, done: i, collections: infos.length })
    const listed = await listCollection(client, info, cp0.right?.collections[info.href])
    if (E.isLeft(listed)) {
      if (listed.left._tag === 'DavUnavailable' || listed.left._tag === 'DavAuthFailed') return E.left({ _tag: 'Dav', account, error: listed.left })
      observed.push({ info, read: { _tag: 'Failed', reason: describeDavError(listed.left) } })
      continue
    }
    if (listed.right === 'unchanged') {
      observed.push({ info, read: { _tag: 'Unchanged' } })
      continue
    }
    const { mode, answer } = listed.right
    // A full listing names every member: read only those new, or whose ETag moved.
    const wanted: MemberEtag[] = answer.full
      ? answer.changed.filter((m) => {
          const s = knownByHref.get(m.href)
          return s === undefined || m.etag === undefined || s.dav?.etag !== m.etag
        })
      : [...answer.changed]
    let failure: DavError | undefined
    const got = await mapLimit(wanted, deps.parallel ?? 4, async (m): Promise<FetchedObject | undefined> => {
      if (failure !== undefined) return undefined
      const r = await client.get(m.href)
      if (E.isLeft(r)) {
        failure ??= r.left
        return undefined
      }
      // Gone since the listing: the next round's sync reports the deletion.
      if (r.right === undefined) return undefined
      const put = deps.blobs.put(r.right.bytes)
      if (E.isLeft(put)) {
        failure ??= { _tag: 'DavProtocol', server: client.description, method: 'GET', href: m.href, reason: describeBlobError(put.left) }
        return undefined
      }
      if (put.right.written) bytesStored += r.right.bytes.length
      objectsRead++
      const etag = r.right.etag ?? m.etag
      return { href: m.href, ...(etag !== undefined && { etag }), digest: put.right.digest, size: r.right.bytes.length, parsed: parseDavObject(r.right.bytes, info.kind) }
    })
    if (failure !== undefined) {
      if (failure._tag === 'DavUnavailable' || failure._tag === 'DavAuthFailed') return E.left({ _tag: 'Dav', account, error: failure })
      if (failure._tag === 'DavProtocol' && failure.method === 'GET' && failure.reason.startsWith('blob')) return E.left({ _tag: 'Blob', message: failure.reason })
      observed.push({ info, read: { _tag: 'Failed', reason: describeDavError(failure) } })
      continue
    }
    const read: CollectionRead = {
      _tag: 'Read',
      mode,
      full: answer.full,
      ...(answer.token !== undefined && { token: answer.token }),
      members: answer.full ? answer.changed.map((m) => m.href) : [],
      fetched: got.filter((g): g is FetchedObject => g !== undefined),
      removed: answer.removed,
    }
    observed.push({ info, read })
  }

  let restored: ((href: string, digest: string) => RestoredObject | undefined) | undefined
  if (deps.restored !== undefined) {
    const r = await deps.restored()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    restored = r.right
  }
  const diff = diffDav({
    account,
    now,
    seq: revision.right + 1,
    checkpoint: cp0.right,
    accountKnown: accountEvents.right.some((e) => e.event.type === 'AccountCreated'),
    nextItemId,
    live: live.right,
    observed,
    unlistedHomes,
    ...(restored !== undefined && { restored }),
  })

  // Append in batches; only the last carries the new tokens (guarantee 1).
  const size = deps.batchSize ?? 1000
  const events = diff.events
  const batches = events.length === 0 ? [[]] : Array.from({ length: Math.ceil(events.length / size) }, (_, i) => events.slice(i * size, (i + 1) * size))
  let expected = revision.right
  let appended = 0
  let interrupted = false
  for (const [i, batch] of batches.entries()) {
    const lastBatch = i === batches.length - 1
    const synced = deps.blobs.sync()
    if (E.isLeft(synced)) return E.left({ _tag: 'Blob', message: describeBlobError(synced.left) })
    const checkpoint = lastBatch ? diff.checkpoint : cp0.right
    const r = await deps.store.appendToStream(stream, batch, {
      expectedRevision: expected,
      ...(checkpoint !== undefined && { checkpoint: { name: davCheckpointName(account), value: JSON.stringify(checkpoint) } }),
    })()
    if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
    appended += r.right.appended
    expected = r.right.lastRevision
    await deps.afterBatch?.(i + 1)
    if (!lastBatch && deps.shouldStop?.() === true) {
      interrupted = true
      break
    }
  }
  return E.right({
    account,
    firstRound: cp0.right === undefined,
    eventsAppended: appended,
    bytesStored,
    objectsRead,
    collections: diff.collections,
    collectionsCreated: diff.collectionsCreated,
    collectionsRenamed: diff.collectionsRenamed,
    collectionsDeleted: diff.collectionsDeleted,
    problems: diff.problems,
    failed: [...failed, ...diff.failed],
    interrupted,
  })
}
