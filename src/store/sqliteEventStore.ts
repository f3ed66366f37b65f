/**
 * The embedded event store: one SQLite file (WAL) holding every account stream, the stream heads,
 * capture checkpoints and the temporal index. See `eventStore.ts` for the guarantees.
 */
import Database from 'better-sqlite3'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import type { MailEvent } from '../../domain/events'
import { isItemEvent } from '../../domain/events'
import type { StoreError } from '../../projections/errors'
import { storeFailure } from '../../projections/errors'
import type { AppendOptions, AppendResult, EventStore, ReadOptions, StoredEvent } from './eventStore'
import { decodeStoredEvent, encodeEvent } from './decodeStored'
import { migrate } from './sqliteSchema'

/**
 * A row of a read, as an array: (global position, revision, data), and the stream's name when the
 * read spans streams. Arrays, and no name the caller knows: an export reads every event of an
 * account, and a row object per event was a seventh of its reading time.
 */
type Row = [globalPosition: number, revision: number, data: string, stream?: string]

class Conflict extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super('conflict')
  }
}

export interface SqliteHandle {
  readonly db: Database.Database
  readonly file: string
}

/** Opens (creating if needed) a store file and brings its schema up to date. */
export const openSqliteDatabase = (file: string, options: { readonly?: boolean } = {}): E.Either<StoreError, SqliteHandle> => {
  const where = `sqlite:${file}`
  try {
    if (options.readonly === true) {
      if (!fs.existsSync(file)) throw new Error('no such file')
      const db = new Database(file, { readonly: true, fileMustExist: true })
      const v = db.pragma('user_version', { simple: true }) as number
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'events'").get() as { n: number }
      if (v < 1 || tables.n === 0) {
        db.close()
        throw new Error('not a Mailtime store (no events table)')
      }
      return E.right({ db, file })
    }
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
    const db = new Database(file)
    try {
      db.pragma('journal_mode = WAL')
      // FULL: a transaction is on disk when its commit returns (the WAL is fsynced), so that an
      // event batch and its checkpoint survive a power loss once committed, and so does anything
      // done after a commit on the strength of it (a purge deletes blobs, a restore goes on to its
      // next batch). NORMAL would keep the file consistent but could lose the last transactions.
      // Measured cost: docs/reliability.md.
      db.pragma('synchronous = FULL')
      db.pragma('busy_timeout = 10000')
      // 16 MB: account as-of with 64 MB measured within this VM's run-to-run noise (the OS caches
      // the file), while a streaming export's sequential scan filled all 64 MB of it.
      db.pragma('cache_size = -16384')
      db.pragma('foreign_keys = ON')
      migrate(db)
    } catch (e) {
      db.close()
      throw e
    }
    return E.right({ db, file })
  } catch (e) {
    return E.left({ _tag: 'StoreUnavailable', store: where, reason: (e as Error).message })
  }
}

/** The events of rows read from `stream`, or from the stream each row names. */
const rowsToEvents = (stream: string, rows: readonly Row[], withText = false): E.Either<StoreError, StoredEvent[]> => {
  const out: StoredEvent[] = []
  for (const [globalPosition, revision, data, rowStream = stream] of rows) {
    const d = decodeStoredEvent(rowStream, revision, data)
    if (E.isLeft(d)) return d
    out.push(withText ? { stream: rowStream, revision, globalPosition, event: d.right, text: data } : { stream: rowStream, revision, globalPosition, event: d.right })
  }
  return E.right(out)
}

export const sqliteEventStore = (h: SqliteHandle, onAppended?: () => void): EventStore => {
  const { db } = h
  const description = `sqlite:${h.file}`
  const st = {
    head: db.prepare<[string], { revision: number }>('SELECT revision FROM streams WHERE stream = ?'),
    insert: db.prepare(
      `INSERT INTO events (stream, revision, event_id, type, item_id, occurred_at, recorded_at, data)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(event_id) DO NOTHING`,
    ),
    setHead: db.prepare('INSERT INTO streams (stream, revision) VALUES (?, ?) ON CONFLICT(stream) DO UPDATE SET revision = excluded.revision'),
    setCheckpoint: db.prepare('INSERT INTO checkpoints (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    getCheckpoint: db.prepare<[string], { value: string }>('SELECT value FROM checkpoints WHERE name = ?'),
    forwards: db.prepare<[string, number, number], Row>('SELECT global_position, revision, data FROM events WHERE stream = ? AND revision >= ? ORDER BY revision LIMIT ?').raw(),
    backwards: db
      .prepare<[string, number, number], Row>('SELECT global_position, revision, data FROM events WHERE stream = ? AND revision <= ? ORDER BY revision DESC LIMIT ?')
      .raw(),
    until: db.prepare<[string, number], Row>('SELECT global_position, revision, data FROM events WHERE stream = ? AND occurred_at <= ? ORDER BY revision').raw(),
    all: db.prepare<[number, number], Row>('SELECT global_position, revision, data, stream FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?').raw(),
    streams: db.prepare<[string, string], { stream: string }>('SELECT stream FROM streams WHERE substr(stream, 1, length(?)) = ? ORDER BY stream'),
  }

  const append = db.transaction((stream: string, events: readonly MailEvent[], options: AppendOptions): AppendResult => {
    const current = st.head.get(stream)?.revision ?? -1
    let rev = current
    for (const e of events) {
      const r = st.insert.run(stream, rev + 1, e.eventId, e.type, isItemEvent(e) ? e.itemId : null, e.occurredAt, e.recordedAt, encodeEvent(e))
      if (r.changes === 1) rev++
    }
    const appended = rev - current
    const expected = options.expectedRevision ?? 'any'
    if (appended > 0 && expected !== 'any' && expected !== current) throw new Conflict(expected, current)
    if (appended > 0) st.setHead.run(stream, rev)
    if (options.checkpoint !== undefined) st.setCheckpoint.run(options.checkpoint.name, options.checkpoint.value)
    return { lastRevision: rev, appended, duplicates: events.length - appended }
  })

  const sync =
    <A>(f: () => E.Either<StoreError, A>): TE.TaskEither<StoreError, A> =>
    async () => {
      try {
        return f()
      } catch (e) {
        return E.left(storeFailure(description, e))
      }
    }

  return {
    description,
    appendToStream: (stream, events, options = {}) =>
      sync(() => {
        try {
          const r = append.immediate(stream, events, options)
          if (r.appended > 0) onAppended?.()
          return E.right(r)
        } catch (e) {
          if (e instanceof Conflict) return E.left({ _tag: 'ConcurrencyConflict', stream, expected: e.expected, actual: e.actual })
          throw e
        }
      }),
    readStream: (stream, o: ReadOptions = {}) =>
      sync(() => {
        const max = o.maxCount ?? Number.MAX_SAFE_INTEGER
        return rowsToEvents(
          stream,
          o.direction === 'backwards' ? st.backwards.all(stream, o.from ?? Number.MAX_SAFE_INTEGER, max) : st.forwards.all(stream, o.from ?? 0, max),
          o.withText,
        )
      }),
    readStreamUntil: (stream, until) => sync(() => rowsToEvents(stream, st.until.all(stream, until))),
    // Each row names its stream (the '' given here is never used).
    readAll: (o) => sync(() => rowsToEvents('', st.all.all(o.after ?? 0, o.maxCount ?? Number.MAX_SAFE_INTEGER))),
    streamRevision: (stream) => sync(() => E.right(st.head.get(stream)?.revision ?? -1)),
    listStreams: (prefix = '') => sync(() => E.right(st.streams.all(prefix, prefix).map((r) => r.stream))),
    readCheckpoint: (name) => sync(() => E.right(st.getCheckpoint.get(name)?.value)),
    close: async () => {
      if (db.open) db.close()
    },
  }
}
