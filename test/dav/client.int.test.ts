/**
 * The DAV client against a real Radicale: collections with their names as written, sync-collection
 * (initial, changes, deletions, a token the server refuses), the ETag listing fallback, GET bytes as
 * served, create without overwrite, collections created as the admin on behalf of a user. The
 * server's content is changed with plain HTTP requests, never with the client under test.
 */
import * as E from 'fp-ts/Either'
import { type DavClient, davClient, encodeHref, hrefPath } from '../../src/dav/client'
import { freePort } from '../support/dovecot'
import { type Radicale, radicaleAvailable, startRadicale } from '../support/radicale'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

const card = (uid: string, fn: string) => `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:${uid}\r\nFN:${fn}\r\nN:${fn};;;;\r\nEND:VCARD\r\n`
const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) throw new Error(`expected a value, got ${JSON.stringify(e.left)}`)
  return e.right
}

describe('DAV hrefs', () => {
  it('are decoded from answers (paths or absolute URLs) and encoded again for requests', () => {
    expect(hrefPath('/alice/contacts/Zo%C3%AB%20U.vcf')).toBe('/alice/contacts/Zoë U.vcf')
    expect(hrefPath('http://dav.example.com:8080/alice/a%40b.vcf')).toBe('/alice/a@b.vcf')
    expect(encodeHref('/alice/contacts/Zoë U.vcf')).toBe('/alice/contacts/Zo%C3%AB%20U.vcf')
    expect(encodeHref('/u/alice@example.com/x;y.ics')).toBe('/u/alice@example.com/x;y.ics')
    expect(hrefPath(encodeHref('/a/100% sure?#.vcf'))).toBe('/a/100% sure?#.vcf')
  })
})

describeWithService(radicaleAvailable(), 'Radicale')('the DAV client against Radicale', () => {
  let rad: Radicale
  let client: DavClient
  beforeAll(async () => {
    rad = await startRadicale(tmpDir('mailtime-radicale-'))
    client = davClient({ url: rad.url, user: rad.admin.user, password: rad.admin.password })
    await rad.makeAddressBook('alice', 'contacts', 'Personal')
    await rad.makeCalendar('alice', 'year', '2024')
    await rad.makeCalendar('alice', 'team', 'R&D  <team> 日本')
  })
  afterAll(async () => {
    await rad?.stop()
    cleanupTmp()
  })

  it('lists a user’s address books and calendars as the admin, with display names exactly as written', async () => {
    const cs = right(await client.collections('/alice/'))
    expect(cs.map((c) => [c.href, c.kind, c.displayName])).toEqual([
      ['/alice/contacts/', 'addressbook', 'Personal'],
      ['/alice/team/', 'calendar', 'R&D  <team> 日本'],
      ['/alice/year/', 'calendar', '2024'],
    ])
    for (const c of cs) expect(c.syncToken).toMatch(/^http:\/\/radicale\.org\/ns\/sync\//)
  })

  it('syncs a collection: everything first, then exactly the changes and deletions since the token', async () => {
    await rad.put('/alice/contacts/a.vcf', card('a', 'Ann'), 'text/vcard')
    await rad.put('/alice/contacts/b.vcf', card('b', 'Bob'), 'text/vcard')
    const first = right(await client.sync('/alice/contacts/', undefined))
    expect(first.full).toBe(true)
    expect(first.changed.map((m) => m.href).sort()).toEqual(['/alice/contacts/a.vcf', '/alice/contacts/b.vcf'])
    expect(first.changed.every((m) => m.etag !== undefined)).toBe(true)

    const none = right(await client.sync('/alice/contacts/', first.token))
    expect(none).toEqual({ full: false, token: first.token, changed: [], removed: [] })

    await rad.put('/alice/contacts/a.vcf', card('a', 'Ann Lee'), 'text/vcard')
    await rad.remove('/alice/contacts/b.vcf')
    await rad.put('/alice/contacts/c d.vcf', card('c', 'Cé'), 'text/vcard')
    const next = right(await client.sync('/alice/contacts/', first.token))
    expect(next.full).toBe(false)
    expect(next.changed.map((m) => m.href).sort()).toEqual(['/alice/contacts/a.vcf', '/alice/contacts/c d.vcf'])
    expect(next.removed).toEqual(['/alice/contacts/b.vcf'])
    expect(next.token).not.toBe(first.token)
  })

  it('says when the server refuses a sync token, so that capture syncs again from scratch', async () => {
    const r = await client.sync('/alice/contacts/', 'http://radicale.org/ns/sync/0000')
    expect(E.isLeft(r) && r.left._tag).toBe('DavInvalidToken')
  })

  it('lists members and ETags with PROPFIND where sync-collection is missing', async () => {
    const synced = right(await client.sync('/alice/contacts/', undefined))
    const listed = right(await client.etags('/alice/contacts/'))
    expect(listed.full).toBe(true)
    expect([...listed.changed].sort((a, b) => (a.href < b.href ? -1 : 1))).toEqual([...synced.changed].sort((a, b) => (a.href < b.href ? -1 : 1)))
  })

  it('reads an object’s bytes exactly as the server serves them, and a missing one as absent', async () => {
    const served = await rad.get('/alice/contacts/c%20d.vcf')
    const got = right(await client.get('/alice/contacts/c d.vcf'))
    expect(got?.bytes.equals(served)).toBe(true)
    expect(got?.etag).toMatch(/^".+"$/)
    expect(right(await client.get('/alice/contacts/nothing.vcf'))).toBeUndefined()
  })

  it('creates an object without ever overwriting one', async () => {
    const before = await rad.get('/alice/contacts/a.vcf')
    expect(right(await client.create('/alice/contacts/a.vcf', Buffer.from(card('a', 'Overwritten')), 'text/vcard'))._tag).toBe('Exists')
    expect((await rad.get('/alice/contacts/a.vcf')).equals(before)).toBe(true)
    expect(right(await client.create('/alice/contacts/new.vcf', Buffer.from(card('n', 'New')), 'text/vcard'))._tag).toBe('Created')
    expect((await rad.get('/alice/contacts/new.vcf')).toString()).toContain('FN:New')
  })

  it('creates a new user’s home, an address book and a tasks calendar as the admin', async () => {
    expect(right(await client.collection('/carol/books/'))).toBeUndefined()
    right(await client.ensureHome('/carol/'))
    right(await client.makeCollection('/carol/books/', { kind: 'addressbook', displayName: 'Büro & Co' }))
    right(await client.makeCollection('/carol/todo/', { kind: 'calendar', displayName: 'Todo', components: ['VTODO'] }))
    expect(right(await client.collection('/carol/books/'))).toMatchObject({ href: '/carol/books/', kind: 'addressbook', displayName: 'Büro & Co' })
    expect(right(await client.collection('/carol/todo/'))).toMatchObject({ kind: 'calendar', displayName: 'Todo', components: ['VTODO'] })
  })

  it('names a refused login and an unreachable server as such, without the password', async () => {
    const bad = davClient({ url: rad.url, user: 'admin', password: 'wrong-secret' })
    const r = await bad.collections('/alice/')
    expect(E.isLeft(r) && r.left._tag).toBe('DavAuthFailed')
    expect(JSON.stringify(r)).not.toContain('wrong-secret')
    const down = davClient({ url: `http://127.0.0.1:${await freePort()}`, user: 'admin', password: 'pw' })
    const d = await down.collections('/alice/')
    expect(E.isLeft(d) && d.left._tag).toBe('DavUnavailable')
  })
})
