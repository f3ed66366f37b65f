/**
 * What restores (and rewinds) wrote into an account on one server, read afresh from the operations
 * streams for every scan: a restore may be running while capture watches the account, and a scan
 * must record those messages as written back, not as new mail. Only restores are read, not the other
 * operations. Shared by the capture verbs and the rewind's captures.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import type { OperationEvent } from '../../domain/operations'
import { type RestoredMessages, restoredMessages, serverOf } from '../../domain/restore/restoredMessages'
import type { StoreError } from '../../projections/errors'
import type { OperationLog } from '../store/operationLog'

export const restoredInto = (operations: OperationLog, account: AccountId, server: string) => async (): Promise<E.Either<StoreError, RestoredMessages>> => {
  const ids = await operations.restores()()
  if (E.isLeft(ids)) return ids
  const ops: OperationEvent[][] = []
  for (const id of ids.right) {
    const events = await operations.read(id)()
    if (E.isLeft(events)) return events
    ops.push(events.right)
  }
  return E.right(restoredMessages(ops, account, serverOf(server)))
}
