/**
 * What `repair true` mends, and what it says about the rest.
 *
 * 1. A missing or damaged blob is fetched again from the mail server at the IMAP locations its items
 *    recorded (newest first), and kept only if the bytes hash to the digest the events name; the
 *    damaged file is removed first (the blob store keeps an existing file on a write of the same
 *    digest). A message expunged since, or whose folder's UIDVALIDITY changed, cannot be fetched.
 * 2. A scan checkpoint ahead of the events is put back in the form the scanner writes while a scan
 *    is partly recorded (`rereadEverything`), and one that does not decode is made again from the
 *    stream's folders (`checkpointFromStream`): either way the next scan reads every folder in full
 *    and records what the stream lacks.
 * 3. The temporal index is rebuilt by the caller (`check.ts`), which then compares again.
 * Events are the record itself: an event that does not decode, a missing revision or an event in the
 * wrong stream cannot be made again from anything in the store.
 */
import * as E from 'fp-ts/Either'
import type { ImapLocation } from '../../domain/events'
import type { AccountId } from '../../domain/ids'
import { streamOfAccount } from '../../domain/ids'
import type { StoreError } from '../../projections/errors'
import { type BlobStore, sha256 } from '../blobs/blobStore'
import type { ScanCheckpoint } from '../capture/scanCheckpoint'
import { checkpointName } from '../capture/scanCheckpoint'
import type { EventStore } from '../store/eventStore'
import type { MessageSource } from './messageSource'
import type { Problem, RepairOutcome } from './model'

/** A content reference whose blob is missing or damaged. */
export interface Damage {
  readonly problem: Problem
  readonly account: AccountId
  readonly itemId: number
  readonly digest: string
  readonly size: number
  /** The item's recorded IMAP locations, newest first (found by the check's second pass). */
  locations: ImapLocation[]
  /** The item was purged: its blob is gone by design, and this is no problem. */
  purged?: boolean
}

/** A scan checkpoint to write in place of one found ahead of the events or undecodable. */
export interface ScanReset {
  readonly problem: Problem
  readonly account: AccountId
  /** The checkpoint as the check read it (the reset is skipped if a scan wrote another since). */
  readonly raw: string | undefined
  readonly checkpoint: ScanCheckpoint
  /** What the new checkpoint does, for the report. */
  readonly how: string
}

const where = (account: string, at: ImapLocation) => `${account} ${JSON.stringify(at.mailbox)} UID ${at.uid}`

/** Fetches each damaged digest again (once, for every reference to it). */
export const repairBlobs = async (
  blobs: BlobStore,
  source: E.Either<string, MessageSource>,
  damages: readonly Damage[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ outcomes: Map<Problem, RepairOutcome>; restored: number }> => {
  const byDigest = new Map<string, Damage[]>()
  for (const d of damages) byDigest.set(d.digest, [...(byDigest.get(d.digest) ?? []), d])
  const outcomes = new Map<Problem, RepairOutcome>()
  let restored = 0
  let done = 0
  for (const [digest, refs] of byDigest) {
    onProgress?.(done++, byDigest.size)
    const outcome = await fetchAgain(blobs, source, digest, refs)
    if (outcome.repaired) restored++
    for (const d of refs) outcomes.set(d.problem, outcome)
  }
  return { outcomes, restored }
}

const fetchAgain = async (blobs: BlobStore, source: E.Either<string, MessageSource>, digest: string, refs: readonly Damage[]): Promise<RepairOutcome> => {
  if (E.isLeft(source)) return { repaired: false, how: `no mail server to fetch it from: ${source.left}` }
  const candidates: { account: string; at: ImapLocation }[] = []
  for (const d of refs)
    for (const at of d.locations)
      if (!candidates.some((c) => c.account === d.account && c.at.mailbox === at.mailbox && c.at.uidValidity === at.uidValidity && c.at.uid === at.uid))
        candidates.push({ account: d.account, at })
  if (candidates.length === 0) return { repaired: false, how: 'no IMAP location is recorded for it (the item was not captured from an IMAP server)' }
  const tried: string[] = []
  for (const c of candidates) {
    const f = await source.right.fetch(c.account, c.at)
    if (E.isLeft(f)) {
      tried.push(`${where(c.account, c.at)}: ${f.left}`)
      continue
    }
    if (f.right._tag === 'Gone') {
      tried.push(`${where(c.account, c.at)}: ${f.right.reason}`)
      continue
    }
    const bytes = f.right.bytes
    const actual = sha256(bytes)
    if (actual !== digest) {
      tried.push(`${where(c.account, c.at)} holds other content now (SHA-256 ${actual})`)
      continue
    }
    const removed = blobs.remove(digest)
    if (E.isLeft(removed)) return { repaired: false, how: `the damaged blob cannot be removed: ${removed.left._tag === 'BadDigest' ? 'bad digest' : removed.left.path}` }
    const put = blobs.put(bytes)
    if (E.isLeft(put)) return { repaired: false, how: `fetched from ${where(c.account, c.at)}, but it cannot be stored: ${put.left.path}: ${put.left.reason}` }
    // Durable before it is reported repaired, as a capture's blobs are before their events commit.
    const synced = blobs.sync()
    if (E.isLeft(synced))
      return {
        repaired: false,
        how: `fetched from ${where(c.account, c.at)}, but it cannot be made durable: ${synced.left._tag === 'BlobSyncFailed' ? synced.left.reason : synced.left._tag}`,
      }
    const check = blobs.get(digest, bytes.length)
    if (E.isLeft(check)) return { repaired: false, how: `fetched from ${where(c.account, c.at)} and stored, but it does not read back: ${check.left._tag}` }
    return { repaired: true, how: `fetched again from ${where(c.account, c.at)} on ${source.right.description}, digest verified` }
  }
  return { repaired: false, how: `not on the server any more: ${tried.join('; ')}` }
}

/** Writes each scan checkpoint's replacement, unless a scan rewrote the checkpoint since the check read it. */
export const resetScanCheckpoints = async (
  store: EventStore,
  resets: readonly ScanReset[],
): Promise<E.Either<StoreError, { outcomes: Map<Problem, RepairOutcome>; reset: number }>> => {
  const outcomes = new Map<Problem, RepairOutcome>()
  let reset = 0
  for (const r of resets) {
    const name = checkpointName(r.account)
    const now = await store.readCheckpoint(name)()
    if (E.isLeft(now)) return now
    if (now.right !== r.raw) {
      outcomes.set(r.problem, { repaired: false, how: 'a scan wrote a new checkpoint while the check ran: check again' })
      continue
    }
    const w = await store.appendToStream(streamOfAccount(r.account), [], { checkpoint: { name, value: JSON.stringify(r.checkpoint) } })()
    if (E.isLeft(w)) return w
    reset++
    outcomes.set(r.problem, { repaired: true, how: r.how })
  }
  return E.right({ outcomes, reset })
}

/** Why a problem that no repair step handles stays. */
export const unrepairable = (p: Problem): string => {
  switch (p.kind) {
    case 'event-undecodable':
    case 'event-wrong-account':
    case 'revision-hole':
    case 'stream-head':
      return 'events cannot be made again from the store: restore the store from a copy'
    case 'blob-bad-digest':
    case 'content-size':
      return 'the event itself names wrong content; events are never rewritten'
    case 'operation-undecodable':
    case 'operation-without-start':
    case 'operation-not-resumable':
      return 'the operations streams are the audit trail and are never rewritten'
    default:
      return 'not repaired'
  }
}
