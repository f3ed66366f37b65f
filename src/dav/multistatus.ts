/**
 * WebDAV `multistatus` answers (RFC 4918 §13) read into plain records: each response's href, its
 * status when it has one (a sync-collection deletion), and its properties that came with 200 OK,
 * keyed by namespace and local name. Namespaces are resolved (servers use any prefix), text is kept
 * as sent: a display name "2024" stays the string "2024", and its spaces stay.
 */
import * as E from 'fp-ts/Either'
import { DOMParser, type Element, type Node } from '@xmldom/xmldom'

export const DAV = 'DAV:'
export const CALDAV = 'urn:ietf:params:xml:ns:caldav'
export const CARDDAV = 'urn:ietf:params:xml:ns:carddav'
export const CALSERVER = 'http://calendarserver.org/ns/'

export interface DavResponse {
  readonly href: string
  /** The response's own status code (`<status>` outside any propstat), e.g. 404 for a deleted member. */
  readonly status?: number
  /** Properties found (propstat 200), by `namespace + localName`. */
  readonly props: ReadonlyMap<string, Element>
}

export interface Multistatus {
  readonly responses: readonly DavResponse[]
  /** The top-level `<sync-token>` of a sync-collection answer. */
  readonly syncToken?: string
}

const ELEMENT = 1

const children = (e: Element): Element[] => {
  const out: Element[] = []
  for (let c: Node | null = e.firstChild; c !== null; c = c.nextSibling) if (c.nodeType === ELEMENT) out.push(c as Element)
  return out
}

const is = (e: Element, ns: string, local: string): boolean => e.namespaceURI === ns && e.localName === local

export const key = (ns: string, local: string): string => `${ns}${local}`

export const child = (e: Element, ns: string, local: string): Element | undefined => children(e).find((c) => is(c, ns, local))

export const childElements = children

/** The text of an element, as sent. */
export const textOf = (e: Element | undefined): string | undefined => (e === undefined ? undefined : (e.textContent ?? ''))

/** `HTTP/1.1 404 Not Found` → 404. */
const statusCode = (s: string | undefined): number | undefined => {
  const m = s === undefined ? null : /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(s)
  return m === null ? undefined : Number(m[1])
}

/** Parses a 207 body, or says why it is not a multistatus. */
export const parseMultistatus = (xml: string): E.Either<string, Multistatus> => {
  let problem: string | undefined
  let doc
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') problem ??= message
      },
    }).parseFromString(xml, 'application/xml')
  } catch (e) {
    return E.left(`not XML: ${(e as Error).message}`)
  }
  if (problem !== undefined) return E.left(`not XML: ${problem}`)
  const root = doc.documentElement
  if (root === null || !is(root, DAV, 'multistatus')) return E.left(`not a DAV:multistatus (root element ${root?.localName ?? 'none'})`)
  const responses: DavResponse[] = []
  let syncToken: string | undefined
  for (const r of children(root)) {
    if (is(r, DAV, 'sync-token')) {
      syncToken = textOf(r)?.trim()
      continue
    }
    if (!is(r, DAV, 'response')) continue
    const href = textOf(child(r, DAV, 'href'))?.trim()
    if (href === undefined) return E.left('a DAV:response without DAV:href')
    const props = new Map<string, Element>()
    for (const ps of children(r).filter((c) => is(c, DAV, 'propstat'))) {
      if (statusCode(textOf(child(ps, DAV, 'status'))) !== 200) continue
      const prop = child(ps, DAV, 'prop')
      if (prop !== undefined) for (const p of children(prop)) props.set(key(p.namespaceURI ?? '', p.localName ?? ''), p)
    }
    const status = statusCode(textOf(child(r, DAV, 'status')))
    responses.push({ href, ...(status !== undefined && { status }), props })
  }
  return E.right({ responses, ...(syncToken !== undefined && { syncToken }) })
}

/** Whether an error body (403, 409) names a DAV precondition, such as `valid-sync-token`. */
export const hasPrecondition = (xml: string, ns: string, local: string): boolean => {
  try {
    const doc = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'application/xml')
    const root = doc.documentElement
    return root !== null && is(root, DAV, 'error') && children(root).some((c) => is(c, ns, local))
  } catch {
    return false
  }
}
