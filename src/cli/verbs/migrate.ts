/**
 * `migrateStore <from> <to>`: copies a whole store between SQLite and PostgreSQL (either way), then
 * verifies every stream (count and SHA-256) and rebuilds the target's temporal index where it keeps
 * one. Re-running it after an interruption copies only what is missing.
 */
import * as E from 'fp-ts/Either'
import { openEventStore } from '../../wiring/openStore'
import { migrateStore } from '../../migrate/migrateStore'
import { CliFailure, ExitCode, fromStoreError, usage } from '../failure'
import type { Verb } from '../grammar'
import { noPasswordOnArgv, withEsdbPassword } from '../storeLocation'


export const migrateStoreVerb: Verb = {
  name: 'migrateStore',
  summary: 'Copies a whole event store to another (sqlite:<file>, postgres://… or esdb://…, any way), verifies every stream, and rebuilds the target index.',
  positionals: [
    { name: 'from', help: 'the source store: sqlite:<file>, postgres://user@host:port/db or esdb://host:2113?tls=false' },
    { name: 'to', help: 'the target store (passwords come from PGPASSWORD or ~/.pgpass, and MAILTIME_ESDB_PASSWORD)' },
  ],
  attributes: [],
  examples: ['mailtime migrateStore sqlite:./mailtime-data/mailtime.db postgres://mailtime@db.example.com:5432/mailtime'],
  exitCodes: ['4: a store cannot be opened', '5: another writer changed the target during the copy (run it again)', '8: a stream differs after the copy (named)'],
  run: async (ctx, { positionals: [rawFrom = '', rawTo = ''] }) => {
    const [from, to] = [noPasswordOnArgv(rawFrom), noPasswordOnArgv(rawTo)].map((l) => withEsdbPassword(l, ctx.settings.esdbPassword)) as [string, string]
    if (from === to) throw usage('migrateStore: the source and the target are the same store')
    const a = await openEventStore(from)
    if (E.isLeft(a)) throw fromStoreError(a.left)
    const b = await openEventStore(to)
    if (E.isLeft(b)) {
      await a.right.store.close()
      throw fromStoreError(b.left)
    }
    const started = Date.now()
    try {
      ctx.progress.start(`copying ${a.right.store.description} → ${b.right.store.description}`, 0)
      const r = await migrateStore(a.right.store, b.right.store, (n) => ctx.progress.update(n))
      ctx.progress.stop()
      if (r.mismatches.length > 0)
        throw new CliFailure(`migrateStore: ${r.mismatches.length} stream(s) differ after the copy; first: ${r.mismatches[0]?.stream}: ${r.mismatches[0]?.reason}`, ExitCode.VERIFY)
      const idx = b.right.rebuildIndex === undefined ? undefined : await b.right.rebuildIndex()()
      if (idx !== undefined && E.isLeft(idx)) throw fromStoreError(idx.left)
      const seconds = (Date.now() - started) / 1000
      return {
        json: { from: a.right.store.description, to: b.right.store.description, streams: r.streams, events: r.events, appended: r.appended, duplicates: r.duplicates, verified: true, indexRebuilt: idx !== undefined, seconds },
        text: `copied ${r.events} events in ${r.streams} streams (${r.appended} new, ${r.duplicates} already there) from ${a.right.store.description} to ${b.right.store.description}; every stream verified (count and SHA-256)${idx !== undefined ? '; index rebuilt' : ''} in ${seconds.toFixed(1)} s`,
      }
    } finally {
      await a.right.store.close()
      await b.right.store.close()
    }
  },
}
