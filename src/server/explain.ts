/** The one mapping from a verb's failure to an HTTP status and a one-line message (requests and jobs alike). */
import { StoreErrorRaised } from '../../projections/errors'
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
