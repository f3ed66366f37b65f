/**
 * What the use cases need from outside, as values passed in (never imported globals): the store
 * (events, time travel, blobs, operations), the clock, the zone, who runs them, progress and notes
 * for people, and for restores the target, provisioner, notifier and stop signal. `src/wiring`
 * builds them from the decoded settings; the CLI and the HTTP server hand them to the use cases.
 */
import type * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { ImapFlow } from 'imapflow'
import type { Instant } from '../../domain/instant'
import type { StoreError } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import type { BlobStore } from '../blobs/blobStore'
import type { Notifier } from '../notify/notifier'
import type { Provisioner } from '../restore/provision/provisioner'
import type { RestoreTarget } from '../restore/target'
import type { Repair } from '../restore/messageRepair'
import type { DavSource } from '../dav/source'
import type { EventStore } from '../store/eventStore'
import type { OperationLog } from '../store/operationLog'
import type { AppError } from './errors'
import type { AccountLeases } from '../capture/fleet/leases'
import type { JobQueue } from './jobQueue'

export interface TemporalIndex extends TimeTravel {
  rebuild(onProgress?: (done: number, total: number) => void): TE.TaskEither<StoreError, { items: number; versions: number }>
}

/** What reading a store needs: events, time travel and blobs (a source store opened read-only has just this). */
export interface ReadBackend {
  readonly store: EventStore
  readonly index: TimeTravel
  readonly blobs: BlobStore
  close(): Promise<void>
}

export interface Backend extends ReadBackend {
  readonly index: TemporalIndex
  /** The operations streams (restores and other long work). */
  readonly operations: OperationLog
  /**
   * Capture leases shared by the workers of a fleet (a PostgreSQL store); absent when one process
   * captures (SQLite, EventStoreDB), which then keeps its leases in memory.
   */
  readonly leases?: AccountLeases
  /** The console's durable jobs (a PostgreSQL store); absent when the server keeps its jobs in memory. */
  readonly jobQueue?: JobQueue
  close(): Promise<void>
}

/** Who runs a use case and where: recorded with every operation it starts. */
export interface Operator {
  readonly initiator: string
  readonly host: string
  readonly pid: number
}

export interface Progress {
  start(label: string, total: number): void
  update(done: number, detail?: string): void
  stop(): void
}

export const silentProgress: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined }

/** What every use case receives. */
export interface AppDeps {
  /** Opens the store on first use; later calls return the same backend. */
  backend(): Promise<Backend>
  /** The zone dates are read and written in. */
  readonly zone: string
  readonly now: () => Instant
  readonly operator: Operator
  readonly progress: Progress
  /** One line for people (silenced by --quiet and --json on the CLI; a job's notes on the server). */
  readonly note: (line: string) => void
  /** One line that --json does not silence (a date in the future). */
  readonly warn: (line: string) => void
  /** Whether the process recorded as running an operation is still there (on this host; elsewhere we cannot tell). */
  readonly isAlive: (host: string, pid: number) => boolean
}

export interface ChosenTarget {
  readonly target: RestoreTarget
  /** True when the target is a mail server whose accounts may have to be created. */
  readonly server: boolean
  /** What the report must say about the target as it will be left (a Maildir tree owned by root); the target adds its own. */
  readonly warnings: readonly string[]
}

export interface TargetOptions {
  /** Whether this run has just created the account (a refused login is then tried again). */
  readonly justCreated?: (account: string) => boolean
  /** The `owner` attribute (Maildir targets only). */
  readonly owner?: string
  /** The `repair` attribute (IMAP targets only). */
  readonly repairs?: ReadonlySet<Repair>
}

/** A stop request for long work: the CLI's comes from SIGINT/SIGTERM, a server job's never from the process. */
export interface StopSignal {
  readonly stopped: () => boolean
  dispose(): void
}

/** What a restore needs beyond `AppDeps`, built by src/wiring from the settings. */
export interface RestorePorts {
  /** The target a `target` word names (default: the IMAP server configured for capture). */
  chooseTarget(raw: string | undefined, options: TargetOptions): E.Either<AppError, ChosenTarget>
  /** The CardDAV/CalDAV server contacts, appointments and tasks go to: `dav_target`, else the one configured for capture; undefined when none is. */
  davSource(url: string | undefined): E.Either<AppError, DavSource | undefined>
  /** Checks an `owner` word before anything runs (a dry run too). */
  checkOwner(raw: string | undefined): E.Either<AppError, void>
  /** Built when first asked for: most runs create no account and send no mail. */
  provisioner(): Provisioner | undefined
  notifier(): Notifier | undefined
  /** The admin address every notification also goes to (smtp.admin). */
  readonly admin: string | undefined
  /** Starts listening for a stop request for the time of one run. */
  stopSignal(): StopSignal
  /** Test-only fault hook after each appended batch. */
  readonly afterAppend?: (batch: number, stopRequested?: () => Promise<boolean>) => Promise<void>
}

/** The live IMAP server a rewind acts on: where it captures, sends its actions and writes messages back. */
export interface RewindServer {
  /** The server as the capture records it (no secrets). */
  readonly description: string
  /** Where the messages gone since are written back (the restore's IMAP target for the same server). */
  readonly target: RestoreTarget
  /** An IMAP session logged in as the account (the capture's, then the actions'); Left says why not. */
  connect(account: string): Promise<E.Either<string, ImapFlow>>
}

/** What a rewind needs beyond `AppDeps`, built by src/wiring from the settings. */
export interface RewindPorts {
  /** The account's live IMAP server: `target` words (imap://host:port), else the one configured for capture. */
  server(raw: string | undefined): E.Either<AppError, RewindServer>
  notifier(): Notifier | undefined
  /** The admin address every notification also goes to (smtp.admin). */
  readonly admin: string | undefined
  /** Starts listening for a stop request for the time of one run. */
  stopSignal(): StopSignal
  /** Test-only fault hook after each action reached the server (MAILTIME_FAULT=kill-after-action:N). */
  readonly afterAction?: (n: number) => Promise<void>
}
