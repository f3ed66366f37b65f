/**
 * The web console's HTTP server (Fastify): the JSON API of routes.ts behind a bearer token, with
 * security headers on every response. Each request runs its verb with a context of its own over the
 * server's one backend; a verb's failure becomes a status code and a one-line message.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import * as E from 'fp-ts/Either'
import { StoreErrorRaised } from '../../projections/errors'
import type { Backend } from '../app/backend'
import type { Settings } from '../config'
import { CliFailure, ExitCode, fromStoreError } from '../cli/failure'
import { type Context, type Verb, parseWords } from '../cli/grammar'
import type { Instant } from '../../domain/instant'
import { bearerMatches } from './auth'
import { ROUTES, validate } from './routes'

export interface ServerOptions {
  readonly verbs: readonly Verb[]
  readonly backend: Backend
  readonly settings: Settings
  readonly token: string
  readonly now: () => Instant
}

/** Content-Security-Policy: nothing from elsewhere, no inline script, no framing. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const STATUS: Partial<Record<number, number>> = {
  [ExitCode.USAGE]: 400,
  [ExitCode.NOT_FOUND]: 404,
  [ExitCode.CONFLICT]: 409,
}

const silent = { start: () => undefined, update: () => undefined, stop: () => undefined }

export const buildServer = (o: ServerOptions): FastifyInstance => {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 })
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('Content-Security-Policy', CSP)
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('Cache-Control', 'no-store')
    return payload
  })
  // Every API call needs the token, on loopback too: another local user could otherwise read mail.
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/') && !bearerMatches(req.headers.authorization, o.token)) {
      // Returning the reply stops the request here; without it Fastify would go on to the handler.
      return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'missing or wrong API token (Authorization: Bearer <token>)' })
    }
    return undefined
  })
  const ctx: Context = {
    settings: o.settings,
    zone: o.settings.zone,
    backend: async () => o.backend,
    now: o.now,
    progress: silent,
    note: () => undefined,
    emitLine: () => undefined,
  }
  for (const r of ROUTES) {
    const verb = o.verbs.find((v) => v.name === r.words({}).verb)
    if (verb === undefined) throw new Error(`route ${r.path}: no verb ${r.words({}).verb}`)
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        const input = { ...(req.params as object), ...(r.method === 'GET' ? (req.query as object) : ((req.body ?? {}) as object)) }
        const p = validate(r, input)
        if (E.isLeft(p)) return reply.code(400).send({ error: p.left })
        const args = parseWords(verb, r.words(p.right).words)
        if (E.isLeft(args)) return reply.code(400).send({ error: args.left })
        try {
          const out = await verb.run(ctx, args.right)
          return reply.code(200).send(out.json)
        } catch (e) {
          const f = e instanceof StoreErrorRaised ? fromStoreError(e.error) : e
          if (f instanceof CliFailure) return reply.code(STATUS[f.exitCode] ?? 500).send({ error: f.message })
          return reply.code(500).send({ error: `internal error: ${e instanceof Error ? e.message : String(e)}` })
        }
      },
    })
  }
  return app
}
