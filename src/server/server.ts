/**
 * The web console's HTTP server (Fastify): the JSON API of routes.ts behind a bearer token, the
 * page (built by Vite into dist/web), and security headers on every response. Each request runs its
 * verb with a context of its own over the server's one backend; long work runs as a job (jobs.ts).
 * A verb's failure becomes a status code and a one-line message.
 */
import * as fs from 'fs'
import * as path from 'path'
import type FastifyStatic from '@fastify/static'
import type { FastifyInstance } from 'fastify'
import type * as FastifyModule from 'fastify'
import * as E from 'fp-ts/Either'
import type { Backend } from '../app/ports'
import type { Settings } from '../config'
import { type Context, type Progress, type Verb, parseWords } from '../cli/grammar'
import type { Instant } from '../../domain/instant'
import { bearerMatches } from './auth'
import { explain } from './explain'
import { jobs } from './jobs'
import { ROUTES, type Site, validate } from './routes'

export interface ServerOptions {
  readonly verbs: readonly Verb[]
  readonly backend: Backend
  readonly settings: Settings
  readonly token: string
  readonly now: () => Instant
  readonly site: Site
  /** The built page (index.html and assets/); default dist/web beside this module's build. */
  readonly webRoot?: string
}

/** Where `npm run build` puts the page: dist/web, two levels above dist/src/server. */
export const DEFAULT_WEB_ROOT = path.resolve(__dirname, '../../web')

/** Content-Security-Policy: nothing from elsewhere, no inline script, no framing. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const silent: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined }

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
  const ctx = (progress: Progress, note: (line: string) => void): Context => ({
    settings: o.settings,
    zone: o.settings.zone,
    backend: async () => o.backend,
    now: o.now,
    progress,
    note,
    warn: note,
    emitLine: () => undefined,
  })
  const running = jobs(explain, o.now)
  app.addHook('onClose', async () => running.settled())
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
    api.get('/api/jobs', async () => ({ jobs: running.list() }))
    api.get('/api/jobs/:id', async (req, reply) => {
      const j = running.get((req.params as { id: string }).id)
      return j === undefined ? reply.code(404).send({ error: `no job ${JSON.stringify((req.params as { id: string }).id)} (jobs are kept in memory until the server stops)` }) : j
    })
    for (const r of ROUTES) {
      const verb = o.verbs.find((v) => v.name === r.verb)
      if (verb === undefined) throw new Error(`route ${r.path}: no verb ${r.verb}`)
      api.route({
        method: r.method,
        url: r.path,
        handler: async (req, reply) => {
          const input = { ...(req.params as object), ...(r.method === 'GET' ? (req.query as object) : ((req.body ?? {}) as object)) }
          const p = validate(r, input)
          if (E.isLeft(p)) return reply.code(400).send({ error: p.left })
          const words = r.words(p.right, o.site)
          const args = parseWords(verb, words)
          if (E.isLeft(args)) return reply.code(400).send({ error: args.left })
          if (r.job(p.right)) {
            const j = running.start(r.verb, words, (progress, note) => verb.run(ctx(progress, note), args.right))
            return reply.code(j.started ? 202 : 409).send({ job: running.get(j.id), ...(!j.started && { error: 'the same command is already running as this job' }) })
          }
          try {
            const out = await verb.run(ctx(silent, () => undefined), args.right)
            return reply.code(200).send(out.json)
          } catch (e) {
            const x = explain(e)
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
