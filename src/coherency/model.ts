/**
 * The coherency check's vocabulary (Carbonio's `doCoherencyCheck`): what it is asked, the problems
 * it names, and the report it returns. Every problem names what it is about (the account, item,
 * event, blob, checkpoint or operation) and says what is wrong in words an admin can act on.
 */
import type { AccountId } from '../../domain/ids'
import type { StoreError } from '../../projections/errors'

export interface CoherencyRequest {
  /** One account, or every account of the store (which also checks the operations streams). */
  readonly scope: { readonly _tag: 'All' } | { readonly _tag: 'Account'; readonly account: AccountId }
  /** Read every referenced blob and check its digest (`restic check --read-data`); otherwise only that it exists. */
  readonly readData: boolean
  /** Compare every item with a replay, not a sample. */
  readonly full: boolean
  /** Fetch missing or damaged blobs again from the IMAP server, rebuild the index, reset a scan checkpoint that is ahead. */
  readonly repair: boolean
  /** Items per account compared with a replay when not `full`. */
  readonly sampleSize?: number
}

export const DEFAULT_SAMPLE = 100

export type ProblemKind =
  | 'event-undecodable'
  | 'event-wrong-account'
  | 'revision-hole'
  | 'stream-head'
  | 'blob-missing'
  | 'blob-corrupt'
  | 'blob-unreadable'
  | 'blob-bad-digest'
  | 'content-size'
  | 'index-disagrees'
  | 'index-unreadable'
  | 'index-position-ahead'
  | 'scan-checkpoint-undecodable'
  | 'scan-checkpoint-ahead'
  | 'operation-undecodable'
  | 'operation-without-start'
  | 'operation-not-resumable'

/** What a repair did about one problem. */
export interface RepairOutcome {
  readonly repaired: boolean
  /** How it was repaired, or why it could not be. */
  readonly how: string
}

export interface Problem {
  readonly kind: ProblemKind
  readonly account?: AccountId
  readonly itemId?: number
  readonly eventId?: string
  readonly revision?: number
  readonly digest?: string
  readonly operationId?: string
  readonly checkpoint?: string
  readonly detail: string
  /** Set by `repair true` (absent otherwise). */
  readonly repair?: RepairOutcome
}

export interface AccountReport {
  readonly account: AccountId
  /** Events read and decoded. */
  readonly events: number
  readonly undecodable: number
  /** The stream's last revision, as its head says (-1: no stream). */
  readonly lastRevision: number
  /** Content references checked (one per event that names a blob). */
  readonly blobReferences: number
  /** Blobs read and verified against their digest (`read_data true`). */
  readonly blobsRead: number
  /** Items whose index history was compared with a replay of their events. */
  readonly itemsCompared: number
  readonly scanCheckpoint: 'none' | 'checked' | 'undecodable'
}

/** An operation that was interrupted (its process is gone) and never ended, nor was run again since. */
export interface OpenOperation {
  readonly operationId: string
  readonly kind: string
  readonly verb: string
  readonly startedAt: number
  /** How to resume it. */
  readonly resume: string
}

export interface OperationsReport {
  readonly checked: number
  /** Ended, or interrupted and run again since. */
  readonly closed: number
  readonly running: number
  readonly open: readonly OpenOperation[]
}

export interface RepairSummary {
  readonly blobsRestored: number
  readonly indexRebuilt: { readonly items: number; readonly versions: number } | null
  readonly checkpointsReset: number
}

export interface CoherencyReport {
  readonly scope: 'all' | AccountId
  readonly readData: boolean
  readonly full: boolean
  readonly repair: boolean
  readonly accounts: readonly AccountReport[]
  /** The temporal index's position (a global position) and the last position of the events. */
  readonly index: { readonly position: number | null; readonly lastPosition: number | null }
  /** Only when every account is checked. */
  readonly operations: OperationsReport | null
  readonly problems: readonly Problem[]
  /** What was not checked, and why. */
  readonly notes: readonly string[]
  readonly repairs: RepairSummary | null
  /** Stopped by a signal before every check ran. */
  readonly interrupted: boolean
}

/** Failures that stop the check itself (a store it cannot read at all), as opposed to problems it finds. */
export type CoherencyError = { readonly _tag: 'Store'; readonly error: StoreError }

/** The problems a repair did not fix (all of them without `repair true`). */
export const remaining = (r: Pick<CoherencyReport, 'problems'>): Problem[] => r.problems.filter((p) => p.repair?.repaired !== true)

/** Coherent: nothing remains wrong, and every check ran. */
export const isCoherent = (r: CoherencyReport): boolean => !r.interrupted && remaining(r).length === 0

const cmp = <A extends string | number>(a: A | undefined, b: A | undefined): number => (a === b ? 0 : a === undefined ? -1 : b === undefined ? 1 : a < b ? -1 : 1)

/** Problems in a stable order: by account, kind, item, revision, blob, operation. */
export const byProblemOrder = (a: Problem, b: Problem): number =>
  cmp(a.account, b.account) ||
  cmp(a.kind, b.kind) ||
  cmp(a.itemId, b.itemId) ||
  cmp(a.revision, b.revision) ||
  cmp(a.digest, b.digest) ||
  cmp(a.operationId, b.operationId) ||
  cmp(a.checkpoint, b.checkpoint) ||
  cmp(a.detail, b.detail)
