// An S3 server for the tests (s3rver, the S3 HTTP protocol over files), run as its own process so
// that a test can kill it the way a server dies. Usage:
//   node --openssl-legacy-provider s3rverMain.js <directory> <port, 0 for any> <bucket> [die after N object PUTs] [503 for the first N requests]
// Prints `port <n>` once listening, and `put <key>` for each object PUT it answers. The legacy
// provider is what s3rver's paginated listings need (their continuation tokens use DES).
'use strict'
const S3rver = require('s3rver')

const [directory, port, bucket, dieAfter, failFirst] = process.argv.slice(2)
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true, configureBuckets: [{ name: bucket }] })
let puts = 0
let failures = Number(failFirst ?? 0)
// First in the chain (Koa composes its middleware when the server starts).
server.middleware.unshift(async (ctx, next) => {
  if (failures > 0) {
    failures--
    ctx.status = 503
    ctx.set('Content-Type', 'application/xml')
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'
    process.stdout.write('503\n')
    return
  }
  const isObjectPut = ctx.method === 'PUT' && ctx.path.split('/').filter(Boolean).length > 1 && !('partNumber' in ctx.query)
  if (isObjectPut && dieAfter !== undefined && ++puts > Number(dieAfter)) {
    // Dies as a crashed server does: no answer, connections dropped.
    process.kill(process.pid, 'SIGKILL')
    return
  }
  await next()
  if (isObjectPut) process.stdout.write(`put ${ctx.path}\n`)
})
// Started by the tests with a pipe as stdin: when the test process goes away (even killed), so does
// this server.
if (process.env.S3RVER_EXIT_WITH_STDIN === '1') {
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
}
server.run().then(
  (addr) => process.stdout.write(`port ${addr.port}\n`),
  (e) => {
    process.stderr.write(`s3rver: ${e.message}\n`)
    process.exit(1)
  },
)
