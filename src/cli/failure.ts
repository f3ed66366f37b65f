/**
 * The one place where failures become messages and exit codes: the table from an `AppError` (what
 * the use cases of src/app return) and from a use case's outcome to an exit code. A verb throws a
 * `CliFailure`; `main` prints its message on one line of stderr and exits with its code.
 */
import { type AppError, type ErrorKind, type Outcome, describeAppError, kindOf } from '../app/errors'
import type { StoreError } from '../../projections/errors'
import { describeStoreError } from '../../projections/errors'
import type { BlobError } from '../blobs/blobStore'
import { describeBlobError } from '../blobs/blobStore'
import { type ConfigError, ENVIRONMENT } from '../config'
import type { DateError } from '../time/dates'
import { describeDateError } from '../time/dates'

/** Documented in docs/cli.md; keep the two in step. */
export const ExitCode = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  STORE: 4,
  CONFLICT: 5,
  UNAVAILABLE: 6,
  PARTIAL: 7,
  VERIFY: 8,
  INTERRUPTED: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message)
  }
}

/** What `--json` prints on stdout when a command fails: the message of its stderr line, and its exit code (docs/cli.md). */
export const failureJson = (message: string, exitCode: number): { readonly error: string; readonly exitCode: number } => ({ error: message, exitCode })

export const usage = (message: string): CliFailure => new CliFailure(message, ExitCode.USAGE)
export const notFound = (message: string): CliFailure => new CliFailure(message, ExitCode.NOT_FOUND)

export const fromStoreError = (e: StoreError): CliFailure => new CliFailure(describeStoreError(e), e._tag === 'ConcurrencyConflict' ? ExitCode.CONFLICT : ExitCode.STORE)
export const fromBlobError = (e: BlobError): CliFailure => new CliFailure(describeBlobError(e), ExitCode.STORE)
export const fromDateError = (e: DateError): CliFailure => new CliFailure(describeDateError(e), ExitCode.USAGE)
export const fromConfigError = (e: ConfigError): CliFailure => new CliFailure(e.file === ENVIRONMENT ? e.reason : `config file ${e.file}: ${e.reason}`, ExitCode.USAGE)

/** THE table: each kind of use-case failure, and each outcome, as an exit code (docs/cli.md). */
export const EXIT_CODE: Readonly<Record<ErrorKind, ExitCode>> = {
  Usage: ExitCode.USAGE,
  NotFound: ExitCode.NOT_FOUND,
  Store: ExitCode.STORE,
  Conflict: ExitCode.CONFLICT,
  Unavailable: ExitCode.UNAVAILABLE,
  Verify: ExitCode.VERIFY,
}
export const OUTCOME_EXIT_CODE: Readonly<Record<Outcome, ExitCode>> = {
  done: ExitCode.OK,
  partial: ExitCode.PARTIAL,
  stopped: ExitCode.INTERRUPTED,
  failed: ExitCode.UNAVAILABLE,
}

export const fromAppError = (e: AppError): CliFailure => new CliFailure(describeAppError(e), EXIT_CODE[kindOf(e)])

/** A use case's Right, or its Left thrown as the CLI failure the table gives. */
export const orExit = <A>(r: { readonly _tag: 'Left'; readonly left: AppError } | { readonly _tag: 'Right'; readonly right: A }): A => {
  if (r._tag === 'Left') throw fromAppError(r.left)
  return r.right
}
