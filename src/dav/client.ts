/**
 * A small CardDAV/CalDAV client over Node's fetch: exactly the requests capture and restore make,
 * each a short function that opens with its guards, sends one request and reads the answer.
 *
 * Why not `tsdav` (evaluated against Radicale 3.1, docs/capture.md): its PROPFIND turns a display
 * name "2024" into the number 2024 and trims text; its sync-collection hides the new sync token
 * (and answers "no change" with a response that has no href); its multiget returns each object with
 * the final CRLF cut off, so what it reads is not what the server holds. A backup needs the names as
 * written and the bytes as served, so objects are read with a plain GET.
 *
 * Guarantees:
 * 1. Hrefs are given and returned as server paths, percent-decoded (`/alice/contacts/Zoë.vcf`);
 *    requests encode them again.
 * 2. Every failure is a `DavError` value naming the server, method and path; nothing throws.
 * 3. `create` never overwrites: it sends `If-None-Match: *`, and an object that exists is `exists`.
 * 4. Credentials go in an Authorization header only; `description` and errors never contain them.
 */
import * as E from 'fp-ts/Either'
import { CALDAV, CALSERVER, CARDDAV, DAV, type DavResponse, child, childElements, hasPrecondition, key, parseMultistatus, textOf } from './multistatus'

export interface DavServer {
  /** The server's root, `http(s)://host:port[/base]`, without credentials. */
  readonly url: string
  readonly user: string
  readonly password: string
}

export type DavError =
  | { readonly _tag: 'DavUnavailable'; readonly server: string; readonly reason: string }
  | { readonly _tag: 'DavAuthFailed'; readonly server: string; readonly user: string }
  /** The server answered a request with a status the request cannot go on with. */
  | { readonly _tag: 'DavRefused'; readonly server: string; readonly method: string; readonly href: string; readonly status: number; readonly reason: string }
  /** A sync token the server no longer accepts (RFC 6578 §3.2 `valid-sync-token`): sync again from scratch. */
  | { readonly _tag: 'DavInvalidToken'; readonly server: string; readonly href: string }
  /** An answer that is not what the protocol says (bad XML, a 207 without what was asked). */
  | { readonly _tag: 'DavProtocol'; readonly server: string; readonly method: string; readonly href: string; readonly reason: string }

export const describeDavError = (e: DavError): string => {
  switch (e._tag) {
    case 'DavUnavailable':
      return `DAV server ${e.server} is unavailable: ${e.reason}`
    case 'DavAuthFailed':
      return `DAV login as ${e.user} at ${e.server} failed (401)`
    case 'DavRefused':
      return `DAV server ${e.server} refused ${e.method} ${e.href}: HTTP ${e.status}${e.reason === '' ? '' : ` ${e.reason}`}`
    case 'DavInvalidToken':
      return `DAV server ${e.server} no longer accepts the sync token of ${e.href}`
    case 'DavProtocol':
      return `DAV server ${e.server} answered ${e.method} ${e.href} with something unexpected: ${e.reason}`
  }
}

export type CollectionKind = 'addressbook' | 'calendar'

/** A collection as PROPFIND shows it. */
export interface CollectionInfo {
  readonly href: string
  readonly kind: CollectionKind
  readonly displayName?: string
  /** RFC 6578's token; absent when the server does not support sync-collection on it. */
  readonly syncToken?: string
  readonly ctag?: string
  /** For a calendar: the component types it accepts (VEVENT, VTODO…); absent when the server does not say. */
  readonly components?: readonly string[]
}

export interface MemberEtag {
  readonly href: string
  readonly etag?: string
}

/** What changed in a collection: since a token (`full: false`), or its whole content (`full: true`). */
export interface SyncAnswer {
  readonly full: boolean
  readonly token?: string
  readonly changed: readonly MemberEtag[]
  /** Members gone since the token (never set when `full`: the caller compares with what it knows). */
  readonly removed: readonly string[]
}

export interface DavObject {
  readonly bytes: Buffer
  readonly etag?: string
  readonly contentType?: string
}

export type CreateOutcome =
  | { readonly _tag: 'Created'; readonly etag?: string }
  /** `If-None-Match: *` failed: something is at that path already (it was not touched). */
  | { readonly _tag: 'Exists' }
  /** The server would not take this object (a UID already used in the collection, data it rejects): it was not written. */
  | { readonly _tag: 'Rejected'; readonly status: number; readonly reason: string }

export interface DavClient {
  /** `http://host:port as admin`, without secrets. */
  readonly description: string
  /** The address books and calendars directly under a home. */
  collections(home: string): Promise<E.Either<DavError, CollectionInfo[]>>
  /** One collection's properties, or undefined when there is no collection at that path. */
  collection(href: string): Promise<E.Either<DavError, CollectionInfo | undefined>>
  /** sync-collection from a token (undefined: the initial sync, which lists every member). */
  sync(collection: string, token: string | undefined): Promise<E.Either<DavError, SyncAnswer>>
  /** Every member and its ETag (PROPFIND Depth 1): the fallback where sync-collection is missing. */
  etags(collection: string): Promise<E.Either<DavError, SyncAnswer>>
  /** An object's bytes as served, or undefined when it is gone. */
  get(href: string): Promise<E.Either<DavError, DavObject | undefined>>
  /** PUT with `If-None-Match: *`. */
  create(href: string, bytes: Buffer, contentType: string): Promise<E.Either<DavError, CreateOutcome>>
  /** Creates a home collection if it is missing (Radicale answers 409 to a MKCOL below a missing home). */
  ensureHome(home: string): Promise<E.Either<DavError, void>>
  /** MKCOL with the CardDAV resource type, or MKCALENDAR with the component set. */
  makeCollection(href: string, c: { kind: CollectionKind; displayName?: string; components?: readonly string[] }): Promise<E.Either<DavError, void>>
}

const SAFE_IN_PATH = /%(?:40|3A|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi

/** A server path, encoded for a request (the inverse of `hrefPath`). */
export const encodeHref = (href: string): string =>
  href
    .split('/')
    .map((seg) => encodeURIComponent(seg).replace(SAFE_IN_PATH, (m) => decodeURIComponent(m)))
    .join('/')

/** An href from an answer (a path or an absolute URL) as a percent-decoded server path. */
export const hrefPath = (raw: string): string => {
  let p = raw.trim()
  const abs = /^https?:\/\/[^/]+(\/.*)?$/i.exec(p)
  if (abs !== null) p = abs[1] ?? '/'
  return p
    .split('/')
    .map((seg) => {
      try {
        return decodeURIComponent(seg)
      } catch {
        return seg
      }
    })
    .join('/')
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const COLLECTION_PROPS = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:" xmlns:C="${CALDAV}" xmlns:CS="${CALSERVER}"><D:prop><D:resourcetype/><D:displayname/><D:sync-token/><CS:getctag/><C:supported-calendar-component-set/></D:prop></D:propfind>`

const ETAG_PROPS = `<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/><D:getetag/></D:prop></D:propfind>`

const syncBody = (token: string | undefined) => `<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>${token === undefined ? '' : xmlEscape(token)}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>`

/** How many follow-up requests a truncated sync-collection (507 on the collection) may take. */
const MAX_SYNC_PAGES = 10_000
const TIMEOUT_MS = 120_000

const infoOf = (r: DavResponse): CollectionInfo | undefined => {
  const rt = r.props.get(key(DAV, 'resourcetype'))
  if (rt === undefined) return undefined
  const kind: CollectionKind | undefined = child(rt, CARDDAV, 'addressbook') !== undefined ? 'addressbook' : child(rt, CALDAV, 'calendar') !== undefined ? 'calendar' : undefined
  if (kind === undefined) return undefined
  const displayName = textOf(r.props.get(key(DAV, 'displayname')))
  const syncToken = textOf(r.props.get(key(DAV, 'sync-token')))?.trim()
  const ctag = textOf(r.props.get(key(CALSERVER, 'getctag')))?.trim()
  const set = r.props.get(key(CALDAV, 'supported-calendar-component-set'))
  const components =
    set === undefined
      ? undefined
      : childElements(set)
          .filter((c) => c.localName === 'comp')
          .map((c) => c.getAttribute('name') ?? '')
          .filter((n) => n !== '')
          .sort()
  return {
    href: hrefPath(r.href),
    kind,
    ...(displayName !== undefined && displayName !== '' && { displayName }),
    ...(syncToken !== undefined && syncToken !== '' && { syncToken }),
    ...(ctag !== undefined && ctag !== '' && { ctag }),
    ...(kind === 'calendar' && components !== undefined && components.length > 0 && { components }),
  }
}

const withSlash = (href: string): string => (href.endsWith('/') ? href : `${href}/`)

export const davClient = (server: DavServer): DavClient => {
  const base = new URL(server.url)
  const origin = base.origin
  const description = `${base.protocol}//${base.host}${base.pathname === '/' ? '' : base.pathname} as ${server.user}`
  const auth = `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}`

  const request = async (
    method: string,
    href: string,
    opts: { body?: string | Buffer; headers?: Record<string, string> } = {},
  ): Promise<E.Either<DavError, { status: number; headers: Headers; body: Buffer }>> => {
    try {
      const res = await fetch(`${origin}${encodeHref(href)}`, {
        method,
        headers: { Authorization: auth, ...(opts.headers ?? {}) },
        ...(opts.body !== undefined && { body: opts.body }),
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      })
      const body = Buffer.from(await res.arrayBuffer())
      if (res.status === 401) return E.left({ _tag: 'DavAuthFailed', server: description, user: server.user })
      return E.right({ status: res.status, headers: res.headers, body })
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } }
      return E.left({ _tag: 'DavUnavailable', server: description, reason: err.cause?.code ?? err.cause?.message ?? err.message })
    }
  }
  const refused = (method: string, href: string, r: { status: number; body: Buffer }): DavError => ({
    _tag: 'DavRefused',
    server: description,
    method,
    href,
    status: r.status,
    reason: r.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200),
  })
  const multistatus = async (method: string, href: string, depth: string, body: string) => {
    const r = await request(method, href, { body, headers: { Depth: depth, 'Content-Type': 'application/xml; charset=utf-8' } })
    if (E.isLeft(r)) return r
    if (r.right.status !== 207) return E.left<DavError, never>(refused(method, href, r.right))
    const ms = parseMultistatus(r.right.body.toString('utf8'))
    return E.isLeft(ms) ? E.left<DavError, never>({ _tag: 'DavProtocol', server: description, method, href, reason: ms.left }) : E.right(ms.right)
  }

  const collection: DavClient['collection'] = async (href) => {
    const r = await request('PROPFIND', withSlash(href), { body: COLLECTION_PROPS, headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' } })
    if (E.isLeft(r)) return r
    if (r.right.status === 404) return E.right(undefined)
    if (r.right.status !== 207) return E.left(refused('PROPFIND', href, r.right))
    const ms = parseMultistatus(r.right.body.toString('utf8'))
    if (E.isLeft(ms)) return E.left({ _tag: 'DavProtocol', server: description, method: 'PROPFIND', href, reason: ms.left })
    const own = ms.right.responses.find((x) => withSlash(hrefPath(x.href)) === withSlash(href))
    return E.right(own === undefined ? undefined : infoOf(own))
  }

  return {
    description,
    collections: async (home) => {
      const h = withSlash(home)
      const ms = await multistatus('PROPFIND', h, '1', COLLECTION_PROPS)
      if (E.isLeft(ms)) return ms
      return E.right(
        ms.right.responses
          .filter((r) => withSlash(hrefPath(r.href)) !== h)
          .map(infoOf)
          .filter((c): c is CollectionInfo => c !== undefined)
          .sort((a, b) => (a.href < b.href ? -1 : a.href > b.href ? 1 : 0)),
      )
    },
    collection,
    sync: async (coll, token) => {
      const href = withSlash(coll)
      const changed = new Map<string, MemberEtag>()
      const removed = new Set<string>()
      let current = token
      for (let page = 0; page < MAX_SYNC_PAGES; page++) {
        const r = await request('REPORT', href, { body: syncBody(current), headers: { Depth: '1', 'Content-Type': 'application/xml; charset=utf-8' } })
        if (E.isLeft(r)) return r
        const text = r.right.body.toString('utf8')
        if ((r.right.status === 403 || r.right.status === 409) && hasPrecondition(text, DAV, 'valid-sync-token'))
          return E.left({ _tag: 'DavInvalidToken', server: description, href })
        if (r.right.status !== 207) return E.left(refused('REPORT', href, r.right))
        const ms = parseMultistatus(text)
        if (E.isLeft(ms)) return E.left({ _tag: 'DavProtocol', server: description, method: 'REPORT', href, reason: ms.left })
        let truncated = false
        for (const x of ms.right.responses) {
          const p = hrefPath(x.href)
          if (withSlash(p) === href) {
            // RFC 6578 §3.6: 507 on the collection itself means "more to come from the new token".
            if (x.status === 507) truncated = true
            continue
          }
          if (x.status === 404) {
            changed.delete(p)
            removed.add(p)
          } else if (x.status === undefined || x.status === 200) {
            removed.delete(p)
            const etag = textOf(x.props.get(key(DAV, 'getetag')))?.trim()
            changed.set(p, { href: p, ...(etag !== undefined && etag !== '' && { etag }) })
          }
        }
        if (ms.right.syncToken === undefined)
          return E.left({ _tag: 'DavProtocol', server: description, method: 'REPORT', href, reason: 'a sync-collection answer without a sync-token' })
        current = ms.right.syncToken
        if (!truncated) return E.right({ full: token === undefined, token: current, changed: [...changed.values()], removed: token === undefined ? [] : [...removed] })
      }
      return E.left({ _tag: 'DavProtocol', server: description, method: 'REPORT', href, reason: `still truncated after ${MAX_SYNC_PAGES} requests` })
    },
    etags: async (coll) => {
      const href = withSlash(coll)
      const ms = await multistatus('PROPFIND', href, '1', ETAG_PROPS)
      if (E.isLeft(ms)) return ms
      const changed: MemberEtag[] = []
      for (const x of ms.right.responses) {
        const p = hrefPath(x.href)
        if (withSlash(p) === href) continue
        const rt = x.props.get(key(DAV, 'resourcetype'))
        if (rt !== undefined && child(rt, DAV, 'collection') !== undefined) continue
        const etag = textOf(x.props.get(key(DAV, 'getetag')))?.trim()
        changed.push({ href: p, ...(etag !== undefined && etag !== '' && { etag }) })
      }
      return E.right({ full: true, changed, removed: [] })
    },
    get: async (href) => {
      const r = await request('GET', href)
      if (E.isLeft(r)) return r
      if (r.right.status === 404 || r.right.status === 410) return E.right(undefined)
      if (r.right.status !== 200) return E.left(refused('GET', href, r.right))
      const etag = r.right.headers.get('etag') ?? undefined
      const contentType = r.right.headers.get('content-type') ?? undefined
      return E.right({ bytes: r.right.body, ...(etag !== undefined && { etag }), ...(contentType !== undefined && { contentType }) })
    },
    create: async (href, bytes, contentType) => {
      const r = await request('PUT', href, { body: bytes, headers: { 'If-None-Match': '*', 'Content-Type': contentType } })
      if (E.isLeft(r)) return r
      const s = r.right.status
      if (s === 201 || s === 204 || s === 200) {
        const etag = r.right.headers.get('etag') ?? undefined
        return E.right({ _tag: 'Created', ...(etag !== undefined && { etag }) })
      }
      if (s === 412) return E.right({ _tag: 'Exists' })
      // A UID already in the collection (CalDAV/CardDAV no-uid-conflict), data the server will not
      // store, a size limit: this object is not written, the others can be.
      if (s === 403 || s === 409 || s === 413 || s === 415 || s === 400 || s === 422)
        return E.right({ _tag: 'Rejected', status: s, reason: r.right.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200) })
      return E.left(refused('PUT', href, r.right))
    },
    ensureHome: async (home) => {
      const h = withSlash(home)
      const r = await request('PROPFIND', h, { body: ETAG_PROPS, headers: { Depth: '0', 'Content-Type': 'application/xml; charset=utf-8' } })
      if (E.isLeft(r)) return r
      if (r.right.status === 207) return E.right(undefined)
      if (r.right.status !== 404) return E.left(refused('PROPFIND', h, r.right))
      const m = await request('MKCOL', h)
      if (E.isLeft(m)) return m
      return m.right.status === 201 || m.right.status === 405 ? E.right(undefined) : E.left(refused('MKCOL', h, m.right))
    },
    makeCollection: async (href, c) => {
      const h = withSlash(href)
      const name = c.displayName === undefined ? '' : `<D:displayname>${xmlEscape(c.displayName)}</D:displayname>`
      const comps =
        c.components === undefined || c.components.length === 0
          ? ''
          : `<C:supported-calendar-component-set>${c.components.map((n) => `<C:comp name="${xmlEscape(n)}"/>`).join('')}</C:supported-calendar-component-set>`
      const [method, body] =
        c.kind === 'addressbook'
          ? [
              'MKCOL',
              `<?xml version="1.0" encoding="utf-8"?><D:mkcol xmlns:D="DAV:" xmlns:CR="${CARDDAV}"><D:set><D:prop><D:resourcetype><D:collection/><CR:addressbook/></D:resourcetype>${name}</D:prop></D:set></D:mkcol>`,
            ]
          : ['MKCALENDAR', `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="${CALDAV}"><D:set><D:prop>${name}${comps}</D:prop></D:set></C:mkcalendar>`]
      const r = await request(method, h, { body, headers: { 'Content-Type': 'application/xml; charset=utf-8' } })
      if (E.isLeft(r)) return r
      return r.right.status === 201 ? E.right(undefined) : E.left(refused(method, h, r.right))
    },
  }
}
