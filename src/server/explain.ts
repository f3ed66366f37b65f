/** The one mapping from a verb's failure to an HTTP status and a one-line message (requests and jobs alike). */
import { StoreErrorRaised } from '../../projections/errors'
import { type AppError, type ErrorKind, describeAppError, kindOf } from '../app/errors'
import { CliFailure, ExitCode, fromStoreError } from '../cli/failure'
import type { Explain } from './jobs'

const STATUS: Partial<Record<number, number>> = {
  [ExitCode.USAGE]: 400,
  [ExitCode.NOT_FOUND]: 404,
  [ExitCode.CONFLICT]: 409,
  [ExitCode.UNAVAILABLE]: 503,
}

export const explain: Explain = (e) => {
  const f = e instanceof StoreErrorRaised ? fromStoreError(e.error) : e
  if (f instanceof CliFailure) return { status: STATUS[f.exitCode] ?? 500, message: f.message }
  return { status: 500, message: `internal error: ${e instanceof Error ? e.message : String(e)}` }
}

/** THE table: each kind of use-case failure as an HTTP status. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  Usage: 400,
  NotFound: 404,
  Conflict: 409,
  Unavailable: 503,
  Store: 500,
  Verify: 500,
}

export const explainAppError = (e: AppError): { readonly status: number; readonly message: string } => ({ status: HTTP_STATUS[kindOf(e)], message: describeAppError(e) })
