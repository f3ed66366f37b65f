/**
 * The web console's HTTP server (Fastify): the JSON API of routes.ts behind a bearer token, the
 * page (built by Vite into dist/web), and security headers on every response. Each request calls its
 * use case (src/app) with ports of its own over the server's one backend; long work runs as a job
 * (jobs.ts). A use case's failure becomes a status code and a one-line message (explain.ts). The
 * server never imports the CLI: `serve` builds the ports (src/wiring) and hands them here.
 */
import * as fs from 'fs'
import * as path from 'path'
import type FastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import type * as FastifyModule from 'fastify'
import * as E from 'fp-ts/Either'
import type { AppDeps, Progress, RestorePorts, RewindPorts } from '../app/ports'
import { silentProgress } from '../app/ports'
import { bearerMatches } from './auth'
import { explainAppError, explainThrown } from './explain'
import { type JobBoard, durableBoard, jobs, memoryBoard } from './jobs'
import * as os from 'os'
import { randomBytes } from 'crypto'
import { ROUTES, type Site, validate } from './routes'

export interface ServerOptions {
  /** The use cases' ports for one request or job, with its own progress and notes. */
  readonly deps: (progress: Progress, note: (line: string) => void) => AppDeps
  /** What restores need; its stop signal is never the process's (a job installs no signal handler). */
  readonly restore: RestorePorts
  /** What rewinds need; its stop signal, too, is never the process's. */
  readonly rewind: RewindPorts
  readonly token: string
  readonly site: Site
  /** The built page (index.html and assets/); default dist/web beside this module's build. */
  readonly webRoot?: string
}

/** Where `npm run build` puts the page: dist/web, two levels above dist/src/server. */
export const DEFAULT_WEB_ROOT = path.resolve(__dirname, '../../web')

/** Content-Security-Policy: nothing from elsewhere, no inline script, no framing. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

export const buildServer = (o: ServerOptions): FastifyInstance => {
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const Fastify = (require('fastify') as typeof FastifyModule).default
  const fastifyStatic = (require('@fastify/static') as { default: typeof FastifyStatic }).default
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Content-Security-Policy', CSP)
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('Cache-Control', 'no-store')
    return payload
  })
  // Jobs in the store when it keeps them (PostgreSQL: any server process runs them, and takes over
  // those of one that died), else in this process's memory. Chosen once the store is open.
  let board: Promise<JobBoard> | undefined
  const runnerOf = (verb: string, params: Record<string, string>) => {
    const r = ROUTES.find((x) => x.verb === verb && x.job(params))
    return r === undefined
      ? undefined
      : (progress: Progress, note: (line: string) => void) => r.call({ deps: o.deps(progress, note), restore: o.restore, rewind: o.rewind, site: o.site }, params)
  }
  const running = (): Promise<JobBoard> =>
    (board ??= (async () => {
      const b = await o.deps(silentProgress, () => undefined).backend()
      return b.jobQueue === undefined
        ? memoryBoard(jobs(Date.now))
        : durableBoard(b.jobQueue, runnerOf, {
            holder: `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
            log: (l) => process.stderr.write(`mailtime serve: ${l}\n`),
          })
    })().catch((e: unknown) => {
      // A store that cannot be opened now is tried again by the next request.
      board = undefined
      throw e
    }))
  // Started at once, so that jobs a stopped server left in the store are taken up without a request.
  app.addHook('onReady', async () => {
    void running().catch(() => undefined)
  })
  app.addHook('onClose', async () => (board === undefined ? undefined : (await board.catch(() => undefined))?.close()))
  // The API lives in its own scope whose hook guards every route in it, whatever spelling of the
  // URL reached it ("/%61pi/…" routes to "/api/…": a check on the raw URL would let it through).
  void app.register(async (api) => {
    // Every API call needs the token, on loopback too: another local user could otherwise read mail.
    api.addHook('onRequest', async (req, reply) => {
      if (!bearerMatches(req.headers.authorization, o.token)) {
        // Returning the reply stops the request here; without it Fastify would go on to the handler.
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'missing or wrong API token (Authorization: Bearer <token>)' })
      }
      return undefined
    })
    api.get('/api/jobs', async () => ({ jobs: await (await running()).list() }))
    api.get('/api/jobs/:id', async (req, reply) => {
      const j = await (await running()).get((req.params as { id: string }).id)
      return j === undefined
        ? reply.code(404).send({ error: `no job ${JSON.stringify((req.params as { id: string }).id)} (with a SQLite store, jobs are kept in memory until the server stops)` })
        : j
    })
    for (const r of ROUTES) {
      api.route({
        method: r.method,
        url: r.path,
        handler: async (req, reply) => {
          const input = { ...(req.params as object), ...(r.method === 'GET' ? (req.query as object) : ((req.body ?? {}) as object)) }
          const p = validate(r, input)
          if (E.isLeft(p)) return reply.code(400).send({ error: p.left })
          const call = (progress: Progress, note: (line: string) => void) => r.call({ deps: o.deps(progress, note), restore: o.restore, rewind: o.rewind, site: o.site }, p.right)
          if (r.job(p.right)) {
            // The same route with the same parameters is the same command (one run at a time).
            const words = Object.entries(p.right)
              .sort(([a], [b]) => a.localeCompare(b))
              .flatMap(([k, v]) => (v === undefined ? [] : [k, v]))
            const jobsNow = await running()
            const j = await jobsNow.start(r.verb, words, p.right as Record<string, string>, call)
            return reply.code(j.started ? 202 : 409).send({ job: await jobsNow.get(j.id), ...(!j.started && { error: 'the same command is already running as this job' }) })
          }
          try {
            const out = await call(silentProgress, () => undefined)
            if (E.isLeft(out)) {
              const x = explainAppError(out.left)
              return reply.code(x.status).send({ error: x.message })
            }
            return reply.code(200).send(out.right.json)
          } catch (e) {
            const x = explainThrown(e)
            return reply.code(x.status).send({ error: x.message })
          }
        },
      })
    }
  })
  const web = o.webRoot ?? DEFAULT_WEB_ROOT
  if (fs.existsSync(path.join(web, 'index.html'))) void app.register(fastifyStatic, { root: web, prefix: '/' })
  else app.get('/', async (_req, reply) => reply.code(503).type('text/plain').send(`the web page is not built (${web}): run npm run build`))
  return app
}
