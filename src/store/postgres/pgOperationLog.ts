/** The operations streams in a PostgreSQL store (table `operations`), as in SQLite. */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { Pool } from 'pg'
import type { OperationEvent } from '../../../domain/operations'
import { type StoreError, storeFailure } from '../../../projections/errors'
import type { OperationLog } from '../operationLog'
import { type OperationRow, decodeRow, startOrder } from '../operationRows'

export const pgOperationLog = (pool: Pool, description: string): OperationLog => {
  const attempt =
    <A>(f: () => Promise<E.Either<StoreError, A>>): TE.TaskEither<StoreError, A> =>
    async () => {
      try {
        return await f()
      } catch (e) {
        return E.left(storeFailure(description, e))
      }
    }
  return {
    append: (id, events) =>
      attempt(async () => {
        const c = await pool.connect()
        try {
          await c.query('BEGIN')
          // One writer per operation at a time, so sequence numbers never collide.
          await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [id])
          let seq = Number((await c.query<{ n: string }>('SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM operations WHERE operation_id = $1', [id])).rows[0]?.n ?? 0)
          for (const e of events)
            await c.query('INSERT INTO operations (operation_id, seq, resume_key, type, data) VALUES ($1, $2, $3, $4, $5)', [
              id,
              seq++,
              e.type === 'OperationStarted' ? (e.resumeKey ?? null) : null,
              e.type,
              JSON.stringify(e),
            ])
          await c.query('COMMIT')
          return E.right(undefined)
        } catch (e) {
          await c.query('ROLLBACK').catch(() => undefined)
          throw e
        } finally {
          c.release()
        }
      }),
    read: (id) =>
      attempt(async () => {
        const rows = (await pool.query<OperationRow>('SELECT operation_id, seq, data FROM operations WHERE operation_id = $1 ORDER BY seq', [id])).rows
        return E.traverseArray(decodeRow)(rows) as E.Either<StoreError, OperationEvent[]>
      }),
    stopRequested: (id) =>
      attempt(async () => E.right((await pool.query("SELECT 1 FROM operations WHERE operation_id = $1 AND type = 'StopRequested' LIMIT 1", [id])).rows.length > 0)),
    list: () => attempt(async () => E.right(startOrder((await pool.query<{ operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE seq = 0')).rows))),
    byResumeKey: (key) =>
      attempt(async () =>
        E.right(startOrder((await pool.query<{ operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE resume_key = $1 AND seq = 0', [key])).rows)),
      ),
  }
}
