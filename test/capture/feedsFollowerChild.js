/**
 * A spool follower run as Mailtime runs it, for the restart test (feedsRestart.int.test.ts): the
 * built modules (dist/, built by jest's globalSetup), checkpoints in a real SQLite store. For each
 * batch it records every record (one JSON line each, appended to <out>), then commits the batch's
 * position, then says so on stdout. Killed with SIGKILL by the test at any point.
 *
 *   node feedsFollowerChild.js <spool dir> <store file> <out file>
 */
const fs = require('fs')
const path = require('path')
const dist = path.join(__dirname, '..', '..', 'dist', 'src')
const { openSpoolFollower } = require(path.join(dist, 'capture', 'feeds', 'spoolFollower.js'))
const { nodeSpoolFs } = require(path.join(dist, 'capture', 'feeds', 'nodeSpoolFs.js'))
const { storeCheckpoints } = require(path.join(dist, 'capture', 'feeds', 'checkpoints.js'))
const { openSqliteDatabase, sqliteEventStore } = require(path.join(dist, 'store', 'sqliteEventStore.js'))

const [spool, storeFile, out] = process.argv.slice(2)

const main = async () => {
  const h = openSqliteDatabase(storeFile)
  if (h._tag === 'Left') throw new Error(JSON.stringify(h.left))
  const store = sqliteEventStore(h.right)
  const opened = await openSpoolFollower({ fs: nodeSpoolFs, checkpoints: storeCheckpoints(store), clock: { now: () => Date.now() } }, { spoolDir: spool, pollMs: 200, maxBatchLines: 5 })
  if (opened._tag === 'Left') throw new Error(JSON.stringify(opened.left))
  const f = opened.right
  process.on('SIGTERM', () => f.stop())
  process.stdout.write('started\n')
  for await (const b of f.batches()) {
    if (b.problems.length > 0 || b.failures.length > 0) process.stderr.write(`${JSON.stringify({ problems: b.problems, failures: b.failures })}\n`)
    fs.appendFileSync(out, b.records.map((r) => `${JSON.stringify({ file: r.file, line: r.line, user: r.user })}\n`).join(''))
    process.stdout.write(`recorded ${b.records.length}\n`)
    const c = await f.commit(b.position)
    if (c._tag === 'Left') throw new Error(JSON.stringify(c.left))
    process.stdout.write('committed\n')
  }
  await store.close()
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`)
  process.exit(1)
})
