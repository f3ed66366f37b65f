/**
 * Core benchmark rows: appends against raw batched inserts, building the temporal index, and
 * time-travel queries through the index against the naive replay, on one synthetic account.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import Database from 'better-sqlite3'
import type { Instant } from '../../../domain/instant'
import { isItemEvent, type ItemEvent, type MailEvent } from '../../../domain/events'
import { eventJson } from '../../../domain/json'
import { evolveItem } from '../../../domain/evolve'
import type { ItemState } from '../../../domain/state'
import { accountAsOf } from '../../../projections/accountView'
import { replayTimeTravel } from '../../../projections/replay'
import { sortRecorded } from '../../../projections/order'
import { openSqliteDatabase, sqliteEventStore } from '../../../src/store/sqliteEventStore'
import { sqliteTemporalIndex } from '../../../src/store/sqliteTemporalIndex'
import { migrate } from '../../../src/store/sqliteSchema'
import { streamReader } from '../../../src/store/streamReader'
import { rng } from '../../../src/demo/random'
import { BENCH_ACCOUNT, YEAR, YEAR_START, syntheticEvents } from '../synthetic'
import { fmt, now, peakRssMB, percentile, timeAll } from '../measure'
import type { RowResult, RowSpec } from '../row'

const STREAM = `account-${BENCH_ACCOUNT}`

const open = (file: string) => {
  const h = openSqliteDatabase(file)
  if (E.isLeft(h)) throw new Error(JSON.stringify(h.left))
  return h.right
}

export const randomInstants = (n: number, seed: number): Instant[] => {
  const r = rng(seed)
  return Array.from({ length: n }, () => (YEAR_START + Math.floor(r.next() * YEAR)) as Instant)
}

export const storeFile = (data: string): string => path.join(data, 'core.db')

/** Runs a TaskEither, throwing its error: a failed bench row is a failed run. */
export const must = async <A>(te: () => Promise<E.Either<unknown, A>>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}

export const appendRow: RowSpec = {
  name: 'append',
  title: 'Append to the SQLite event store, then build the temporal index',
  hasGoal: true,
  run: async ({ data, items, events }): Promise<RowResult> => {
    const file = storeFile(data)
    const rawFile = path.join(data, 'raw.db')
    for (const f of [file, rawFile]) for (const x of ['', '-wal', '-shm']) fs.rmSync(f + x, { force: true })
    const h = open(file)
    const store = sqliteEventStore(h)
    let ours = 0
    let total = 0
    for (const batch of syntheticEvents(items, events)) {
      for (let i = 0; i < batch.length; i += 1000) {
        const slice = batch.slice(i, i + 1000)
        const t = now()
        await must(store.appendToStream(STREAM, slice))
        ours += now() - t
        total += slice.length
      }
    }
    // Baseline: the same rows (same encoder, same schema and indexes) with plain prepared INSERTs.
    const raw = new Database(rawFile)
    raw.pragma('journal_mode = WAL')
    raw.pragma('synchronous = NORMAL')
    migrate(raw)
    const ins = raw.prepare('INSERT INTO events (stream, revision, event_id, type, item_id, occurred_at, recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
    const tx = raw.transaction((rows: readonly MailEvent[], base: number) => {
      rows.forEach((e, j) => {
        ins.run(STREAM, base + j, e.eventId, e.type, isItemEvent(e) ? e.itemId : null, e.occurredAt, e.recordedAt, eventJson(e))
      })
    })
    let baseline = 0
    let rev = 0
    for (const batch of syntheticEvents(items, events)) {
      for (let i = 0; i < batch.length; i += 1000) {
        const slice = batch.slice(i, i + 1000)
        const t = now()
        tx(slice, rev)
        baseline += now() - t
        rev += slice.length
      }
    }
    raw.close()
    for (const x of ['', '-wal', '-shm']) fs.rmSync(rawFile + x, { force: true })
    // Then build the temporal index from those events (the projector's catch-up).
    const index = sqliteTemporalIndex(h)
    const t = now()
    const c = index.catchUp()
    const indexMs = now() - t
    if (E.isLeft(c)) throw new Error(JSON.stringify(c.left))
    await store.close()
    const oursRate = total / (ours / 1000)
    const rawRate = total / (baseline / 1000)
    return {
      rows: [
        {
          what: `append ${fmt(total)} events, batches of 1,000`,
          ours: `${fmt(oursRate)} events/s`,
          baseline: `${fmt(rawRate)} events/s (raw INSERT)`,
          ratio: oursRate / rawRate,
          goal: '≥ 0.5×',
          pass: oursRate / rawRate >= 0.5,
        },
        {
          what: 'build the temporal index (catch-up)',
          ours: `${fmt(total / (indexMs / 1000))} events/s`,
          baseline: '',
          ratio: NaN,
          goal: '',
          pass: undefined,
          figure: { value: total / (indexMs / 1000), text: `${fmt(total / (indexMs / 1000))}/s` },
        },
      ],
      peakRssMB: peakRssMB(),
    }
  },
}

export const asOfRow: RowSpec = {
  name: 'asof',
  title: 'Time travel: the temporal index against the naive replay',
  hasGoal: true,
  run: async ({ data, samples, replaySamples }): Promise<RowResult> => {
    const h = open(storeFile(data))
    const index = sqliteTemporalIndex(h)
    const store = sqliteEventStore(h)
    const replay = replayTimeTravel(streamReader(store))
    const instants = randomInstants(samples, 7)
    let liveCount = 0
    const ix = await timeAll(instants.length, async (i) => {
      const v = await must(accountAsOf(index, BENCH_ACCOUNT, { validAt: instants[i] as Instant }))
      liveCount += v.items.length
    })
    // The same views with every item's state read (what `getAccountState --json` prints): states are
    // decoded on first use, so this is the cost of a consumer that needs all of them.
    const full = await timeAll(instants.length, async (i) => {
      const v = await must(accountAsOf(index, BENCH_ACCOUNT, { validAt: instants[i] as Instant }))
      let folders = 0
      for (const item of v.items) folders += item.state.folderId
      return folders
    })
    const rp = await timeAll(replaySamples, (i) => must(accountAsOf(replay, BENCH_ACCOUNT, { validAt: instants[i] as Instant })))
    // A stronger baseline: events already decoded in memory, so only the fold is timed. It builds
    // every item's state, so it is compared with the views whose states were all read (`full`), at
    // the same instants.
    const all = await must(store.readStream(STREAM))
    const sorted = sortRecorded(all.filter((s) => isItemEvent(s.event)).map((s) => ({ event: s.event as ItemEvent, revision: s.revision })))
    const fold = await timeAll(replaySamples, (i) => {
      const at = instants[i] as number
      const m = new Map<number, ItemState>()
      for (const r of sorted) {
        if (r.event.occurredAt > at) break
        m.set(r.event.itemId, evolveItem(m.get(r.event.itemId), r.event))
      }
      return m.size
    })
    const r = rng(11)
    const itemIds = Array.from({ length: samples }, () => 1000 + r.int(0, 9999))
    const itemIx = await timeAll(itemIds.length, (i) => must(index.itemAsOf(BENCH_ACCOUNT, itemIds[i] as never, { validAt: instants[i] as Instant })))
    const itemRp = await timeAll(1, (i) => must(replay.itemAsOf(BENCH_ACCOUNT, itemIds[i] as never, { validAt: instants[i] as Instant })))
    const histIx = await timeAll(itemIds.length, (i) => must(index.itemHistory(BENCH_ACCOUNT, itemIds[i] as never)))
    const histRp = await timeAll(1, (i) => must(replay.itemHistory(BENCH_ACCOUNT, itemIds[i] as never)))
    const day = 24 * 3600_000
    const win = (i: number) => ({ from: instants[i] as Instant, to: ((instants[i] as number) + day) as Instant })
    const chIx = await timeAll(Math.min(samples, 50), (i) => must(index.changesBetween(BENCH_ACCOUNT, win(i))))
    const chRp = await timeAll(1, (i) => must(replay.changesBetween(BENCH_ACCOUNT, win(i))))
    await store.close()
    const p50 = percentile(ix, 50)
    const p95 = percentile(ix, 95)
    const rp50 = percentile(rp, 50)
    const f50 = percentile(fold, 50)
    const fullSame = percentile(full.slice(0, fold.length), 50)
    const pair = (name: string, a: number[], b: number[]) => ({
      what: name,
      ours: `p50 ${fmt(percentile(a, 50), 2)} ms, p95 ${fmt(percentile(a, 95), 2)} ms`,
      baseline: `replay ${fmt(percentile(b, 50))} ms (${b.length} run${b.length > 1 ? 's' : ''})`,
      ratio: percentile(b, 50) / percentile(a, 50),
      goal: '',
      pass: undefined,
    })
    return {
      rows: [
        {
          what: `account as-of, ${samples} random instants (${fmt(liveCount / samples)} live items on average)`,
          ours: `p50 ${fmt(p50)} ms, p95 ${fmt(p95)} ms`,
          baseline: `replay p50 ${fmt(rp50)} ms (${replaySamples} runs)`,
          ratio: rp50 / p50,
          goal: 'p50 < 100 ms and ≥ 100×',
          pass: p50 < 100 && rp50 / p50 >= 100,
          figure: { value: p50, text: `${fmt(p50)} ms` },
        },
        {
          what: 'account as-of with every item state read (decoded on first use)',
          ours: `p50 ${fmt(percentile(full, 50))} ms, p95 ${fmt(percentile(full, 95))} ms`,
          baseline: `replay p50 ${fmt(rp50)} ms`,
          ratio: rp50 / percentile(full, 50),
          goal: '',
          pass: undefined,
        },
        {
          what: `account as-of with every item state read, against a fold of events already decoded in memory (the same ${fold.length} instants)`,
          ours: `p50 ${fmt(fullSame)} ms`,
          baseline: `in-memory fold p50 ${fmt(f50)} ms`,
          ratio: f50 / fullSame,
          goal: '',
          pass: undefined,
        },
        pair('item as-of', itemIx, itemRp),
        pair('item history', histIx, histRp),
        pair('changesBetween, one-day window', chIx, chRp),
      ],
      peakRssMB: peakRssMB(),
    }
  },
}
