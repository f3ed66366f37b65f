/**
 * The temporal index on SQLite: an item-versions table beside the events, kept up to date by
 * catching up on the global order, and rebuildable from scratch. It answers the `TimeTravel`
 * queries with the relational interval tree (`projections/intervalTree.ts`) instead of a replay.
 *
 * Current knowledge lives in `item_versions`; versions the backup later corrected (late events)
 * move to `item_versions_superseded` with the system time at which they stopped being believed.
 *
 * Catching up walks each touched item through the system times of its new events, one at a time:
 * 1. the usual case (the new facts sort after everything known about the item) reads where the
 *    item's indexed events sort and its open version, evolves it, closes it at the first fact that
 *    changes it and appends: O(the item's events);
 * 2. a fact that lands in the item's past re-folds the item and rewrites the versions it changed;
 * 3. a fact recorded before facts already indexed (system time going backwards, as when two
 *    stores are merged) rebuilds the item's whole bitemporal history.
 */
import type Database from 'better-sqlite3'
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import { type AccountEvent, type ItemEvent, isItemEvent } from '../../domain/events'
import type { AccountId, ItemId } from '../../domain/ids'
import { streamOfAccount, accountOfStream } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import { stateText } from '../../domain/stateText'
import { type StoreError, StoreErrorRaised, storeFailure } from '../../projections/errors'
import { forkNode, stabbingPlan, upperOf } from '../../projections/intervalTree'
import { type RecordedEvent, compareRecorded, sortRecorded } from '../../projections/order'
import type { AsOf, ItemChange, LiveItemRef, LiveRefs, TimeTravel, Window } from '../../projections/timeTravel'
import { byItemThenTime } from '../../projections/timeTravel'
import { type BitemporalVersion, type ItemVersion, VERSION_RULES, appendVersions, bitemporalVersions, itemVersions, rowKey, versionKey } from '../../projections/versions'
import { decodeStoredEvent } from './decodeStored'
import { decodeStateText, pushJoinedRefs, sortRefs, stateRef } from './stateRefs'
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

interface CurrentRow extends VersionRow {
  rowid: number
  kind: number
  ev_recorded_at: number
  ev_revision: number
}

const POSITION = 'index:global_position'
/** The rule the index was built by (`VERSION_RULES`). */
const RULES = 'index:version_rules'
const BATCH = 5000

export interface SqliteTemporalIndex extends TimeTravel {
  /** Indexes every event appended since the last call; returns how many it processed. */
  catchUp(): E.Either<StoreError, number>
  /** Drops the index and builds it again from the events. */
  rebuild(onProgress?: (done: number, total: number) => void): E.Either<StoreError, { items: number; versions: number }>
}

class DecodeFailure extends Error {
  constructor(readonly error: StoreError) {
    super('decode failure')
  }
}

export const sqliteTemporalIndex = (h: SqliteHandle): SqliteTemporalIndex => {
  const { db } = h
  const where = `sqlite:${h.file}`
  const cols = 'item_id, valid_from, valid_to, recorded_from, cause, event_id, state'
  const st = {
    position: db.prepare<[string], { value: string }>('SELECT value FROM checkpoints WHERE name = ?'),
    setPosition: db.prepare('INSERT INTO checkpoints (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    lastPosition: db.prepare<[], { p: number | null }>('SELECT max(global_position) AS p FROM events'),
    batch: db.prepare<[number, number], { global_position: number; stream: string; revision: number; item_id: number | null; data: string }>(
      'SELECT global_position, stream, revision, item_id, data FROM events WHERE global_position > ? ORDER BY global_position LIMIT ?',
    ),
    itemEvents: db.prepare<[string, number, number], { revision: number; data: string }>(
      'SELECT revision, data FROM events WHERE stream = ? AND item_id = ? AND global_position <= ? ORDER BY revision',
    ),
    accountEvents: db.prepare<[string], { revision: number; data: string }>('SELECT revision, data FROM events WHERE stream = ? AND item_id IS NULL ORDER BY revision'),
    current: db.prepare<[string, number], CurrentRow>(`SELECT rowid, kind, ev_recorded_at, ev_revision, ${cols} FROM item_versions WHERE account = ? AND item_id = ?`),
    openRow: db.prepare<[string, number], CurrentRow>(
      `SELECT rowid, kind, ev_recorded_at, ev_revision, ${cols} FROM item_versions WHERE account = ? AND item_id = ? AND valid_to IS NULL
       ORDER BY valid_from DESC LIMIT 1`,
    ),
    // The item's events indexed so far: an event that changed nothing has no version row of its own,
    // so where the item's last event sorts, and its latest system time, come from the events.
    priorEvents: db.prepare<[string, number, number], { occurred_at: number; recorded_at: number; revision: number }>(
      'SELECT occurred_at, recorded_at, revision FROM events WHERE stream = ? AND item_id = ? AND global_position <= ?',
    ),
    insertCurrent: db.prepare(
      `INSERT INTO item_versions (account, item_id, kind, valid_from, valid_to, recorded_from, fork, lower, upper, cause, event_id, ev_recorded_at, ev_revision, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertSuperseded: db.prepare(
      `INSERT INTO item_versions_superseded (account, item_id, kind, valid_from, valid_to, recorded_from, recorded_to, cause, event_id, state)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteRow: db.prepare('DELETE FROM item_versions WHERE rowid = ?'),
    deleteItem: db.prepare('DELETE FROM item_versions WHERE account = ? AND item_id = ?'),
    deleteItemSuperseded: db.prepare('DELETE FROM item_versions_superseded WHERE account = ? AND item_id = ?'),
    // The stab of one plan node, its states joined by newlines (which stored JSON never holds outside
    // escapes): one string per node instead of one per row, a third of an account as-of's reads.
    stabLeftJoined: db
      .prepare<[string, number, number, number, number, number], string | null>(
        `SELECT group_concat(state, char(10)) FROM item_versions WHERE account = ? AND kind = ? AND fork = ? AND upper >= ?
           AND valid_from <= ? AND recorded_from <= ?`,
      )
      .pluck(),
    stabRightJoined: db
      .prepare<[string, number, number, number, number, number], string | null>(
        `SELECT group_concat(state, char(10)) FROM item_versions WHERE account = ? AND kind = ? AND fork = ? AND lower <= ?
           AND (valid_to IS NULL OR valid_to > ?) AND recorded_from <= ?`,
      )
      .pluck(),
    stabSuperseded: db.prepare<[string, number, number, number, number], { state: string; kind: number }>(
      `SELECT state, kind FROM item_versions_superseded WHERE account = ? AND recorded_to > ? AND recorded_from <= ?
         AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)`,
    ),
    itemRows: db.prepare<[string, number, number], VersionRow>(`SELECT ${cols} FROM item_versions WHERE account = ? AND item_id = ? AND recorded_from <= ?`),
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
    allItems: db.prepare<[], { stream: string; item_id: number }>('SELECT DISTINCT stream, item_id FROM events WHERE item_id IS NOT NULL ORDER BY stream, item_id'),
  }

  const decodeEvent = (stream: string, revision: number, data: string): RecordedEvent<ItemEvent> | undefined => {
    const d = decodeStoredEvent(stream, revision, data)
    if (E.isLeft(d)) throw new DecodeFailure(d.left)
    return isItemEvent(d.right) ? { event: d.right, revision } : undefined
  }

  const loadItemEvents = (stream: string, item: number, upTo: number): RecordedEvent<ItemEvent>[] =>
    st.itemEvents.all(stream, item, upTo).flatMap((r) => decodeEvent(stream, r.revision, r.data) ?? [])

  const decodeState = decodeStateText

  /** Where each event sorts, so a version row can tell whether new facts come after it. */
  type OrderOf = (eventId: string) => { recordedAt: number; revision: number }

  const insertVersion = (account: string, item: number, v: ItemVersion, recordedFrom: number, order: OrderOf): void => {
    const o = order(v.eventId)
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
      o.recordedAt,
      o.revision,
      stateText(v.state),
    )
  }

  const supersede = (account: string, item: number, row: CurrentRow, at: number): void => {
    st.deleteRow.run(row.rowid)
    // A row believed and corrected at the same system time was never believed: drop it.
    if (row.recorded_from < at) st.insertSuperseded.run(account, item, row.kind, row.valid_from, row.valid_to, row.recorded_from, at, row.cause, row.event_id, row.state)
  }

  const orderFrom = (events: readonly RecordedEvent<ItemEvent>[]): OrderOf => {
    const m = new Map(events.map((r) => [r.event.eventId as string, { recordedAt: r.event.recordedAt as number, revision: r.revision }]))
    return (id) => m.get(id) ?? { recordedAt: 0, revision: 0 }
  }

  const writeBitemporal = (account: string, item: number, versions: readonly BitemporalVersion[], order: OrderOf): void => {
    for (const v of versions) {
      if (v.recordedTo === null) insertVersion(account, item, v, v.recordedFrom, order)
      else st.insertSuperseded.run(account, item, kindOf(v.state), v.validFrom, v.validTo, v.recordedFrom, v.recordedTo, v.cause, v.eventId, stateText(v.state))
    }
  }

  /**
   * Case 1: every new fact sorts after the item's last indexed event (`last`, undefined for a new
   * item); evolve from its open version, which ends at the first fact that changes it.
   */
  const appendAtEnd = (account: string, item: number, fresh: readonly RecordedEvent<ItemEvent>[], at: number, last: RecordedEvent | undefined): boolean => {
    const first = fresh[0]
    if (first === undefined) return true
    if (last !== undefined && compareRecorded(last, first) > 0) return false
    const open = last === undefined ? undefined : st.openRow.get(account, item)
    if (last !== undefined && open === undefined) return false
    const { closesAt, versions } = appendVersions(open === undefined ? undefined : decodeState(open.state), fresh)
    if (open !== undefined && closesAt !== undefined) {
      supersede(account, item, open, at)
      const closed: ItemVersion = {
        validFrom: open.valid_from as Instant,
        validTo: closesAt,
        cause: open.cause as ItemVersion['cause'],
        eventId: open.event_id as ItemVersion['eventId'],
        state: decodeState(open.state),
      }
      insertVersion(account, item, closed, at, () => ({ recordedAt: open.ev_recorded_at, revision: open.ev_revision }))
    }
    const order = orderFrom(fresh)
    for (const v of versions) insertVersion(account, item, v, at, order)
    return true
  }

  /** Case 2: re-fold the item with everything known at `at`, and rewrite the rows that changed. */
  const refold = (account: string, item: number, known: readonly RecordedEvent<ItemEvent>[], at: number): void => {
    const keys = new Map(itemVersions(known).map((v) => [versionKey(v), v]))
    for (const row of st.current.all(account, item)) {
      const k = rowKey(row.valid_from, row.valid_to, row.cause, row.event_id, row.state)
      if (keys.has(k)) keys.delete(k)
      else supersede(account, item, row, at)
    }
    const order = orderFrom(known)
    for (const v of keys.values()) insertVersion(account, item, v, at, order)
  }

  /** Brings one item up to date with its events at global positions in (from, upTo]. */
  const reindexItem = (stream: string, account: string, item: number, fresh: readonly RecordedEvent<ItemEvent>[], from: number, upTo: number): void => {
    let lastKnown = -1
    let last: RecordedEvent | undefined
    for (const p of st.priorEvents.all(stream, item, from)) {
      lastKnown = Math.max(lastKnown, p.recorded_at)
      const r = { event: { occurredAt: p.occurred_at, recordedAt: p.recorded_at }, revision: p.revision } as RecordedEvent
      if (last === undefined || compareRecorded(r, last) > 0) last = r
    }
    const stamps = [...new Set(fresh.map((r) => r.event.recordedAt as number))].sort((a, b) => a - b)
    if ((stamps[0] ?? 0) < lastKnown) {
      // Case 3: system time went backwards for this item.
      const all = loadItemEvents(stream, item, upTo)
      st.deleteItem.run(account, item)
      st.deleteItemSuperseded.run(account, item)
      writeBitemporal(account, item, bitemporalVersions(all), orderFrom(all))
      return
    }
    let known: RecordedEvent<ItemEvent>[] | undefined
    for (const at of stamps) {
      const now = sortRecorded(fresh.filter((r) => r.event.recordedAt === at))
      if (known === undefined && appendAtEnd(account, item, now, at, last)) {
        last = now[now.length - 1] ?? last
        continue
      }
      if (known === undefined) known = loadItemEvents(stream, item, upTo).filter((r) => r.event.recordedAt <= at)
      else known.push(...now)
      refold(account, item, known, at)
    }
  }

  const catchUpTx = db.transaction((): number => {
    let from = Number(st.position.get(POSITION)?.value ?? '0')
    let done = 0
    for (;;) {
      const rows = st.batch.all(from, BATCH)
      if (rows.length === 0) break
      const upTo = rows[rows.length - 1]?.global_position ?? from
      const touched = new Map<string, { stream: string; item: number; fresh: RecordedEvent<ItemEvent>[] }>()
      for (const r of rows) {
        if (r.item_id === null || accountOfStream(r.stream) === undefined) continue
        const key = `${r.stream}\u0000${r.item_id}`
        const ev = decodeEvent(r.stream, r.revision, r.data)
        if (ev === undefined) continue
        const t = touched.get(key) ?? { stream: r.stream, item: r.item_id, fresh: [] }
        t.fresh.push(ev)
        touched.set(key, t)
      }
      for (const { stream, item, fresh } of touched.values()) reindexItem(stream, accountOfStream(stream) as string, item, fresh, from, upTo)
      from = upTo
      done += rows.length
      st.setPosition.run(POSITION, String(from))
      st.setPosition.run(RULES, String(VERSION_RULES))
    }
    return done
  })

  const guard = <A>(f: () => A): E.Either<StoreError, A> => {
    try {
      return E.right(f())
    } catch (e) {
      if (e instanceof DecodeFailure || e instanceof StoreErrorRaised) return E.left(e.error)
      return E.left(storeFailure(where, e))
    }
  }

  // Whether this process has seen that the index was built by today's rule (checked once).
  let rulesChecked = false

  const catchUp = (): E.Either<StoreError, number> => {
    if (!rulesChecked) {
      // An index built by another rule (an older Mailtime) is rebuilt before anything reads it, by
      // one process: the others find it done once they get the write lock.
      const stale = () => st.position.get(RULES)?.value !== String(VERSION_RULES) && Number(st.position.get(POSITION)?.value ?? '0') > 0
      if (stale()) {
        const r = guard(() => db.transaction(() => (stale() ? rebuildAll() : undefined)).immediate())
        if (E.isLeft(r)) return r
      }
      rulesChecked = true
    }
    const last = st.lastPosition.get()?.p ?? 0
    const at = Number(st.position.get(POSITION)?.value ?? '0')
    if (last <= at) return E.right(0)
    return guard(() => catchUpTx.immediate())
  }

  /** Folds every item again (inside a write transaction). */
  const rebuildAll = (onProgress?: (done: number, total: number) => void): { items: number; versions: number } => {
    db.exec('DELETE FROM item_versions; DELETE FROM item_versions_superseded;')
    const upTo = st.lastPosition.get()?.p ?? 0
    const items = st.allItems.all()
    let versions = 0
    items.forEach(({ stream, item_id }, i) => {
      const account = accountOfStream(stream)
      if (account === undefined) return
      const events = loadItemEvents(stream, item_id, upTo)
      const bt = bitemporalVersions(events)
      writeBitemporal(account, item_id, bt, orderFrom(events))
      versions += bt.length
      if (onProgress !== undefined && i % 1000 === 0) onProgress(i, items.length)
    })
    st.setPosition.run(POSITION, String(upTo))
    st.setPosition.run(RULES, String(VERSION_RULES))
    return { items: items.length, versions }
  }

  const rebuild = (onProgress?: (done: number, total: number) => void) => guard(() => db.transaction(() => rebuildAll(onProgress)).immediate())

  /** Runs a query after catching up, so reads never miss an appended event. */
  const query =
    <A>(f: () => A): TE.TaskEither<StoreError, A> =>
    async () => {
      const c = catchUp()
      if (E.isLeft(c)) return c
      return guard(f)
    }

  const rowToChange = (r: VersionRow): ItemChange => ({
    itemId: r.item_id as ItemId,
    validFrom: r.valid_from as Instant,
    validTo: r.valid_to as Instant | null,
    cause: r.cause as ItemVersion['cause'],
    eventId: r.event_id as ItemVersion['eventId'],
    state: decodeState(r.state),
  })

  /** The stab as one statement in item order, for a plan of this shape (statements are cached by shape). */
  const orderedStabs = new Map<string, Database.Statement<unknown[], string>>()
  const orderedStab = (left: number, right: number, known: boolean, kinds: number): Database.Statement<unknown[], string> => {
    const key = `${left}/${right}/${known}/${kinds}`
    const hit = orderedStabs.get(key)
    if (hit !== undefined) return hit
    const list = (n: number) => Array.from({ length: n }, () => '?').join(',')
    const parts = [
      ...(left > 0
        ? [
            `SELECT item_id, state FROM item_versions WHERE account = ? AND kind IN (${list(kinds)}) AND fork IN (${list(left)}) AND upper >= ? AND valid_from <= ? AND recorded_from <= ?`,
          ]
        : []),
      ...(right > 0
        ? [
            `SELECT item_id, state FROM item_versions WHERE account = ? AND kind IN (${list(kinds)}) AND fork IN (${list(right)}) AND lower <= ? AND (valid_to IS NULL OR valid_to > ?) AND recorded_from <= ?`,
          ]
        : []),
      ...(known
        ? [
            `SELECT item_id, state FROM item_versions_superseded WHERE account = ? AND recorded_to > ? AND recorded_from <= ? AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?) AND kind IN (${list(kinds)})`,
          ]
        : []),
    ]
    const stmt = db.prepare<unknown[], string>(`SELECT state FROM (${parts.join(' UNION ALL ')}) ORDER BY item_id`).pluck()
    orderedStabs.set(key, stmt)
    return stmt
  }

  const stabEach = (account: AccountId, kinds: readonly number[], at: AsOf, visit: (s: ItemState) => void): number => {
    const T = at.validAt
    const K = at.knownAt ?? Number.MAX_SAFE_INTEGER
    const plan = stabbingPlan(T)
    const known = at.knownAt !== undefined
    const args = [
      ...(plan.leftNodes.length > 0 ? [account, ...kinds, ...plan.leftNodes, T, T, K] : []),
      ...(plan.rightNodes.length > 0 ? [account, ...kinds, ...plan.rightNodes, T, T, K] : []),
      ...(known ? [account, K, K, T, T, ...kinds] : []),
    ]
    let n = 0
    for (const text of orderedStab(plan.leftNodes.length, plan.rightNodes.length, known, kinds.length).iterate(...args)) {
      visit(decodeState(text))
      n++
    }
    return n
  }

  /**
   * References to the versions of the given kinds alive at T as known at K, in item order: one query
   * per plan node, sorted here. (A single ordered statement made SQLite sort every row with its state
   * in a temporary b-tree: 3–4× slower for account as-of, measured on the bench store; the export,
   * which must not hold the list, pays that instead.)
   */
  const stabRefsOf = (account: AccountId, kinds: readonly number[], at: AsOf): LiveItemRef[] => {
    const T = at.validAt
    const K = at.knownAt ?? Number.MAX_SAFE_INTEGER
    const plan = stabbingPlan(T)
    const refs: LiveItemRef[] = []
    const addJoined = (joined: string | null | undefined): void => {
      if (joined !== null && joined !== undefined) pushJoinedRefs(joined, refs)
    }
    for (const kind of kinds) {
      for (const n of plan.leftNodes) addJoined(st.stabLeftJoined.get(account, kind, n, T, T, K))
      for (const n of plan.rightNodes) addJoined(st.stabRightJoined.get(account, kind, n, T, T, K))
    }
    if (at.knownAt !== undefined) for (const r of st.stabSuperseded.all(account, K, K, T, T)) if (kinds.includes(r.kind)) refs.push(stateRef(r.state))
    return sortRefs(refs)
  }

  /** The stab's states, decoded. */
  const stab = (account: AccountId, kinds: readonly number[], at: AsOf): ItemState[] => stabRefsOf(account, kinds, at).map((r) => r.state())

  /** Folders decoded, other items as references: what an account view needs, without decoding every state. */
  const stabRefs = (account: AccountId, at: AsOf): LiveRefs => ({ folders: stab(account, [KIND_FOLDER], at), items: stabRefsOf(account, [KIND_ITEM], at) })

  const versionsOf = (account: AccountId, item: ItemId, knownAt: Instant | undefined): ItemVersion[] => {
    const K = knownAt ?? Number.MAX_SAFE_INTEGER
    const rows = [...st.itemRows.all(account, item, K), ...(knownAt === undefined ? [] : st.itemRowsSuperseded.all(account, item, K, K))]
    return rows
      .map(rowToChange)
      .sort(byItemThenTime)
      .map(({ itemId: _i, ...v }) => v)
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
    liveRefsAsOf: (account, at) => query(() => stabRefs(account, at)),
    eachLiveItem: (account, at, visit) => query(() => stabEach(account, [KIND_FOLDER, KIND_ITEM], at, visit)),
    foldersAsOf: (account, at) => query(() => stab(account, [KIND_FOLDER], at)),
    itemAsOf: (account, item, at) => query(() => versionsOf(account, item, at.knownAt).find((v) => v.validFrom <= at.validAt && (v.validTo === null || v.validTo > at.validAt))),
    itemHistory: (account, item, knownAt) => query(() => versionsOf(account, item, knownAt)),
    changesBetween: (account, w) => query(() => windowed(st.windowRows, st.windowRowsSuperseded, account, w)),
    deletedBetween: (account, w) => query(() => windowed(st.deletedRows, st.deletedRowsSuperseded, account, w)),
  }
}
