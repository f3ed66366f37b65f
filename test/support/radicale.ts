/**
 * A real Radicale (CalDAV/CardDAV, Debian's `radicale` 3.1) for tests: its own config, htpasswd file,
 * rights file and storage folder in a temporary directory, on a free loopback port. `admin` is the
 * backup admin: the rights file grants it every collection of every user (reading and writing), as
 * a site that backs up with Mailtime would configure it; each user may read and write their own.
 * Recipe and quirks: ../shared/services.md (Radicale).
 *
 * Changes in tests are made with plain HTTP requests (`http`), never with the product's DAV client.
 */
import { alive, waitFor as waitUntil } from './wait'
import { spawn, type ChildProcess } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { freePort } from './dovecot'

const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => waitUntil(what, ok, ms)

export const RADICALE = '/usr/bin/radicale'
export const radicaleAvailable = (): boolean => fs.existsSync(RADICALE)

export interface HttpAnswer {
  readonly status: number
  readonly headers: Headers
  readonly body: Buffer
  readonly text: string
}

export interface Radicale {
  readonly port: number
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string
  readonly dir: string
  readonly admin: { readonly user: string; readonly password: string }
  /** Adds a user to the htpasswd file (Radicale reads it on every login). */
  addUser(name: string, password: string): void
  /**
   * A plain HTTP request as `as` (default the admin): `path` is absolute (`/alice/contacts/`),
   * `body` is sent as it is.
   */
  http(method: string, path: string, opts?: { body?: string | Buffer; headers?: Record<string, string>; as?: { user: string; password: string } }): Promise<HttpAnswer>
  /** Creates `/<user>/` and an address book in it (MKCOL with the CardDAV resource type). */
  makeAddressBook(user: string, name: string, displayName?: string): Promise<void>
  /** Creates `/<user>/` and a calendar in it (MKCALENDAR). */
  makeCalendar(user: string, name: string, displayName?: string): Promise<void>
  /** PUTs an object; fails the test unless the server answers 201 or 204. */
  put(href: string, body: string | Buffer, contentType: string): Promise<void>
  /** DELETEs an object or collection; fails the test unless the server answers 200 or 204. */
  remove(href: string): Promise<void>
  /** GET, failing unless 200. */
  get(href: string): Promise<Buffer>
  stop(): Promise<void>
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export const startRadicale = async (dir: string): Promise<Radicale> => {
  if (!radicaleAvailable()) throw new Error(`${RADICALE} is missing: apt-get install -y radicale apache2-utils (.ci/run does)`)
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const admin = { user: 'admin', password: 'adminpw' }
  const users = path.join(dir, 'users')
  const rights = path.join(dir, 'rights')
  const storage = path.join(dir, 'collections')
  const conf = path.join(dir, 'radicale.conf')
  fs.mkdirSync(storage, { recursive: true })
  fs.writeFileSync(users, `${admin.user}:${admin.password}\n`)
  fs.writeFileSync(
    rights,
    [
      '# The backup admin reads and writes every collection of every user.',
      '[admin]',
      `user: ${admin.user}`,
      'collection: .*',
      'permissions: RrWw',
      '',
      '[root]',
      'user: .+',
      'collection:',
      'permissions: R',
      '',
      '[principal]',
      'user: .+',
      'collection: {user}',
      'permissions: RW',
      '',
      '[collections]',
      'user: .+',
      'collection: {user}/[^/]+',
      'permissions: rw',
      '',
    ].join('\n'),
  )
  fs.writeFileSync(
    conf,
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      // A 5 MB object (the hostile samples) must fit.
      'max_content_length = 100000000',
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${users}`,
      'htpasswd_encryption = plain',
      '[rights]',
      'type = from_file',
      `file = ${rights}`,
      '[storage]',
      `filesystem_folder = ${storage}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  )
  const log = fs.openSync(path.join(dir, 'radicale.log'), 'a')
  const child: ChildProcess = spawn(RADICALE, ['--config', conf], { stdio: ['ignore', log, log], detached: false })
  fs.closeSync(log)
  const pid = child.pid
  if (pid === undefined) throw new Error('radicale did not start')
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  const basic = (u: { user: string; password: string }) => `Basic ${Buffer.from(`${u.user}:${u.password}`).toString('base64')}`
  const http: Radicale['http'] = async (method, p, opts = {}) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { Authorization: basic(opts.as ?? admin), ...(opts.headers ?? {}) },
      ...(opts.body !== undefined && { body: opts.body }),
    })
    const body = Buffer.from(await res.arrayBuffer())
    return { status: res.status, headers: res.headers, body, text: body.toString('utf8') }
  }
  const stop = async () => {
    if (!exited && alive(pid)) {
      process.kill(pid, 'SIGTERM')
      await waitFor('radicale to stop', async () => exited || !alive(pid))
    }
  }
  try {
    await waitFor('radicale to answer', async () => {
      if (exited) throw new Error(`radicale exited at start: ${fs.readFileSync(path.join(dir, 'radicale.log'), 'utf8')}`)
      try {
        return (await http('OPTIONS', '/')).status < 500
      } catch {
        return false
      }
    })
  } catch (e) {
    await stop()
    throw e
  }
  const must = async (what: string, a: Promise<HttpAnswer>, ok: readonly number[]): Promise<HttpAnswer> => {
    const r = await a
    if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 300)}`)
    return r
  }
  const home = async (user: string) => {
    const r = await http('PROPFIND', `/${user}/`, { headers: { Depth: '0' } })
    if (r.status === 404) await must(`MKCOL /${user}/`, http('MKCOL', `/${user}/`), [201])
  }
  return {
    port,
    url,
    dir,
    admin,
    addUser: (name, password) => fs.appendFileSync(users, `${name}:${password}\n`),
    http,
    makeAddressBook: async (user, name, displayName) => {
      await home(user)
      const dn = displayName === undefined ? '' : `<displayname>${xmlEscape(displayName)}</displayname>`
      await must(
        `MKCOL /${user}/${name}/`,
        http('MKCOL', `/${user}/${name}/`, {
          headers: { 'Content-Type': 'application/xml; charset=utf-8' },
          body: `<?xml version="1.0" encoding="utf-8"?><mkcol xmlns="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"><set><prop><resourcetype><collection/><CR:addressbook/></resourcetype>${dn}</prop></set></mkcol>`,
        }),
        [201],
      )
    },
    makeCalendar: async (user, name, displayName) => {
      await home(user)
      const dn = displayName === undefined ? '' : `<set><prop><displayname>${xmlEscape(displayName)}</displayname></prop></set>`
      await must(
        `MKCALENDAR /${user}/${name}/`,
        http('MKCALENDAR', `/${user}/${name}/`, {
          headers: { 'Content-Type': 'application/xml; charset=utf-8' },
          body: `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">${dn}</C:mkcalendar>`,
        }),
        [201],
      )
    },
    put: async (href, body, contentType) => {
      await must(`PUT ${href}`, http('PUT', href, { body, headers: { 'Content-Type': contentType } }), [201, 204])
    },
    remove: async (href) => {
      await must(`DELETE ${href}`, http('DELETE', href), [200, 204])
    },
    get: async (href) => (await must(`GET ${href}`, http('GET', href), [200])).body,
    stop,
  }
}
