/**
 * `migrateStore <from> <to>`: copies a whole store between SQLite and PostgreSQL (either way), then
 * verifies every stream (count and SHA-256) and rebuilds the target's temporal index where it keeps
 * one. Re-running it after an interruption copies only what is missing.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { openEventStore } from '../../wiring/openStore'
import { describeBlobSpec, resolveBlobSpec } from '../../blobs/blobLocation'
import { openBlobStore } from '../../blobs/blobStore'
import { migrateBlobs } from '../../blobs/migrateBlobs'
import { stopSignal } from '../stopSignal'
import { migrateStore } from '../../migrate/migrateStore'
import { CliFailure, ExitCode, fromStoreError, notFound, usage } from '../failure'
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
        json: {
          from: a.right.store.description,
          to: b.right.store.description,
          streams: r.streams,
          events: r.events,
          appended: r.appended,
          duplicates: r.duplicates,
          verified: true,
          indexRebuilt: idx !== undefined,
          seconds,
        },
        text: `copied ${r.events} events in ${r.streams} streams (${r.appended} new, ${r.duplicates} already there) from ${a.right.store.description} to ${b.right.store.description}; every stream verified (count and SHA-256)${idx !== undefined ? '; index rebuilt' : ''} in ${seconds.toFixed(1)} s`,
      }
    } finally {
      await a.right.store.close()
      await b.right.store.close()
    }
  },
}

/**
 * `migrateBlobs <from> <to>`: copies a blob store (a folder or s3://bucket/prefix) to another and
 * verifies every blob in the target (`src/blobs/migrateBlobs.ts`).
 */
export const migrateBlobsVerb: Verb = {
  name: 'migrateBlobs',
  summary: 'Copies a blob store to another (a folder or s3://bucket/prefix, any way), reading each copy back and checking its SHA-256; a re-run copies only what is missing.',
  positionals: [
    { name: 'from', help: 'the source blob store: a folder or s3://bucket/prefix' },
    { name: 'to', help: 'the target blob store (S3 server and credentials: MAILTIME_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, or the config file)' },
  ],
  attributes: [],
  examples: ['mailtime migrateBlobs ./mailtime-data/blobs s3://mail-backup/site-a/blobs', 'mailtime migrateBlobs s3://mail-backup/site-a/blobs /srv/restore/blobs --json'],
  exitCodes: ['7: some blobs could not be read, written or verified (each is listed; run it again)', '130: interrupted (run it again)'],
  run: async (ctx, { positionals: [rawFrom = '', rawTo = ''] }) => {
    const specOf = (raw: string) => {
      const s = resolveBlobSpec(raw, ctx.settings.s3Env, ctx.settings.config.s3)
      if (E.isLeft(s)) throw usage(`migrateBlobs: ${s.left}`)
      return s.right
    }
    const [from, to] = [specOf(rawFrom), specOf(rawTo)]
    const [fromName, toName] = [describeBlobSpec(from), describeBlobSpec(to)]
    if (from.kind === 'fs' && to.kind === 'fs' ? path.resolve(from.root) === path.resolve(to.root) : fromName === toName)
      throw usage('migrateBlobs: the source and the target are the same blob store')
    if (from.kind === 'fs' && !fs.existsSync(from.root)) throw notFound(`migrateBlobs: the source folder ${from.root} does not exist`)
    const started = Date.now()
    const stop = stopSignal()
    try {
      const r = await migrateBlobs(openBlobStore(from), openBlobStore(to), {
        onProgress: (done, total) => {
          if (done === 0) ctx.progress.start(`copying blobs ${fromName} → ${toName}`, total)
          else ctx.progress.update(done)
        },
        shouldStop: stop.stopped,
      })
      ctx.progress.stop()
      const seconds = (Date.now() - started) / 1000
      const failed = r.failed.length
      const text = [
        `${r.interrupted ? 'interrupted: ' : ''}${r.verified} of ${r.total} blob(s) in ${toName} verified (SHA-256 of each read back): ${r.copied} copied (${(r.bytesCopied / 1e6).toFixed(1)} MB), ${r.alreadyThere} already there, ${r.repaired} damaged and copied again; from ${fromName} in ${seconds.toFixed(1)} s`,
        ...r.failed.slice(0, 20).map((f) => `FAILED ${f.stage} ${f.digest}: ${f.reason}`),
        ...(failed > 20 ? [`… and ${failed - 20} more (--json lists them all)`] : []),
        ...(failed > 0 || r.interrupted ? ['run the same command again to copy what is missing'] : []),
      ].join('\n')
      return {
        json: {
          from: fromName,
          to: toName,
          total: r.total,
          copied: r.copied,
          alreadyThere: r.alreadyThere,
          repaired: r.repaired,
          verified: r.verified,
          bytesCopied: r.bytesCopied,
          failed: r.failed,
          interrupted: r.interrupted,
          seconds,
        },
        text,
        exitCode: r.interrupted ? ExitCode.INTERRUPTED : failed > 0 ? ExitCode.PARTIAL : ExitCode.OK,
      }
    } finally {
      stop.dispose()
    }
  },
}
