/**
 * Where and how to reach an account's address books and calendars: the DAV server's root, the
 * credentials (a backup admin that every user's collections are shared with, or per-user
 * passwords), and the account's home path(s). Settings come from the config file's `dav` section and
 * the environment (`MAILTIME_DAV_*`), never from the command line.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { type DavClient, davClient } from './client'

/** The config file's `dav` section. */
export const DavConfig = t.exact(
  t.partial({
    url: t.string,
    user: t.string,
    password: t.string,
    /** The account's home path, `{user}` standing for the account; several separated by commas. Default `/{user}/` (Radicale). */
    principal: t.string,
    /** Per-user passwords, for servers where no admin may read users' collections (Cyrus without ACL grants). */
    passwords: t.record(t.string, t.string),
  }),
)
export type DavConfig = t.TypeOf<typeof DavConfig>

export const DEFAULT_PRINCIPAL = '/{user}/'

export interface DavSource {
  readonly url: string
  readonly admin?: { readonly user: string; readonly password: string }
  readonly passwords: Readonly<Record<string, string>>
  readonly principal: string
  /** Without secrets. */
  readonly description: string
}

export type DavSourceError = { readonly _tag: 'BadDavSource'; readonly reason: string }

/**
 * The source from the config's `dav` section, into which the settings folded the environment
 * (`MAILTIME_DAV_URL`, `MAILTIME_DAV_USER`, `MAILTIME_DAV_PASSWORD`, `MAILTIME_DAV_PRINCIPAL` win over
 * the file); undefined when no DAV server is configured (capture is then mail only).
 */
export const davSourceOf = (config: DavConfig = {}): E.Either<DavSourceError, DavSource | undefined> => {
  const url = config.url
  if (url === undefined) return E.right(undefined)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return E.left({ _tag: 'BadDavSource', reason: `bad DAV URL ${JSON.stringify(url.replace(/\/\/[^@/]*@/, '//***@'))}: use http(s)://host:port[/path]` })
  }
  if (!/^https?:$/.test(parsed.protocol)) return E.left({ _tag: 'BadDavSource', reason: `bad DAV URL scheme ${parsed.protocol} (use http: or https:)` })
  if (parsed.username !== '' || parsed.password !== '')
    return E.left({ _tag: 'BadDavSource', reason: 'the DAV URL must not hold credentials: set MAILTIME_DAV_USER and MAILTIME_DAV_PASSWORD' })
  const user = config.user
  const password = config.password
  const passwords = config.passwords ?? {}
  if ((user === undefined || password === undefined) && Object.keys(passwords).length === 0)
    return E.left({
      _tag: 'BadDavSource',
      reason: 'no DAV credentials: set MAILTIME_DAV_USER and MAILTIME_DAV_PASSWORD (an admin who may read every user’s collections), or dav.passwords in the config file',
    })
  const principal = config.principal ?? DEFAULT_PRINCIPAL
  if (!principal.includes('{user}')) return E.left({ _tag: 'BadDavSource', reason: `the DAV principal ${JSON.stringify(principal)} must contain {user}` })
  const base = url.replace(/\/+$/, '')
  return E.right({
    url: base,
    ...(user !== undefined && password !== undefined && { admin: { user, password } }),
    passwords,
    principal,
    description: `${base}${user !== undefined ? ` as ${user}` : ''}`,
  })
}

/** The account's home paths on the server (each ends with `/`), under the URL's own path. */
export const homesOf = (src: DavSource, account: string): string[] => {
  const basePath = new URL(src.url).pathname.replace(/\/+$/, '')
  return src.principal
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const h = p.replace(/\{user\}/g, account)
      const abs = h.startsWith(basePath + '/') || basePath === '' ? h : `${basePath}${h.startsWith('/') ? '' : '/'}${h}`
      return abs.endsWith('/') ? abs : `${abs}/`
    })
}

/** A client acting for the account: with its own password if one is configured, otherwise as the admin. */
export const davClientFor = (src: DavSource, account: string): E.Either<DavSourceError, DavClient> => {
  const own = src.passwords[account]
  if (own !== undefined) return E.right(davClient({ url: src.url, user: account, password: own }))
  if (src.admin !== undefined) return E.right(davClient({ url: src.url, user: src.admin.user, password: src.admin.password }))
  return E.left({ _tag: 'BadDavSource', reason: `no DAV credentials for ${account}: configure an admin (MAILTIME_DAV_USER) or dav.passwords.${account}` })
}
