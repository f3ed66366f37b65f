/**
 * Opens only the event store named by a location: `sqlite:<file>` (or a path), `postgres://…` or
 * `esdb://…`. For `migrateStore`, which copies events between stores of either kind.
 */
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import type { StoreError } from '../../projections/errors'
import type { EventStore } from '../store/eventStore'
import { redactUrl } from '../store/redactUrl'
import { openPgEventStore } from '../store/postgres/pgEventStore'
import { pgTemporalIndex } from '../store/postgres/pgTemporalIndex'
import { esdbEventStore } from '../store/esdb/esdbEventStore'
import { openSqliteDatabase, sqliteEventStore } from '../store/sqliteEventStore'
import { sqliteTemporalIndex } from '../store/sqliteTemporalIndex'
import { isEsdb, isPostgres, sqlitePathOf } from './backend'

export interface OpenedStore {
  readonly store: EventStore
  /** Rebuilds the temporal index from the events, where the store keeps one. */
  /** Rebuilds the temporal index beside the events; absent for EventStoreDB, which keeps none. */
  readonly rebuildIndex?: () => TE.TaskEither<StoreError, { items: number; versions: number }>
}

export const openEventStore = async (location: string): Promise<E.Either<StoreError, OpenedStore>> => {
  if (isEsdb(location)) return E.right({ store: esdbEventStore(location) })
  if (isPostgres(location)) {
    const pg = await openPgEventStore(location)
    return E.isLeft(pg) ? pg : E.right({ store: pg.right, rebuildIndex: () => pgTemporalIndex(pg.right.pool, pg.right.description).rebuild() })
  }
  const file = sqlitePathOf(location)
  if (file === undefined) return E.left({ _tag: 'StoreUnavailable', store: redactUrl(location), reason: 'unsupported store scheme (use sqlite:<file>, postgres://… or esdb://…)' })
  const h = openSqliteDatabase(file)
  if (E.isLeft(h)) return h
  const index = sqliteTemporalIndex(h.right)
  return E.right({ store: sqliteEventStore(h.right), rebuildIndex: () => TE.fromEither(index.rebuild()) })
}
