/**
 * `serve`: the web console's API server. Bound to 127.0.0.1 unless told otherwise; every API call
 * needs the token from MAILTIME_API_TOKEN or the config file (`api.token`), never from the command
 * line. Runs until SIGINT or SIGTERM.
 */
import * as E from 'fp-ts/Either'
import { CliFailure, ExitCode, usage } from '../failure'
import { type Verb, booleanAttr } from '../grammar'
import { buildServer } from '../../server/server'

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])

export const serve: Verb = {
  name: 'serve',
  summary: "Serves the web console's JSON API on 127.0.0.1 (token from MAILTIME_API_TOKEN or the config file's api.token).",
  positionals: [],
  attributes: [
    { name: 'port', help: 'TCP port (default 8025; 0 picks a free one)' },
    { name: 'host', help: 'address to bind (default 127.0.0.1)' },
    { name: 'allow_remote', help: 'true: allow binding beyond loopback (put TLS in front of it)' },
  ],
  examples: ['MAILTIME_API_TOKEN=$(openssl rand -hex 24) mailtime serve', 'mailtime serve port 9000'],
  exitCodes: ['2: no API token, a bad port, or a non-loopback host without allow_remote true'],
  run: async (ctx, { attrs }) => {
    const token = ctx.settings.env.MAILTIME_API_TOKEN ?? ctx.settings.config.api?.token
    if (token === undefined || token.length < 16) throw usage('serve: set MAILTIME_API_TOKEN (or api.token in the config file) to a secret of at least 16 characters')
    const port = Number(attrs.port ?? '8025')
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw usage(`serve: port must be 0-65535, got ${JSON.stringify(attrs.port)}`)
    const host = attrs.host ?? '127.0.0.1'
    const remote = booleanAttr(attrs.allow_remote, 'allow_remote', false)
    if (E.isLeft(remote)) throw usage(remote.left)
    if (!LOOPBACK.has(host) && !remote.right) throw usage(`serve: refusing to bind ${host} (beyond loopback) without allow_remote true`)
    const { VERBS } = await import('./index')
    const app = buildServer({ verbs: VERBS, backend: await ctx.backend(), settings: ctx.settings, token, now: ctx.now })
    let address: string
    try {
      address = await app.listen({ port, host })
    } catch (e) {
      throw new CliFailure(`serve: cannot listen on ${host}:${port}: ${(e as Error).message}`, ExitCode.UNAVAILABLE)
    }
    // The address line is the one thing printed while serving (scripts and tests read it).
    ctx.emitLine(`listening on ${address}`)
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await app.close()
    return { json: { address, stopped: true }, text: `stopped serving ${address}` }
  },
}
