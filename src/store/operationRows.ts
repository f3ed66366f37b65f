/** What the SQL stores of operations streams share: decoding a row, and ordering operations by start. */
import * as E from 'fp-ts/Either'
import { describeErrors } from '../../domain/decode'
import { OperationEvent } from '../../domain/operations'
import type { StoreError } from '../../projections/errors'

export interface OperationRow {
  readonly operation_id: string
  readonly seq: number
  readonly data: string
}

export const decodeRow = (r: OperationRow): E.Either<StoreError, OperationEvent> => {
  let json: unknown
  try {
    json = JSON.parse(r.data)
  } catch (e) {
    return E.left({ _tag: 'CorruptEvent', stream: `operation-${r.operation_id}`, revision: r.seq, reason: (e as Error).message })
  }
  const d = OperationEvent.decode(json)
  return E.isLeft(d) ? E.left({ _tag: 'CorruptEvent', stream: `operation-${r.operation_id}`, revision: r.seq, reason: describeErrors(d.left) }) : E.right(d.right)
}

const startedAt = (data: string): number => {
  try {
    return Number((JSON.parse(data) as { at?: unknown }).at) || 0
  } catch {
    return 0
  }
}

/** Operation ids from their first rows, oldest start first. */
export const startOrder = (rows: readonly { operation_id: string; data: string }[]): string[] =>
  [...rows].sort((a, b) => startedAt(a.data) - startedAt(b.data) || (a.operation_id < b.operation_id ? -1 : 1)).map((r) => r.operation_id)
