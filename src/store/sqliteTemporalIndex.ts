/**
 * The temporal index on SQLite: an item-versions table beside the events, kept up to date by
 * catching up on the global order, and rebuildable from scratch. It answers the `TimeTravel`
 * queries with the relational interval tree (`projections/intervalTree.ts`) instead of a replay.
 *
 * Current knowledge lives in `item_versions`; versions the backup later corrected (late events)
 * move to `item_versions_superseded` with the system time at which they stopped being believed.
 */
import type Database from 'better-sqlite3'
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { type AccountEvent, type ItemEvent, isItemEvent } from '../../domain/events'
import type { AccountId, ItemId } from '../../domain/ids'
import { streamOfAccount, accountOfStream } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { ItemState } from '../../domain/state'
import { describeErrors } from '../../domain/decode'
import { type StoreError, storeFailure } from '../../projections/errors'
import { forkNode, stabbingPlan, upperOf } from '../../projections/intervalTree'
import type { RecordedEvent } from '../../projections/order'
import type { AsOf, ItemChange, TimeTravel, Window } from '../../projections/timeTravel'
import { byItemThenTime } from '../../projections/timeTravel'
import { type BitemporalVersion, type ItemVersion, bitemporalVersions, itemVersions, versionKey } from '../../projections/versions'
import { decodeStoredEvent } from './decodeStored'
import type { SqliteHandle } from './sqliteEventStore'

/** Row kinds, so that live folders, live items and dead versions are separate index ranges. */
const KIND_FOLDER = 0
const KIND_ITEM = 1
const KIND_DEAD = 2
const kindOf = (s: ItemState): number => (s.status !== 'live' ? KIND_DEAD : s.itemType === 'folder' ? KIND_FOLDER : KIND_ITEM)

interface VersionRow {
  item_id: number
  valid_from: number
  valid_to: number | null
  recorded_from: number
  cause: string
  event_id: string
  state: string
}

const POSITION = 'index:global_position'
const BATCH = 5000

export interface SqliteTemporalIndex extends TimeTravel {
  /** Indexes every event appended since the last call; returns how many it processed. */
  catchUp(): E.Either<StoreError, number>
  /** Drops the index and builds it again from the events. */
  rebuild(onProgress?: (done: number, total: number) => void): E.Either<StoreError, { items: number; versions: number }>
}

export const sqliteTemporalIndex = (h: SqliteHandle): SqliteTemporalIndex => {
  const { db } = h
  const where = `sqlite:${h.file}`
  const cols = 'item_id, valid_from, valid_to, recorded_from, cause, event_id, state'
  const st = {
    position: db.prepare<[string], { value: string }>('SELECT value FROM checkpoints WHERE name = ?'),
    setPosition: db.prepare('INSERT INTO checkpoints (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    lastPosition: db.prepare<[], { p: number | null }>('SELECT max(global_position) AS p FROM events'),
    batch: db.prepare<[number, number], { global_position: number; stream: string; item_id: number | null; recorded_at: number }>(
      'SELECT global_position, stream, item_id, recorded_at FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?',
    ),
    itemEvents: db.prepare<[string, number], { revision: number; global_position: number; data: string }>(
      'SELECT revision, global_position, data FROM events WHERE stream = ? AND item_id = ? ORDER BY revision',
    ),
    accountEvents: db.prepare<[string], { revision: number; data: string }>(
      'SELECT revision, data FROM events WHERE stream = ? AND item_id IS NULL ORDER BY revision',
    ),
    current: db.prepare<[string, number], VersionRow & { rowid: number }>(
      `SELECT rowid, ${cols} FROM item_versions WHERE account = ? AND item_id = ?`,
    ),
    insertCurrent: db.prepare(
      `INSERT INTO item_versions (account, item_id, kind, valid_from, valid_to, recorded_from, fork, lower, upper, cause, event_id, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertSuperseded: db.prepare(
      `INSERT INTO item_versions_superseded (account, item_id, kind, valid_from, valid_to, recorded_from, recorded_to, cause, event_id, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteRow: db.prepare('DELETE FROM item_versions WHERE rowid = ?'),
    deleteItem: db.prepare('DELETE FROM item_versions WHERE account = ? AND item_id = ?'),
    deleteItemSuperseded: db.prepare('DELETE FROM item_versions_superseded WHERE account = ? AND item_id = ?'),
    stabLeft: db.prepare<[string, number, number, number, number, number], { state: string }>(
      `SELECT state FROM item_versions WHERE account = ? AND kind = ? AND fork = ? AND upper >= ?
         AND valid_from <= ? AND recorded_from <= ?`,
    ),
    stabRight: db.prepare<[string, number, number, number, number, number], { state: string }>(
      `SELECT state FROM item_versions WHERE account = ? AND kind = ? AND fork = ? AND lower <= ?
         AND (valid_to IS NULL OR valid_to > ?) AND recorded_from <= ?`,
    ),
    stabSuperseded: db.prepare<[string, number, number, number, number], { state: string; kind: number }>(
      `SELECT state, kind FROM item_versions_superseded WHERE account = ? AND recorded_to > ? AND recorded_from <= ?
         AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)`,
    ),
    itemRows: db.prepare<[string, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions WHERE account = ? AND item_id = ? AND recorded_from <= ?`,
    ),
    itemRowsSuperseded: db.prepare<[string, number, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions_superseded WHERE account = ? AND item_id = ? AND recorded_from <= ? AND recorded_to > ?`,
    ),
    windowRows: db.prepare<[string, number, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions WHERE account = ? AND valid_from >= ? AND valid_from <= ? AND recorded_from <= ?`,
    ),
    windowRowsSuperseded: db.prepare<[string, number, number, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions_superseded WHERE account = ? AND valid_from >= ? AND valid_from <= ?
         AND recorded_from <= ? AND recorded_to > ?`,
    ),
    deletedRows: db.prepare<[string, number, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions WHERE account = ? AND valid_from >= ? AND valid_from <= ? AND recorded_from <= ?
         AND cause = 'ItemDeleted'`,
    ),
    deletedRowsSuperseded: db.prepare<[string, number, number, number, number], VersionRow>(
      `SELECT ${cols} FROM item_versions_superseded WHERE account = ? AND valid_from >= ? AND valid_from <= ?
         AND recorded_from <= ? AND recorded_to > ? AND cause = 'ItemDeleted'`,
    ),
    allItems: db.prepare<[], { stream: string; item_id: number }>(
      'SELECT DISTINCT stream, item_id FROM events WHERE item_id IS NOT NULL ORDER BY stream, item_id',
    ),
  }

  const loadItemEvents = (stream: string, item: number): { events: RecordedEvent<ItemEvent>[]; positions: number[] } => {
    const events: RecordedEvent<ItemEvent>[] = []
    const positions: number[] = []
    for (const r of st.itemEvents.all(stream, item)) {
      const d = decodeStoredEvent(stream, r.revision, r.data)
      if (E.isLeft(d)) throw new DecodeFailure(d.left)
      if (!isItemEvent(d.right)) continue
      events.push({ event: d.right, revision: r.revision })
      positions.push(r.global_position)
    }
    return { events, positions }
  }

  const insertVersion = (account: string, item: number, v: ItemVersion, recordedFrom: number): void => {
    const state = JSON.stringify(ItemState.encode(v.state))
    st.insertCurrent.run(
      account,
      item,
      kindOf(v.state),
      v.validFrom,
      v.validTo,
      recordedFrom,
      forkNode(v.validFrom, upperOf(v.validTo)),
      v.validFrom,
      upperOf(v.validTo),
      v.cause,
      v.eventId,
      state,
    )
  }

  const writeBitemporal = (account: string, item: number, versions: readonly BitemporalVersion[]): void => {
    for (const v of versions) {
      if (v.recordedTo === null) insertVersion(account, item, v, v.recordedFrom)
      else
        st.insertSuperseded.run(
          account,
          item,
          kindOf(v.state),
          v.validFrom,
          v.validTo,
          v.recordedFrom,
          v.recordedTo,
          v.cause,
          v.eventId,
          JSON.stringify(ItemState.encode(v.state)),
        )
    }
  }

  /** Recomputes one item after new events; `newFrom` is the first global position not yet indexed. */
  const reindexItem = (stream: string, account: string, item: number, newFrom: number): void => {
    const { events, positions } = loadItemEvents(stream, item)
    const olds = events.filter((_, i) => (positions[i] ?? 0) < newFrom)
    const news = events.filter((_, i) => (positions[i] ?? 0) >= newFrom)
    const lastKnown = olds.reduce((m, r) => Math.max(m, r.event.recordedAt), -1)
    const stamps = new Set(news.map((r) => r.event.recordedAt))
    const [stamp] = stamps
    if (stamps.size === 1 && stamp !== undefined && stamp >= lastKnown) {
      // The usual case: new facts recorded after everything known about the item. Close the
      // versions they change at that system time and open the new ones.
      const next = itemVersions(events)
      const keys = new Map(next.map((v) => [versionKey(v), v]))
      for (const row of st.current.all(account, item)) {
        const v = rowToVersion(row)
        const k = versionKey(v)
        if (keys.has(k)) {
          keys.delete(k)
          continue
        }
        st.deleteRow.run(row.rowid)
        if (row.recorded_from < stamp)
          st.insertSuperseded.run(account, item, kindOf(v.state), v.validFrom, v.validTo, row.recorded_from, stamp, v.cause, v.eventId, row.state)
      }
      for (const v of keys.values()) insertVersion(account, item, v, stamp)
      return
    }
    // Facts arrived out of system-time order: rebuild the item's whole bitemporal history.
    st.deleteItem.run(account, item)
    st.deleteItemSuperseded.run(account, item)
    writeBitemporal(account, item, bitemporalVersions(events))
  }

  const catchUpTx = db.transaction((): number => {
    let from = Number(st.position.get(POSITION)?.value ?? '0')
    let done = 0
    for (;;) {
      const rows = st.batch.all(from, BATCH)
      if (rows.length === 0) break
      const touched = new Map<string, { stream: string; item: number }>()
      for (const r of rows) if (r.item_id !== null) touched.set(`${r.stream}\u0000${r.item_id}`, { stream: r.stream, item: r.item_id })
      for (const { stream, item } of touched.values()) {
        const account = accountOfStream(stream)
        if (account !== undefined) reindexItem(stream, account, item, from + 1)
      }
      from = rows[rows.length - 1]?.global_position ?? from
      done += rows.length
      st.setPosition.run(POSITION, String(from))
    }
    return done
  })

  const guard = <A>(f: () => A): E.Either<StoreError, A> => {
    try {
      return E.right(f())
    } catch (e) {
      if (e instanceof DecodeFailure) return E.left(e.error)
      return E.left(storeFailure(where, e))
    }
  }

  const catchUp = (): E.Either<StoreError, number> => {
    const last = st.lastPosition.get()?.p ?? 0
    const at = Number(st.position.get(POSITION)?.value ?? '0')
    if (last <= at) return E.right(0)
    return guard(() => catchUpTx.immediate())
  }

  const rebuild = (onProgress?: (done: number, total: number) => void) =>
    guard(() =>
      db.transaction(() => {
        db.exec('DELETE FROM item_versions; DELETE FROM item_versions_superseded;')
        const items = st.allItems.all()
        let versions = 0
        items.forEach(({ stream, item_id }, i) => {
          const account = accountOfStream(stream)
          if (account === undefined) return
          const bt = bitemporalVersions(loadItemEvents(stream, item_id).events)
          writeBitemporal(account, item_id, bt)
          versions += bt.length
          if (onProgress !== undefined && i % 1000 === 0) onProgress(i, items.length)
        })
        st.setPosition.run(POSITION, String(st.lastPosition.get()?.p ?? 0))
        return { items: items.length, versions }
      }).immediate(),
    )

  /** Runs a query after catching up, so reads never miss an appended event. */
  const query =
    <A>(f: () => A): TE.TaskEither<StoreError, A> =>
    async () => {
      const c = catchUp()
      if (E.isLeft(c)) return c
      return guard(f)
    }

  const decodeState = (text: string): ItemState => {
    const r = ItemState.decode(JSON.parse(text))
    if (E.isLeft(r)) throw new DecodeFailure({ _tag: 'CorruptEvent', stream: 'item_versions', revision: -1, reason: describeErrors(r.left) })
    return r.right
  }

  const rowToVersion = (r: VersionRow): ItemVersion => ({
    validFrom: r.valid_from as Instant,
    validTo: r.valid_to as Instant | null,
    cause: r.cause as ItemVersion['cause'],
    eventId: r.event_id as ItemVersion['eventId'],
    state: decodeState(r.state),
  })
  const rowToChange = (r: VersionRow): ItemChange => ({ itemId: r.item_id as ItemId, ...rowToVersion(r) })

  const stab = (account: AccountId, kinds: readonly number[], at: AsOf): ItemState[] => {
    const T = at.validAt
    const K = at.knownAt ?? Number.MAX_SAFE_INTEGER
    const plan = stabbingPlan(T)
    const out: ItemState[] = []
    for (const kind of kinds) {
      for (const n of plan.leftNodes) for (const r of st.stabLeft.all(account, kind, n, T, T, K)) out.push(decodeState(r.state))
      for (const n of plan.rightNodes) for (const r of st.stabRight.all(account, kind, n, T, T, K)) out.push(decodeState(r.state))
    }
    if (at.knownAt !== undefined)
      for (const r of st.stabSuperseded.all(account, K, K, T, T)) if (kinds.includes(r.kind)) out.push(decodeState(r.state))
    return out.sort((a, b) => a.itemId - b.itemId)
  }

  const versionsOf = (account: AccountId, item: ItemId, knownAt: Instant | undefined): ItemVersion[] => {
    const K = knownAt ?? Number.MAX_SAFE_INTEGER
    const rows = [...st.itemRows.all(account, item, K), ...(knownAt === undefined ? [] : st.itemRowsSuperseded.all(account, item, K, K))]
    return rows.map(rowToChange).sort(byItemThenTime).map(({ itemId: _i, ...v }) => v)
  }

  const windowed = (
    current: Database.Statement<[string, number, number, number], VersionRow>,
    superseded: Database.Statement<[string, number, number, number, number], VersionRow>,
    account: AccountId,
    w: Window,
  ): ItemChange[] => {
    const K = w.knownAt ?? Number.MAX_SAFE_INTEGER
    const rows = [...current.all(account, w.from, w.to, K), ...(w.knownAt === undefined ? [] : superseded.all(account, w.from, w.to, K, K))]
    return rows.map(rowToChange).sort(byItemThenTime)
  }

  return {
    kind: 'index',
    catchUp,
    rebuild,
    accountEvents: (account) =>
      query(() =>
        st.accountEvents.all(streamOfAccount(account)).flatMap((r) => {
          const d = decodeStoredEvent(streamOfAccount(account), r.revision, r.data)
          if (E.isLeft(d)) throw new DecodeFailure(d.left)
          return isItemEvent(d.right) ? [] : [{ event: d.right as AccountEvent, revision: r.revision }]
        }),
      ),
    liveItemsAsOf: (account, at) => query(() => stab(account, [KIND_FOLDER, KIND_ITEM], at)),
    foldersAsOf: (account, at) => query(() => stab(account, [KIND_FOLDER], at)),
    itemAsOf: (account, item, at) =>
      query(() => versionsOf(account, item, at.knownAt).find((v) => v.validFrom <= at.validAt && (v.validTo === null || v.validTo > at.validAt))),
    itemHistory: (account, item, knownAt) => query(() => versionsOf(account, item, knownAt)),
    changesBetween: (account, w) => query(() => windowed(st.windowRows, st.windowRowsSuperseded, account, w)),
    deletedBetween: (account, w) => query(() => windowed(st.deletedRows, st.deletedRowsSuperseded, account, w)),
  }
}

class DecodeFailure extends Error {
  constructor(readonly error: StoreError) {
    super('decode failure')
  }
}
