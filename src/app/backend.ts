/**
 * Opens the store named by a `--store` location together with its temporal index and blob store.
 * `sqlite:<file>` (or a bare path) is the embedded default.
 */
import * as E from 'fp-ts/Either'
import type { StoreError } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import { type BlobStore, fsBlobStore } from '../blobs/blobStore'
import type { EventStore } from '../store/eventStore'
import type { OperationLog } from '../store/operationLog'
import { sqliteOperationLog } from '../store/sqliteOperationLog'
import { openSqliteDatabase, sqliteEventStore } from '../store/sqliteEventStore'
import { sqliteTemporalIndex } from '../store/sqliteTemporalIndex'

export interface TemporalIndex extends TimeTravel {
  rebuild(onProgress?: (done: number, total: number) => void): E.Either<StoreError, { items: number; versions: number }>
}

export interface Backend {
  readonly store: EventStore
  readonly index: TemporalIndex
  readonly blobs: BlobStore
  /** The operations streams (restores and other long work). */
  readonly operations: OperationLog
  close(): Promise<void>
}

export const sqlitePathOf = (location: string): string | undefined => {
  if (location.startsWith('sqlite:')) return location.slice('sqlite:'.length)
  if (!location.includes('://')) return location
  return undefined
}

export const openBackend = (location: string, blobsDir: string): E.Either<StoreError, Backend> => {
  const file = sqlitePathOf(location)
  if (file === undefined)
    return E.left({ _tag: 'StoreUnavailable', store: location.replace(/\/\/[^@/]*@/, '//***@'), reason: 'unsupported store scheme (use sqlite:<file>)' })
  const h = openSqliteDatabase(file)
  if (E.isLeft(h)) return h
  const index = sqliteTemporalIndex(h.right)
  const store = sqliteEventStore(h.right, () => {
    index.catchUp()
  })
  return E.right({ store, index, blobs: fsBlobStore(blobsDir), operations: sqliteOperationLog(h.right), close: () => store.close() })
}
