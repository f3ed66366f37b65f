/**
 * The PostgreSQL event store (`--store postgres://…`), for sites that outgrow one SQLite file or run
 * several capture workers. It passes the same contract suite as SQLite.
 *
 * Concurrency: an append locks its stream's head row (`SELECT … FOR UPDATE`), so two writers on one
 * account queue and the second sees the first's revision (a `ConcurrencyConflict` when it expected
 * another). Writers on different accounts check revisions and duplicates in parallel, then queue for
 * the insert itself: global positions are handed out under a transaction-scoped advisory lock held
 * until commit, so positions grow in commit order and a projector reading "after position P" never
 * skips an event that commits later with a smaller position. (Assigning positions after the insert
 * kept inserts parallel but rewrote every row, and ran at 0.47× raw inserts instead of 0.72×.)
 *
 * Reads use unnamed statements: a named prepared statement switches to a generic plan after five
 * runs and made keyset-paged reads about 14× slower here (../shared/services.md).
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { Pool, PoolClient } from 'pg'
import type { MailEvent } from '../../../domain/events'
import { isItemEvent } from '../../../domain/events'
import { type StoreError, storeFailure } from '../../../projections/errors'
import { decodeStoredEvent, encodeEvent } from '../decodeStored'
import type { AppendOptions, AppendResult, EventStore, ReadOptions, StoredEvent } from '../eventStore'
import { migratePg } from './pgSchema'
import { inTransaction } from './transaction'
import { redactUrl } from '../redactUrl'

interface Row {
  readonly global_position: string
  readonly stream: string
  readonly revision: number
  readonly data: string
}

/** The advisory lock key that orders global positions (any constant; "mailtime" in ASCII). */
const POSITION_LOCK = 0x6d61696c74696d65n

class Conflict extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super('conflict')
  }
}

const rowsToEvents = (rows: readonly Row[], withText = false): E.Either<StoreError, StoredEvent[]> => {
  const out: StoredEvent[] = []
  for (const r of rows) {
    const d = decodeStoredEvent(r.stream, r.revision, r.data)
    if (E.isLeft(d)) return d
    const stored = { stream: r.stream, revision: r.revision, globalPosition: Number(r.global_position), event: d.right }
    out.push(withText ? { ...stored, text: r.data } : stored)
  }
  return E.right(out)
}

export interface PgStore extends EventStore {
  readonly pool: Pool
}

export const openPgEventStore = async (url: string, onAppended?: () => void): Promise<E.Either<StoreError, PgStore>> => {
  const description = `postgres:${redactUrl(url).replace(/^postgres(ql)?:/, '')}`
  // JIT compiled the as-of queries for 40 ms each and saved nothing: these are short index scans.
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const { Pool: Client } = require('pg') as typeof import('pg')
  const pool = new Client({ connectionString: url, max: 8, connectionTimeoutMillis: 10_000, options: '-c jit=off' })
  pool.on('error', () => undefined)
  try {
    const c = await pool.connect()
    try {
      await migratePg(c)
    } finally {
      c.release()
    }
  } catch (e) {
    await pool.end().catch(() => undefined)
    return E.left({ _tag: 'StoreUnavailable', store: description, reason: (e as Error).message })
  }

  const run =
    <A>(f: () => Promise<E.Either<StoreError, A>>): TE.TaskEither<StoreError, A> =>
    async () => {
      try {
        return await f()
      } catch (e) {
        return E.left(storeFailure(description, e))
      }
    }

  const transaction = <A>(f: (c: PoolClient) => Promise<A>): Promise<A> => inTransaction(pool, f)

  const appendOnce = (stream: string, events: readonly MailEvent[], options: AppendOptions): Promise<AppendResult> =>
    transaction(async (c) => {
      await c.query('INSERT INTO streams (stream, revision) VALUES ($1, -1) ON CONFLICT (stream) DO NOTHING', [stream])
      const head = await c.query<{ revision: number }>('SELECT revision FROM streams WHERE stream = $1 FOR UPDATE', [stream])
      const current = head.rows[0]?.revision ?? -1
      // Events already stored (in any stream), and repeats within the batch, are skipped.
      const ids = events.map((e) => e.eventId)
      const stored = new Set((await c.query<{ event_id: string }>('SELECT event_id FROM events WHERE event_id = ANY($1::text[])', [ids])).rows.map((r) => r.event_id))
      const fresh: MailEvent[] = []
      for (const e of events)
        if (!stored.has(e.eventId)) {
          stored.add(e.eventId)
          fresh.push(e)
        }
      const expected = options.expectedRevision ?? 'any'
      if (fresh.length > 0 && expected !== 'any' && expected !== current) throw new Conflict(expected, current)
      if (fresh.length > 0) {
        // Positions are handed out under a transaction-scoped lock held until commit, so they grow
        // in commit order; the rows are written with their positions (no second write).
        await c.query('SELECT pg_advisory_xact_lock($1)', [POSITION_LOCK.toString()])
        const base = Number((await c.query<{ p: string }>('SELECT COALESCE(MAX(global_position), 0) AS p FROM events')).rows[0]?.p ?? 0)
        const inserted = await c.query(
          `INSERT INTO events (stream, revision, event_id, type, item_id, occurred_at, recorded_at, data, global_position)
           SELECT $1, r, i, t, it, o, rc, d, $9::bigint + (r - $10::int) + 1 FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[]) AS x(r, i, t, it, o, rc, d)
           ON CONFLICT (event_id) DO NOTHING`,
          [
            stream,
            fresh.map((_, k) => current + 1 + k),
            fresh.map((e) => e.eventId),
            fresh.map((e) => e.type),
            fresh.map((e) => (isItemEvent(e) ? e.itemId : null)),
            fresh.map((e) => e.occurredAt),
            fresh.map((e) => e.recordedAt),
            fresh.map((e) => encodeEvent(e)),
            base,
            current + 1,
          ],
        )
        // Another transaction stored one of these ids meanwhile: retry, so revisions stay gap-free.
        if (inserted.rowCount !== fresh.length) throw new Retry()
        await c.query('UPDATE streams SET revision = $2 WHERE stream = $1', [stream, current + fresh.length])
      }
      if (options.checkpoint !== undefined)
        await c.query('INSERT INTO checkpoints (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [
          options.checkpoint.name,
          options.checkpoint.value,
        ])
      return { lastRevision: current + fresh.length, appended: fresh.length, duplicates: events.length - fresh.length }
    })

  return E.right({
    description,
    pool,
    appendToStream: (stream, events, options = {}) =>
      run(async () => {
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await appendOnce(stream, events, options)
            if (r.appended > 0) onAppended?.()
            return E.right(r)
          } catch (e) {
            if (e instanceof Conflict) return E.left({ _tag: 'ConcurrencyConflict', stream, expected: e.expected, actual: e.actual })
            if (e instanceof Retry && attempt < 3) continue
            throw e
          }
        }
      }),
    readStream: (stream, o: ReadOptions = {}) =>
      run(async () => {
        const max = o.maxCount ?? 2 ** 31 - 1
        const r =
          o.direction === 'backwards'
            ? await pool.query<Row>('SELECT global_position, stream, revision, data FROM events WHERE stream = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3', [
                stream,
                o.from ?? 2 ** 31 - 1,
                max,
              ])
            : await pool.query<Row>('SELECT global_position, stream, revision, data FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3', [
                stream,
                o.from ?? 0,
                max,
              ])
        return rowsToEvents(r.rows, o.withText)
      }),
    readStreamUntil: (stream, until) =>
      run(async () =>
        rowsToEvents(
          (await pool.query<Row>('SELECT global_position, stream, revision, data FROM events WHERE stream = $1 AND occurred_at <= $2 ORDER BY revision', [stream, until])).rows,
        ),
      ),
    readAll: (o) =>
      run(async () =>
        rowsToEvents(
          (
            await pool.query<Row>('SELECT global_position, stream, revision, data FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2', [
              o.after ?? 0,
              o.maxCount ?? 2 ** 31 - 1,
            ])
          ).rows,
        ),
      ),
    streamRevision: (stream) =>
      run(async () => E.right((await pool.query<{ revision: number }>('SELECT revision FROM streams WHERE stream = $1', [stream])).rows[0]?.revision ?? -1)),
    listStreams: (prefix = '') =>
      run(async () =>
        E.right(
          (await pool.query<{ stream: string }>('SELECT stream FROM streams WHERE starts_with(stream, $1) AND revision >= 0 ORDER BY stream', [prefix])).rows.map((r) => r.stream),
        ),
      ),
    readCheckpoint: (name) => run(async () => E.right((await pool.query<{ value: string }>('SELECT value FROM checkpoints WHERE name = $1', [name])).rows[0]?.value)),
    close: async () => {
      await pool.end().catch(() => undefined)
    },
  })
}

class Retry extends Error {}
