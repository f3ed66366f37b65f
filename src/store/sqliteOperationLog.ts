/** The operations streams in the SQLite store file (table `operations`). */
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import type { OperationEvent } from '../../domain/operations'
import { type StoreError, storeFailure } from '../../projections/errors'
import type { OperationLog } from './operationLog'
import { type OperationRow, decodeRow, startOrder } from './operationRows'
import type { SqliteHandle } from './sqliteEventStore'

export const sqliteOperationLog = (h: SqliteHandle): OperationLog => {
  const where = `sqlite:${h.file}`
  const next = h.db.prepare<[string], { n: number }>('SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM operations WHERE operation_id = ?')
  const insert = h.db.prepare('INSERT INTO operations (operation_id, seq, resume_key, type, data) VALUES (?, ?, ?, ?, ?)')
  const read = h.db.prepare<[string], OperationRow>('SELECT operation_id, seq, data FROM operations WHERE operation_id = ? ORDER BY seq')
  const stop = h.db.prepare<[string], { n: number }>("SELECT 1 AS n FROM operations WHERE operation_id = ? AND type = 'StopRequested' LIMIT 1")
  const ids = h.db.prepare<[], { operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE seq = 0')
  const withKey = h.db.prepare<[], { operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE resume_key IS NOT NULL AND seq = 0')
  const byKey = h.db.prepare<[string], { operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE resume_key = ? AND seq = 0')
  const append = h.db.transaction((id: string, events: readonly OperationEvent[]) => {
    let seq = next.get(id)?.n ?? 0
    for (const e of events) insert.run(id, seq++, e.type === 'OperationStarted' ? (e.resumeKey ?? null) : null, e.type, JSON.stringify(e))
  })
  return {
    append: (id, events) =>
      TE.fromEither(
        E.tryCatch(
          () => append.immediate(id, events),
          (e) => storeFailure(where, e),
        ),
      ),
    read: (id) =>
      TE.fromEither(
        E.flatten(
          E.tryCatch(
            () => E.traverseArray(decodeRow)(read.all(id)) as E.Either<StoreError, OperationEvent[]>,
            (e) => storeFailure(where, e),
          ),
        ),
      ),
    stopRequested: (id) =>
      TE.fromEither(
        E.tryCatch(
          () => stop.get(id) !== undefined,
          (e) => storeFailure(where, e),
        ),
      ),
    list: () =>
      TE.fromEither(
        E.tryCatch(
          () => startOrder(ids.all()),
          (e) => storeFailure(where, e),
        ),
      ),
    byResumeKey: (key) =>
      TE.fromEither(
        E.tryCatch(
          () => startOrder(byKey.all(key)),
          (e) => storeFailure(where, e),
        ),
      ),
    restores: () =>
      TE.fromEither(
        E.tryCatch(
          () => startOrder(withKey.all()),
          (e) => storeFailure(where, e),
        ),
      ),
  }
}
