/**
 * The temporal index of a PostgreSQL store: the same queries as SQLite's index, answered from the
 * `item_versions` table beside the events.
 *
 * Catching up is simpler than SQLite's incremental path, and correct by construction: every item an
 * event touched since the checkpoint is folded again from all its events (`bitemporalVersions`, the
 * function a rebuild uses) and its rows replaced, a few hundred items per statement. The rows and the
 * checkpoint are written in one transaction under an advisory lock, so several processes sharing
 * the store catch up one at a time and never index an event twice or skip one (global positions
 * grow in commit order; see pgEventStore.ts).
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { Pool, PoolClient } from 'pg'
import { type AccountEvent, type ItemEvent, isItemEvent } from '../../../domain/events'
import { type AccountId, type ItemId, accountOfStream, streamOfAccount } from '../../../domain/ids'
import type { Instant } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import { stateText } from '../../../domain/stateText'
import { decodeStateText, pushJoinedRefs, sortRefs } from '../stateRefs'
import { type StoreError, StoreErrorRaised, attemptStore } from '../../../projections/errors'
import { forkNode, stabbingPlan, upperOf } from '../../../projections/intervalTree'
import type { RecordedEvent } from '../../../projections/order'
import { type AsOf, type ItemChange, type LiveItemRef, type LiveRefs, type TimeTravel, type Window, byItemThenTime } from '../../../projections/timeTravel'
import { type ItemVersion, VERSION_RULES, bitemporalVersions } from '../../../projections/versions'
import { decodeStoredEvent } from '../decodeStored'
import { inTransaction } from './transaction'

const KIND_FOLDER = 0
const KIND_ITEM = 1
const KIND_DEAD = 2
const kindOf = (s: ItemState): number => (s.status !== 'live' ? KIND_DEAD : s.itemType === 'folder' ? KIND_FOLDER : KIND_ITEM)

const POSITION = 'index:global_position'
/** The rule the index was built by (`VERSION_RULES`); an index built by another is rebuilt before use. */
const RULES = 'index:version_rules'
/** The advisory lock that serialises catch-ups ("mtindex" in ASCII). */
const INDEX_LOCK = 0x6d74696e646578n
const EVENTS_PER_BATCH = 20_000
/** Events indexed in one catch-up past which the table is vacuumed (see `tidy`). */
const VACUUM_AFTER = 50_000
const ITEMS_PER_STATEMENT = 500
/** Beyond any instant: what "known now" compares with. */
const NOW = Number.MAX_SAFE_INTEGER

interface VersionRow {
  readonly item_id: number
  readonly valid_from: string
  readonly valid_to: string | null
  readonly cause: string
  readonly event_id: string
  readonly state: string
}

export interface PgTemporalIndex extends TimeTravel {
  /** Indexes every event appended since the last call; returns how many it processed. */
  catchUp(): TE.TaskEither<StoreError, number>
  rebuild(onProgress?: (done: number, total: number) => void): TE.TaskEither<StoreError, { items: number; versions: number }>
}

export const pgTemporalIndex = (pool: Pool, description: string): PgTemporalIndex => {
  const decodeState = decodeStateText

  const decodeEvent = (stream: string, revision: number, data: string) => {
    const d = decodeStoredEvent(stream, revision, data)
    if (E.isLeft(d)) throw new StoreErrorRaised(d.left)
    return d.right
  }

  const toChange = (r: VersionRow): ItemChange => ({
    itemId: r.item_id as ItemId,
    validFrom: Number(r.valid_from) as Instant,
    validTo: r.valid_to === null ? null : (Number(r.valid_to) as Instant),
    cause: r.cause as ItemVersion['cause'],
    eventId: r.event_id as ItemVersion['eventId'],
    state: decodeState(r.state),
  })

  /** Folds the given items of one stream again from all their events up to `upTo`, and replaces their rows. */
  const reindex = async (c: PoolClient, stream: string, items: readonly number[], upTo: number): Promise<number> => {
    const account = accountOfStream(stream)
    if (account === undefined) return 0
    let versions = 0
    for (let i = 0; i < items.length; i += ITEMS_PER_STATEMENT) {
      const chunk = items.slice(i, i + ITEMS_PER_STATEMENT)
      const rows = await c.query<{ item_id: number; revision: number; data: string }>(
        'SELECT item_id, revision, data FROM events WHERE stream = $1 AND item_id = ANY($2) AND global_position <= $3 ORDER BY item_id, revision',
        [stream, chunk, upTo],
      )
      const byItem = new Map<number, RecordedEvent<ItemEvent>[]>()
      for (const r of rows.rows) {
        const ev = decodeEvent(stream, r.revision, r.data)
        if (!isItemEvent(ev)) continue
        const list = byItem.get(r.item_id) ?? []
        list.push({ event: ev, revision: r.revision })
        byItem.set(r.item_id, list)
      }
      const cols: unknown[][] = Array.from({ length: 12 }, () => [])
      for (const [item, events] of byItem)
        for (const v of bitemporalVersions(events)) {
          const upper = upperOf(v.validTo)
          const row = [
            item,
            kindOf(v.state),
            v.validFrom,
            v.validTo,
            v.recordedFrom,
            v.recordedTo,
            forkNode(v.validFrom, upper),
            v.validFrom,
            upper,
            v.cause,
            v.eventId,
            stateText(v.state),
          ]
          row.forEach((x, k) => cols[k]?.push(x))
          versions++
        }
      await c.query('DELETE FROM item_versions WHERE account = $1 AND item_id = ANY($2)', [account, chunk])
      await c.query(
        `INSERT INTO item_versions (account, item_id, kind, valid_from, valid_to, recorded_from, recorded_to, fork, lower, upper, cause, event_id, state)
         SELECT $1, * FROM unnest($2::int[], $3::smallint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::text[], $12::text[], $13::text[])`,
        [account, ...cols],
      )
    }
    return versions
  }

  /** Runs `f` in a transaction holding the index lock. */
  const locked = <A>(f: (c: PoolClient) => Promise<A>): Promise<A> => inTransaction(pool, f, INDEX_LOCK)

  const positions = async (c: Pool | PoolClient): Promise<{ last: number; at: number }> => {
    const r = await c.query<{ last: string | null; at: string | null }>(
      'SELECT (SELECT max(global_position) FROM events) AS last, (SELECT value FROM checkpoints WHERE name = $1) AS at',
      [POSITION],
    )
    return { last: Number(r.rows[0]?.last ?? 0), at: Number(r.rows[0]?.at ?? 0) }
  }

  const setCheckpoint = (c: PoolClient, name: string, value: string) =>
    c.query('INSERT INTO checkpoints (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value', [name, value])
  const setPosition = async (c: PoolClient, p: number) => {
    await setCheckpoint(c, POSITION, String(p))
    await setCheckpoint(c, RULES, String(VERSION_RULES))
  }

  // Whether this process has seen that the index was built by today's rule (checked once).
  let rulesChecked = false
  const builtBy = async (c: Pool | PoolClient): Promise<string | undefined> =>
    (await c.query<{ value: string }>('SELECT value FROM checkpoints WHERE name = $1', [RULES])).rows[0]?.value
  /** An index built by another rule (an older Mailtime) is rebuilt before anything reads it; by one process, the others wait. */
  const checkRules = async (): Promise<void> => {
    if (rulesChecked) return
    if ((await builtBy(pool)) !== String(VERSION_RULES) && (await positions(pool)).at > 0) {
      const rebuilt = await locked(async (c) => ((await builtBy(c)) !== String(VERSION_RULES) ? rebuildIn(c) : undefined))
      if (rebuilt !== undefined) await tidy(rebuilt)
    }
    rulesChecked = true
  }

  const catchUpNow = async (): Promise<number> => {
    await checkRules()
    const quick = await positions(pool)
    if (quick.last <= quick.at) return 0
    return locked(async (c) => {
      // Collect every item the backlog touches, then fold each once up to the backlog's end: a
      // batch-by-batch catch-up refolded the same items again for every batch.
      const { at } = await positions(c)
      const touched = new Map<string, Set<number>>()
      let upTo = at
      let done = 0
      for (;;) {
        const batch = await c.query<{ global_position: string; stream: string; item_id: number | null }>(
          'SELECT global_position, stream, item_id FROM events WHERE global_position > $1 ORDER BY global_position LIMIT $2',
          [upTo, EVENTS_PER_BATCH],
        )
        for (const r of batch.rows) if (r.item_id !== null) touched.set(r.stream, (touched.get(r.stream) ?? new Set()).add(r.item_id))
        const last = batch.rows[batch.rows.length - 1]
        if (last !== undefined) upTo = Number(last.global_position)
        done += batch.rows.length
        if (batch.rows.length < EVENTS_PER_BATCH) break
      }
      for (const [stream, items] of touched) await reindex(c, stream, [...items], upTo)
      await setPosition(c, upTo)
      return done
    }).then(tidy)
  }

  /**
   * After a large catch-up or a rebuild, VACUUM marks the new rows' pages visible, so that as-of
   * queries run as index-only scans at once instead of after autovacuum's next pass (best effort:
   * another session vacuuming at the same time is fine).
   */
  const tidy = async <A>(done: A): Promise<A> => {
    if (typeof done !== 'number' || done >= VACUUM_AFTER) await pool.query('VACUUM (ANALYZE) item_versions').catch(() => undefined)
    return done
  }

  const attempt = attemptStore(description)

  /** Runs a query after catching up, so reads never miss an appended event. */
  const query = <A>(f: () => Promise<A>): TE.TaskEither<StoreError, A> =>
    attempt(async () => {
      await catchUpNow()
      return f()
    })

  /** Folds every item again (in the transaction holding the index lock). */
  const rebuildIn = async (c: PoolClient, onProgress?: (done: number, total: number) => void) => {
    await c.query('DELETE FROM item_versions')
    const { last: upTo } = await positions(c)
    const items = (await c.query<{ stream: string; item_id: number }>('SELECT DISTINCT stream, item_id FROM events WHERE item_id IS NOT NULL ORDER BY stream, item_id')).rows
    const byStream = new Map<string, number[]>()
    for (const r of items) byStream.set(r.stream, [...(byStream.get(r.stream) ?? []), r.item_id])
    let versions = 0
    let done = 0
    for (const [stream, ids] of byStream) {
      versions += await reindex(c, stream, ids, upTo)
      done += ids.length
      onProgress?.(done, items.length)
    }
    await setPosition(c, upTo)
    return { items: items.length, versions }
  }

  const rebuild = (onProgress?: (done: number, total: number) => void) => attempt(() => locked((c) => rebuildIn(c, onProgress)).then(tidy))

  /** The live states at T as known at K, decoded one at a time in item order (for `eachLiveItem`, which must not hold them). */
  const stab = (account: AccountId, kinds: readonly number[], at: AsOf, visit: (s: ItemState) => void): Promise<number> =>
    stabTexts(account, kinds, at, (text) => visit(decodeState(text)))

  /**
   * The live versions at T as known at K: the interval-tree plan over current rows, one index scan
   * per tree node (a lateral join over the node list: with \`fork = ANY(…)\` the planner guessed a
   * quarter of the table and chose a sequential scan), plus superseded rows still believed at K.
   */
  const liveRows = (at: AsOf): string => `
         SELECT v.item_id, v.state FROM unnest($3::bigint[]) AS n(fork), LATERAL (
           SELECT item_id, state FROM item_versions WHERE account = $1 AND kind = ANY($2) AND recorded_to IS NULL AND fork = n.fork AND upper >= $5 AND valid_from <= $5 AND recorded_from <= $6) v
         UNION ALL
         SELECT v.item_id, v.state FROM unnest($4::bigint[]) AS n(fork), LATERAL (
           SELECT item_id, state FROM item_versions WHERE account = $1 AND kind = ANY($2) AND recorded_to IS NULL AND fork = n.fork AND lower <= $5 AND (valid_to IS NULL OR valid_to > $5) AND recorded_from <= $6) v
         ${
           at.knownAt === undefined
             ? ''
             : `UNION ALL
         SELECT item_id, state FROM item_versions WHERE account = $1 AND recorded_to > $6 AND recorded_from <= $6 AND kind = ANY($2) AND valid_from <= $5 AND (valid_to IS NULL OR valid_to > $5)`
         }`
  const liveParams = (account: AccountId, kinds: readonly number[], at: AsOf) => {
    const plan = stabbingPlan(at.validAt)
    return [account, kinds, plan.leftNodes, plan.rightNodes, at.validAt, at.knownAt ?? NOW]
  }

  const stabTexts = async (account: AccountId, kinds: readonly number[], at: AsOf, visit: (text: string) => void): Promise<number> => {
    const rows = await pool.query<{ state: string }>(`SELECT state FROM (${liveRows(at)}) AS live ORDER BY item_id`, liveParams(account, kinds, at))
    for (const r of rows.rows) visit(r.state)
    return rows.rows.length
  }

  /**
   * References to the live versions of the given kinds, in item order. The states come as one
   * newline-joined string (stored state JSON holds newlines only escaped): one value for the driver
   * to convert instead of one row per item; sorted here, since sorting 50,000 states in the query
   * spilled to disk past work_mem.
   */
  const refsOfKinds = async (account: AccountId, kinds: readonly number[], at: AsOf): Promise<LiveItemRef[]> => {
    const r = await pool.query<{ joined: string | null }>(`SELECT string_agg(state, E'\\n') AS joined FROM (${liveRows(at)}) AS live`, liveParams(account, kinds, at))
    const refs: LiveItemRef[] = []
    const joined = r.rows[0]?.joined
    if (joined !== null && joined !== undefined) pushJoinedRefs(joined, refs)
    return sortRefs(refs)
  }

  /** The stab's states as a list, decoded, in item order. */
  const sorted = async (account: AccountId, kinds: readonly number[], at: AsOf): Promise<ItemState[]> => (await refsOfKinds(account, kinds, at)).map((r) => r.state())

  /** Folders decoded, other items as references (what an account view needs). */
  const refs = async (account: AccountId, at: AsOf): Promise<LiveRefs> => ({
    folders: await sorted(account, [KIND_FOLDER], at),
    items: await refsOfKinds(account, [KIND_ITEM], at),
  })

  const cols = 'item_id, valid_from, valid_to, cause, event_id, state'
  /** Rows believed at K ($2 of the query); with K = NOW, the current rows. */
  const believed = 'recorded_from <= $2 AND (recorded_to IS NULL OR recorded_to > $2)'

  const versionsOf = async (account: AccountId, item: ItemId, knownAt: Instant | undefined): Promise<ItemVersion[]> => {
    const K = knownAt ?? NOW
    const r = await pool.query<VersionRow>(`SELECT ${cols} FROM item_versions WHERE account = $1 AND ${believed} AND item_id = $3`, [account, K, item])
    return r.rows
      .map(toChange)
      .sort(byItemThenTime)
      .map(({ itemId: _i, ...v }) => v)
  }

  const windowed = async (account: AccountId, w: Window, deletionsOnly: boolean): Promise<ItemChange[]> => {
    const K = w.knownAt ?? NOW
    const r = await pool.query<VersionRow>(
      `SELECT ${cols} FROM item_versions WHERE account = $1 AND ${believed} AND valid_from >= $3 AND valid_from <= $4${deletionsOnly ? " AND cause = 'ItemDeleted'" : ''}`,
      [account, K, w.from, w.to],
    )
    return r.rows.map(toChange).sort(byItemThenTime)
  }

  return {
    kind: 'index',
    catchUp: () => attempt(catchUpNow),
    rebuild,
    accountEvents: (account) =>
      query(async () => {
        const stream = streamOfAccount(account)
        const r = await pool.query<{ revision: number; data: string }>('SELECT revision, data FROM events WHERE stream = $1 AND item_id IS NULL ORDER BY revision', [stream])
        return r.rows.flatMap((row) => {
          const ev = decodeEvent(stream, row.revision, row.data)
          return isItemEvent(ev) ? [] : [{ event: ev as AccountEvent, revision: row.revision }]
        })
      }),
    liveItemsAsOf: (account, at) => query(() => sorted(account, [KIND_FOLDER, KIND_ITEM], at)),
    liveRefsAsOf: (account, at) => query(() => refs(account, at)),
    eachLiveItem: (account, at, visit) => query(() => stab(account, [KIND_FOLDER, KIND_ITEM], at, visit)),
    foldersAsOf: (account, at) => query(() => sorted(account, [KIND_FOLDER], at)),
    itemAsOf: (account, item, at) =>
      query(async () => (await versionsOf(account, item, at.knownAt)).find((v) => v.validFrom <= at.validAt && (v.validTo === null || v.validTo > at.validAt))),
    itemHistory: (account, item, knownAt) => query(() => versionsOf(account, item, knownAt)),
    changesBetween: (account, w) => query(() => windowed(account, w, false)),
    deletedBetween: (account, w) => query(() => windowed(account, w, true)),
  }
}
