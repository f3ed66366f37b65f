/**
 * `serve`: the web console (page and JSON API). Bound to 127.0.0.1 unless told otherwise; every API
 * call needs the token from MAILTIME_API_TOKEN, the config file (`api.token`) or the token file
 * beside the data (apiToken.ts), never from the command line. Restores started from the console go to `target` (default: the configured IMAP
 * server); exports go into new directories under `exports`. Runs until SIGINT or SIGTERM, then
 * waits for the jobs it started.
 */
import { randomBytes } from 'crypto'
import * as os from 'os'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { CliFailure, ExitCode, usage } from '../failure'
import { type Verb, booleanAttr } from '../grammar'
import { chooseTarget } from '../restoreRun'
import { resolveApiToken } from '../../server/apiToken'
import { isMirrored } from '../../wiring/mirroredBackend'
import { noStopSignal, restorePortsOf } from '../../wiring/restorePorts'
import { rewindPortsOf } from '../../wiring/rewindPorts'
import type { AppDeps, Progress } from '../../app/ports'
import { appDeps } from '../appDeps'
import { describeStoreError } from '../../../projections/errors'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export const serve: Verb = {
  name: 'serve',
  summary:
    "Serves the web console (page and JSON API) on 127.0.0.1; the API token comes from MAILTIME_API_TOKEN, the config file's api.token, or a token file it creates beside the data.",
  positionals: [],
  attributes: [
    { name: 'port', help: 'TCP port (default 8025; 0 picks a free one)' },
    { name: 'host', help: 'address to bind (default 127.0.0.1)' },
    { name: 'allow_remote', help: 'true: allow binding beyond loopback (put TLS in front of it)' },
    { name: 'target', help: 'where restores started from the console go: imap://host:port or maildir:<dir> (default: the IMAP server configured for capture)' },
    { name: 'exports', help: 'the folder under which console exports are written, one new directory each (default ./mailtime-exports)' },
  ],
  examples: ['mailtime serve', 'MAILTIME_API_TOKEN=$(openssl rand -hex 24) mailtime serve', 'mailtime serve port 9000 target maildir:/srv/restore exports /srv/legal/exports'],
  exitCodes: [
    '2: a token shorter than 16 characters or a token file others can read, a bad port or target, or a non-loopback host without allow_remote true',
    '6: the port cannot be bound',
  ],
  run: async (ctx, { attrs }) => {
    const resolved = resolveApiToken(ctx.settings)
    if (E.isLeft(resolved)) throw usage(resolved.left)
    const { token } = resolved.right
    const port = Number(attrs.port ?? '8025')
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`serve: port must be 0-65535, got ${JSON.stringify(attrs.port)}`)
    const host = attrs.host ?? '127.0.0.1'
    const remote = booleanAttr(attrs.allow_remote, 'allow_remote', false)
    if (E.isLeft(remote)) throw usage(remote.left)
    if (!LOOPBACK.has(host) && !remote.right) throw usage(`serve: refusing to bind ${host} (beyond loopback) without allow_remote true`)
    if (attrs.target !== undefined) chooseTarget(ctx.settings, attrs.target)
    const exports = path.resolve(attrs.exports ?? 'mailtime-exports')
    const exportDest = (account: string): string => {
      fs.mkdirSync(exports, { recursive: true })
      const stamp = new Date(ctx.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)
      // The account name is reduced to safe characters: an export never lands outside `exports`.
      return path.join(exports, `${account.replace(/[^A-Za-z0-9.@_-]/g, '_').replace(/^\.+/, '_')}-${stamp}-${randomBytes(3).toString('hex')}`)
    }
    // Loaded only here: the other verbs start without the web server (and its ESM dependencies).
    const { buildServer } = await import('../../server/server')
    const site = { exportDest, ...(attrs.target !== undefined && { target: attrs.target }) }
    const backend = await ctx.backend()
    const base = appDeps(ctx)
    // Each request or job gets its own progress and notes; a restore job stops on doStopOperation
    // only, never on this process's signals (serve handles those itself, below).
    const deps = (progress: Progress, note: (line: string) => void): AppDeps => ({ ...base, backend: async () => backend, progress, note, warn: note })
    const restore = restorePortsOf(ctx.settings, { stopSignal: noStopSignal, hostname: os.hostname() })
    const rewind = rewindPortsOf(ctx.settings, { stopSignal: noStopSignal, hostname: os.hostname() })
    const app = buildServer({ deps, restore, rewind, token, site })
    let address: string
    try {
      address = await app.listen({ port, host })
    } catch (e) {
      throw new CliFailure(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}`, ExitCode.UNAVAILABLE)
    }
    // Listening for the stop before printing the address: a script that reads it and at once sends
    // SIGINT must get a clean stop, not the default action of a signal nobody listens to yet.
    const stop = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    // The address line is the one thing printed while serving (scripts and tests read it).
    ctx.emitLine(`listening on ${address}`)
    ctx.emitLine(`API token: ${resolved.right.created ? 'created in' : 'from'} ${resolved.right.source} (the page asks for it once)`)
    // An EventStoreDB store: follow it live, so that the copy beside it is warm when a query comes.
    const unfollow = isMirrored(backend) ? backend.follow((e) => ctx.note(`following the store: ${describeStoreError(e)}`)) : () => undefined
    await stop
    unfollow()
    await app.close()
    return { json: { address, stopped: true }, text: `stopped serving ${address}` }
  },
}
