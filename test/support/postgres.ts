/**
 * A throwaway PostgreSQL cluster for tests (see ../shared/services.md): initdb in a temporary
 * directory as the `postgres` user, on a free loopback port, trust authentication, stopped and
 * removed at the end. `MAILTIME_PG_URL` points the tests at an existing server instead.
 */
import { execFileSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { Client } from 'pg'
import { type PgStore, openPgEventStore } from '../../src/store/postgres/pgEventStore'
import { freePort } from './dovecot'

const BIN = '/usr/lib/postgresql/15/bin'

export const postgresAvailable = (): boolean => process.env.MAILTIME_PG_URL !== undefined || fs.existsSync(path.join(BIN, 'initdb'))

export interface Postgres {
  /** Server URL (database `postgres`). */
  readonly url: string
  /** A new, empty database on the server, for one test. */
  freshDatabase(): Promise<string>
  stop(): Promise<void>
}

const asPostgres = (cmd: string, args: readonly string[]) => execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, cmd), ...args], { stdio: 'pipe' })

let counter = 0

const withDatabases = (url: string, stop: () => Promise<void>): Postgres => ({
  url,
  freshDatabase: async () => {
    const name = `mt_${process.pid}_${Date.now()}_${counter++}`
    const c = new Client({ connectionString: url })
    await c.connect()
    await c.query(`CREATE DATABASE ${name}`)
    await c.end()
    const u = new URL(url)
    u.pathname = `/${name}`
    return u.toString()
  },
  stop,
})

export const startPostgres = async (): Promise<Postgres> => {
  const existing = process.env.MAILTIME_PG_URL
  if (existing !== undefined) return withDatabases(existing, async () => undefined)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-pg-'))
  fs.chmodSync(dir, 0o755)
  const data = path.join(dir, 'data')
  const sock = path.join(dir, 'sock')
  fs.mkdirSync(sock)
  execFileSync('chown', ['-R', 'postgres:postgres', dir])
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8'])
  const port = await freePort()
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${sock}'\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n`,
  )
  asPostgres('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', 'start'])
  return withDatabases(`postgres://postgres@127.0.0.1:${port}/postgres`, async () => {
    try {
      asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'])
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
}

let shared: Postgres | undefined

/** One server per test file, started on first use; `stopSharedPostgres` in the file's afterAll. */
export const sharedPostgres = async (): Promise<Postgres> => (shared ??= await startPostgres())

export const stopSharedPostgres = async (): Promise<void> => {
  await shared?.stop()
  shared = undefined
}

/** Opens the PostgreSQL event store at a URL, or fails the test with the store's error. */
export const openPg = async (url: string): Promise<PgStore> => {
  const r = await openPgEventStore(url)
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return r.right
}
