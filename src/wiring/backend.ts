/**
 * The composition root's store part: opens the store named by a `--store` location together with its temporal index and blob store.
 * `sqlite:<file>` (or a bare path) is the embedded default.
 */
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../projections/errors'
import type { BlobSpec } from '../blobs/blobLocation'
import { type BlobStore, fsBlobStore, openBlobStore } from '../blobs/blobStore'
import { redactUrl } from '../store/redactUrl'
import { sqliteOperationLog } from '../store/sqliteOperationLog'
import { openSqliteDatabase, sqliteEventStore } from '../store/sqliteEventStore'
import { sqliteTemporalIndex } from '../store/sqliteTemporalIndex'
import { streamReader } from '../store/streamReader'
import { pgOperationLog } from '../store/postgres/pgOperationLog'
import { openPgEventStore } from '../store/postgres/pgEventStore'
import { pgTemporalIndex } from '../store/postgres/pgTemporalIndex'
import { pgLeases } from '../store/postgres/pgLeases'
import { pgJobs } from '../store/postgres/pgJobs'
import { replayTimeTravel } from '../../projections/replay'
import { esdbEventStore } from '../store/esdb/esdbEventStore'
import { DEFAULT_ESDB_INDEX } from '../config'
import { mirroredBackend } from './mirroredBackend'
import type { Backend, ReadBackend } from '../app/ports'

export type { Backend, ReadBackend, TemporalIndex } from '../app/ports'

/** A blob folder (as every caller gave before S3), or a spec: a folder or an S3 bucket. */
export type BlobsAt = string | BlobSpec

const blobStoreAt = (at: BlobsAt): BlobStore => (typeof at === 'string' ? fsBlobStore(at) : openBlobStore(at))

export const isPostgres = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location)
export const isEsdb = (location: string): boolean => /^esdb(\+discover)?:\/\//i.test(location)

export const sqlitePathOf = (location: string): string | undefined => {
  if (location.startsWith('sqlite:')) return location.slice('sqlite:'.length)
  if (!location.includes('://')) return location
  return undefined
}

/**
 * Opens another installation's SQLite store read-only (External Restore): nothing is written to it,
 * not even the temporal index, so time travel on it is the replay.
 */
export const openReadOnlyBackend = (location: string, blobsDir: BlobsAt): E.Either<StoreError, ReadBackend> => {
  const file = sqlitePathOf(location)
  if (file === undefined)
    return E.left({ _tag: 'StoreUnavailable', store: redactUrl(location), reason: 'unsupported store scheme (use a SQLite file or a directory holding mailtime.db)' })
  const h = openSqliteDatabase(file, { readonly: true })
  if (E.isLeft(h)) return h
  const store = sqliteEventStore(h.right)
  return E.right({ store, index: replayTimeTravel(streamReader(store)), blobs: blobStoreAt(blobsDir), close: () => store.close() })
}

/** Opens a SQLite store (`sqlite:<file>` or a path) with its index, blobs and operations. */
export const openBackend = (location: string, blobsDir: BlobsAt): E.Either<StoreError, Backend> => {
  const file = sqlitePathOf(location)
  if (file === undefined)
    return E.left({
      _tag: 'StoreUnavailable',
      store: redactUrl(location),
      reason: isPostgres(location) ? 'a PostgreSQL store opens with openStoreBackend' : 'unsupported store scheme (use sqlite:<file> or postgres://…)',
    })
  const h = openSqliteDatabase(file)
  if (E.isLeft(h)) return h
  const index = sqliteTemporalIndex(h.right)
  const store = sqliteEventStore(h.right, () => {
    index.catchUp()
  })
  return E.right({
    store,
    index: { ...index, rebuild: (onProgress) => TE.fromEither(index.rebuild(onProgress)) },
    blobs: blobStoreAt(blobsDir),
    operations: sqliteOperationLog(h.right),
    close: () => store.close(),
  })
}

/**
 * Opens the store a `--store` location names: SQLite, PostgreSQL (`postgres://…`, whose temporal
 * index and operations streams are tables beside its events), or EventStoreDB (`esdb://…`, whose
 * events are copied into the SQLite or PostgreSQL store `indexLocation` names, which then answers
 * time travel and holds the operations streams: `mirroredBackend.ts`). Blobs are in a folder or an S3
 * bucket (`s3BlobStore.ts`), whatever the store.
 */
export const openStoreBackend = async (location: string, blobsDir: BlobsAt, indexLocation = DEFAULT_ESDB_INDEX): Promise<E.Either<StoreError, Backend>> => {
  if (isEsdb(location)) {
    if (isEsdb(indexLocation))
      return E.left({ _tag: 'StoreUnavailable', store: redactUrl(indexLocation), reason: 'the index beside an EventStoreDB store must be a SQLite file or a postgres:// database' })
    const beside = await openStoreBackend(indexLocation, blobsDir)
    if (E.isLeft(beside)) return beside
    const source = esdbEventStore(location)
    return E.right(mirroredBackend(source, beside.right, source.follow))
  }
  if (!isPostgres(location)) return openBackend(location, blobsDir)
  const pg = await openPgEventStore(location)
  if (E.isLeft(pg)) return pg
  const { pool, description } = pg.right
  return E.right({
    store: pg.right,
    index: pgTemporalIndex(pool, description),
    blobs: blobStoreAt(blobsDir),
    operations: pgOperationLog(pool, description),
    leases: pgLeases(pool, description),
    jobQueue: pgJobs(pool, description),
    close: () => pg.right.close(),
  })
}
