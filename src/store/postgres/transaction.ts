/** One PostgreSQL transaction on a pooled connection, optionally holding a transaction-scoped advisory lock. */
import type { Pool, PoolClient } from 'pg'

export const inTransaction = async <A>(pool: Pool, f: (c: PoolClient) => Promise<A>, lock?: bigint | string): Promise<A> => {
  const c = await pool.connect()
  try {
    await c.query('BEGIN')
    if (typeof lock === 'bigint') await c.query('SELECT pg_advisory_xact_lock($1)', [lock])
    else if (lock !== undefined) await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lock])
    const a = await f(c)
    await c.query('COMMIT')
    return a
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined)
    throw e
  } finally {
    c.release()
  }
}
