/** The operations streams in a PostgreSQL store (table `operations`), as in SQLite. */
import * as E from 'fp-ts/Either'
import type { Pool } from 'pg'
import type { OperationEvent } from '../../../domain/operations'
import { type StoreError, StoreErrorRaised, attemptStore } from '../../../projections/errors'
import type { OperationLog } from '../operationLog'
import { type OperationRow, decodeRow, startOrder } from '../operationRows'
import { inTransaction } from './transaction'

export const pgOperationLog = (pool: Pool, description: string): OperationLog => {
  const attempt = attemptStore(description)
  return {
    append: (id, events) =>
      attempt(() =>
        // One writer per operation at a time, so sequence numbers never collide.
        inTransaction(
          pool,
          async (c) => {
            let seq = Number((await c.query<{ n: string }>('SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM operations WHERE operation_id = $1', [id])).rows[0]?.n ?? 0)
            for (const e of events)
              await c.query('INSERT INTO operations (operation_id, seq, resume_key, type, data) VALUES ($1, $2, $3, $4, $5)', [
                id,
                seq++,
                e.type === 'OperationStarted' ? (e.resumeKey ?? null) : null,
                e.type,
                JSON.stringify(e),
              ])
          },
          id,
        ),
      ),
    read: (id) =>
      attempt(async () => {
        const rows = (await pool.query<OperationRow>('SELECT operation_id, seq, data FROM operations WHERE operation_id = $1 ORDER BY seq', [id])).rows
        const d = E.traverseArray(decodeRow)(rows) as E.Either<StoreError, OperationEvent[]>
        if (E.isLeft(d)) throw new StoreErrorRaised(d.left)
        return d.right
      }),
    stopRequested: (id) => attempt(async () => (await pool.query("SELECT 1 FROM operations WHERE operation_id = $1 AND type = 'StopRequested' LIMIT 1", [id])).rows.length > 0),
    list: () => attempt(async () => startOrder((await pool.query<{ operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE seq = 0')).rows)),
    byResumeKey: (key) =>
      attempt(async () =>
        startOrder((await pool.query<{ operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE resume_key = $1 AND seq = 0', [key])).rows),
      ),
    restores: () =>
      attempt(async () =>
        startOrder((await pool.query<{ operation_id: string; data: string }>('SELECT operation_id, data FROM operations WHERE resume_key IS NOT NULL AND seq = 0')).rows),
      ),
  }
}
