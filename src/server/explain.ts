/** The one mapping from a use case's failure to an HTTP status and a one-line message (requests and jobs alike). */
import { type AppError, type ErrorKind, describeAppError, kindOf } from '../app/errors'

/** THE table: each kind of use-case failure as an HTTP status. */
export const HTTP_STATUS: Readonly<Record<ErrorKind, number>> = {
  Usage: 400,
  NotFound: 404,
  Conflict: 409,
  Unavailable: 503,
  Store: 500,
  Verify: 500,
}

export interface Explained {
  readonly status: number
  readonly message: string
}

export const explainAppError = (e: AppError): Explained => ({ status: HTTP_STATUS[kindOf(e)], message: describeAppError(e) })

/** An exception that escaped a use case: a bug, never an expected failure. */
export const explainThrown = (e: unknown): Explained => ({ status: 500, message: `internal error: ${e instanceof Error ? e.message : String(e)}` })
