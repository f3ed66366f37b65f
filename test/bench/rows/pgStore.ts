/**
 * The PostgreSQL event store on a throwaway PostgreSQL 15 cluster (the tests' one: loopback, fsync
 * off, so both sides measure the database's work rather than this VM's disk): appends in batches of
 * 1,000 against raw batched INSERTs of the same rows into the same schema, and keyset-paged reads of
 * the stream against a raw SELECT of the same pages; then the temporal index table built from those
 * events, and account as-of, item as-of, item history and changesBetween against the naive replay.
 */
import * as E from 'fp-ts/Either'
import { Client } from 'pg'
import { type MailEvent, isItemEvent } from '../../../domain/events'
import { eventJson } from '../../../domain/json'
import type { Instant } from '../../../domain/instant'
import { accountAsOf } from '../../../projections/accountView'
import { replayTimeTravel } from '../../../projections/replay'
import { rng } from '../../../src/demo/random'
import { openPgEventStore } from '../../../src/store/postgres/pgEventStore'
import { pgTemporalIndex } from '../../../src/store/postgres/pgTemporalIndex'
import { streamReader } from '../../../src/store/streamReader'
import { must, randomInstants } from './core'
import { startPostgres } from '../../support/postgres'
import { fmt, now, peakRssMB, percentile, timeAll } from '../measure'
import type { RowResult, RowSpec } from '../row'
import { BENCH_ACCOUNT, syntheticEvents } from '../synthetic'

const STREAM = `account-${BENCH_ACCOUNT}`

export const pgStoreRow: RowSpec = {
  name: 'pgstore',
  title: 'PostgreSQL store: appends and paged reads against raw SQL, time travel against the replay',
  hasGoal: true,
  run: async ({ items, events, samples, replaySamples }): Promise<RowResult> => {
    const n = events
    // The same events, in the batches of 1,000 both sides write.
    function* thousands(): Generator<MailEvent[]> {
      for (const batch of syntheticEvents(items, n)) for (let i = 0; i < batch.length; i += 1000) yield batch.slice(i, i + 1000)
    }
    const pg = await startPostgres()
    try {
      const storeUrl = await pg.freshDatabase()
      const rawUrl = await pg.freshDatabase()
      const opened = await openPgEventStore(storeUrl)
      if (E.isLeft(opened)) throw new Error(JSON.stringify(opened.left))
      const store = opened.right
      let ours = 0
      let total = 0
      for (const slice of thousands()) {
        const t = now()
        const r = await store.appendToStream(STREAM, slice)()
        ours += now() - t
        if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
        total += slice.length
      }
      // Baseline: one INSERT … SELECT FROM unnest per 1,000 rows, same encoder, same schema.
      const raw0 = await openPgEventStore(rawUrl)
      if (E.isLeft(raw0)) throw new Error('raw schema')
      await raw0.right.close()
      const raw = new Client({ connectionString: rawUrl })
      await raw.connect()
      let baseline = 0
      let rev = 0
      for (const slice of thousands()) {
        const t = now()
        await raw.query(
          `INSERT INTO events (stream, revision, event_id, type, item_id, occurred_at, recorded_at, data, global_position)
           SELECT $1, r, i, t, it, o, rc, d, r + 1 FROM unnest($2::int[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::bigint[], $8::text[]) AS x(r, i, t, it, o, rc, d)`,
          [
            STREAM,
            slice.map((_, k) => rev + k),
            slice.map((e) => e.eventId),
            slice.map((e) => e.type),
            slice.map((e) => (isItemEvent(e) ? e.itemId : null)),
            slice.map((e) => e.occurredAt),
            slice.map((e) => e.recordedAt),
            slice.map((e) => eventJson(e)),
          ],
        )
        baseline += now() - t
        rev += slice.length
      }
      // Paged reads: the adapter (unnamed statements, decoded events) against the raw pages, both
      // tables analyzed first so that the planner has the same statistics on both sides.
      await raw.query('ANALYZE events')
      await store.pool.query('ANALYZE events')
      let t = now()
      let read = 0
      for (let from = 0; ; from += 1000) {
        const page = await store.readStream(STREAM, { from, maxCount: 1000 })()
        if (E.isLeft(page)) throw new Error('read')
        read += page.right.length
        if (page.right.length < 1000) break
      }
      const readMs = now() - t
      t = now()
      for (let from = 0; ; from += 1000) {
        const r = await raw.query('SELECT global_position, stream, revision, data FROM events WHERE stream = $1 AND revision >= $2 ORDER BY revision LIMIT $3', [
          STREAM,
          from,
          1000,
        ])
        if (r.rows.length < 1000) break
      }
      const rawReadMs = now() - t
      await raw.end()

      // Time travel on PostgreSQL: building the index table, then the same queries as the asof
      // row, against the naive replay reading the same store.
      const index = pgTemporalIndex(store.pool, store.description)
      t = now()
      await must(index.catchUp())
      const indexMs = now() - t
      await store.pool.query('ANALYZE item_versions')
      const replay = replayTimeTravel(streamReader(store))
      const instants = randomInstants(samples, 7)
      let live = 0
      const ix = await timeAll(instants.length, async (i) => {
        live += (await must(accountAsOf(index, BENCH_ACCOUNT, { validAt: instants[i] as Instant }))).items.length
      })
      const rp = await timeAll(Math.min(replaySamples, 2), (i) => must(accountAsOf(replay, BENCH_ACCOUNT, { validAt: instants[i] as Instant })))
      const r = rng(11)
      const itemIds = Array.from({ length: instants.length }, () => 1000 + r.int(0, items - 1))
      const itemIx = await timeAll(itemIds.length, (i) => must(index.itemAsOf(BENCH_ACCOUNT, itemIds[i] as never, { validAt: instants[i] as Instant })))
      const histIx = await timeAll(itemIds.length, (i) => must(index.itemHistory(BENCH_ACCOUNT, itemIds[i] as never)))
      const day = 24 * 3600_000
      const win = (i: number) => ({ from: instants[i] as Instant, to: ((instants[i] as number) + day) as Instant })
      const chIx = await timeAll(instants.length, (i) => must(index.changesBetween(BENCH_ACCOUNT, win(i))))
      const chRp = await timeAll(1, (i) => must(replay.changesBetween(BENCH_ACCOUNT, win(i))))
      await store.close()
      const ms = (xs: number[]) => `p50 ${fmt(percentile(xs, 50), 2)} ms, p95 ${fmt(percentile(xs, 95), 2)} ms`
      const p50 = (xs: number[]) => ({ value: percentile(xs, 50), text: `${fmt(percentile(xs, 50), 2)} ms` })
      const oursRate = total / (ours / 1000)
      const baseRate = total / (baseline / 1000)
      return {
        rows: [
          {
            what: `append ${total.toLocaleString('en-US')} events, batches of 1,000`,
            ours: `${fmt(oursRate)} events/s`,
            baseline: `${fmt(baseRate)} events/s (raw INSERT … unnest)`,
            ratio: oursRate / baseRate,
            goal: '≥ 0.5×',
            pass: oursRate >= 0.5 * baseRate,
          },
          {
            what: `read the stream in pages of 1,000 (${read.toLocaleString('en-US')} events)`,
            ours: `${fmt(read / (readMs / 1000))} events/s (decoded)`,
            baseline: `${fmt(read / (rawReadMs / 1000))} events/s (raw rows)`,
            ratio: rawReadMs / readMs,
            goal: '',
            pass: undefined,
          },
          {
            what: 'build the temporal index table (catch-up)',
            ours: `${fmt(total / (indexMs / 1000))} events/s`,
            baseline: '',
            ratio: NaN,
            goal: '',
            pass: undefined,
            figure: { value: total / (indexMs / 1000), text: `${fmt(total / (indexMs / 1000))}/s` },
          },
          {
            what: `account as-of, ${instants.length} random instants (${fmt(live / instants.length)} live items on average)`,
            ours: ms(ix),
            baseline: `replay p50 ${fmt(percentile(rp, 50))} ms (${rp.length} runs)`,
            ratio: percentile(rp, 50) / percentile(ix, 50),
            goal: '≥ 100× replay',
            pass: percentile(rp, 50) / percentile(ix, 50) >= 100,
          },
          { what: 'item as-of', ours: ms(itemIx), baseline: '', ratio: NaN, goal: '', pass: undefined, figure: p50(itemIx) },
          { what: 'item history', ours: ms(histIx), baseline: '', ratio: NaN, goal: '', pass: undefined, figure: p50(histIx) },
          {
            what: 'changesBetween, one-day window',
            ours: ms(chIx),
            baseline: `replay ${fmt(percentile(chRp, 50))} ms (1 run)`,
            ratio: percentile(chRp, 50) / percentile(chIx, 50),
            goal: '',
            pass: undefined,
          },
        ],
        peakRssMB: peakRssMB(),
      }
    } finally {
      await pg.stop()
    }
  },
}
