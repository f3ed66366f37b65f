/** The DAV capture's pure decision, as given / when / then: what the backup knows, what a round read, what it records. */
import { sha256 } from '../../src/blobs/blobStore'
import type { CollectionInfo } from '../../src/dav/client'
import { type CollectionRead, type DavCheckpoint, type DiffInput, type DiffResult, type FetchedObject, diffDav } from '../../src/dav/diff'
import { parseDavObject } from '../../src/dav/parse'
import type { MailEvent } from '../../domain/events'
import { evolveItem } from '../../domain/evolve'
import type { AccountId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import * as S from './samples'

const account = 'alice' as AccountId
const T0 = instant(Date.parse('2026-03-01T12:00:00Z'))
const T1 = instant(Date.parse('2026-03-01T13:00:00Z'))

const book: CollectionInfo = { href: '/alice/contacts/', kind: 'addressbook', displayName: 'Personal', syncToken: 'tok-b1' }
const cal: CollectionInfo = { href: '/alice/work/', kind: 'calendar', displayName: 'Work', syncToken: 'tok-c1', components: ['VEVENT', 'VTODO'] }
const todo: CollectionInfo = { href: '/alice/todo/', kind: 'calendar', syncToken: 'tok-t1', components: ['VTODO'] }

const obj = (href: string, body: string, kind: 'addressbook' | 'calendar' = 'addressbook', etag = `"${sha256(Buffer.from(body)).slice(0, 8)}"`): FetchedObject => ({
  href,
  etag,
  digest: sha256(Buffer.from(body)),
  size: Buffer.byteLength(body),
  parsed: parseDavObject(Buffer.from(body), kind),
})
const full = (token: string, fetched: FetchedObject[], members = fetched.map((f) => f.href)): CollectionRead => ({
  _tag: 'Read',
  mode: 'sync',
  full: true,
  token,
  members,
  fetched,
  removed: [],
})
const since = (token: string, fetched: FetchedObject[], removed: string[] = []): CollectionRead => ({
  _tag: 'Read',
  mode: 'sync',
  full: false,
  token,
  members: [],
  fetched,
  removed,
})

/** The live items after these events (a plain fold in order: these tests' events are in order). */
const liveAfter = (events: readonly MailEvent[]): ItemState[] => {
  const items = new Map<number, ItemState>()
  for (const e of events) if ('itemId' in e) items.set(e.itemId, evolveItem(items.get(e.itemId), e))
  return [...items.values()].filter((s) => s.status === 'live')
}

interface World {
  events: MailEvent[]
  checkpoint: DavCheckpoint | undefined
}
const given = (): World => ({ events: [], checkpoint: undefined })
const round = (w: World, now: Instant, observed: DiffInput['observed'], extra: Partial<DiffInput> = {}): DiffResult => {
  const r = diffDav({
    account,
    now,
    seq: w.events.length,
    checkpoint: w.checkpoint,
    accountKnown: w.events.some((e) => e.type === 'AccountCreated'),
    nextItemId: 256,
    live: liveAfter(w.events),
    observed,
    unlistedHomes: [],
    ...extra,
  })
  w.events.push(...r.events)
  w.checkpoint = r.checkpoint
  return r
}
const types = (r: DiffResult) => r.events.map((e) => e.type)

const ann = S.simpleContact('ann', 'Ann Lee')
const annEdited = S.simpleContact('ann', 'Ann Lee-Rossi', 'ann@rossi.example')
const bob = S.simpleContact('bob', 'Bob Rossi')
const meeting = S.recurringWithExceptions()

describe('diffDav: the first round', () => {
  it('records the account, each collection under the folder of its kind, and each object with its type, fields and bytes', () => {
    const w = given()
    const r = round(w, T0, [
      { info: book, read: full('tok-b1', [obj('/alice/contacts/ann.vcf', ann), obj('/alice/contacts/zoe.vcf', S.contactWithPhoto())]) },
      { info: cal, read: full('tok-c1', [obj('/alice/work/m.ics', meeting, 'calendar')]) },
      { info: todo, read: full('tok-t1', [obj('/alice/todo/p.ics', S.task(), 'calendar')]) },
    ])
    expect(types(r)).toEqual(['AccountCreated', 'ItemCreated', 'ItemCreated', 'ItemCreated', 'ItemCreated', 'ItemCreated', 'ItemCreated', 'ItemCreated'])
    const live = liveAfter(w.events)
    const folders = live.filter((s) => s.itemType === 'folder').map((s) => [s.name, s.folderId, s.dav?.href])
    expect(folders).toEqual([
      ['Personal', 7, '/alice/contacts/'],
      ['Work', 10, '/alice/work/'],
      ['todo', 15, '/alice/todo/'],
    ])
    const items = live.filter((s) => s.itemType !== 'folder')
    expect(items.map((s) => [s.itemType, s.name, s.uid, s.dav?.href])).toEqual([
      ['contact', 'Ann Lee', 'ann', '/alice/contacts/ann.vcf'],
      ['contact', 'Zoë Ünal-Şahin', 'B1E4F0A2-6C3D-4E5F-8A9B-0C1D2E3F4A5B', '/alice/contacts/zoe.vcf'],
      ['appointment', 'Weekly sync ☕ Ünïcødé', '6A1B7C2E-0F3D-4C55-9E0A-2B7D8E9F1A11', '/alice/work/m.ics'],
      ['task', 'Rinnovare il passaporto', 'f3c1d2e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f', '/alice/todo/p.ics'],
    ])
    expect(items[0]?.content).toEqual({ digest: sha256(Buffer.from(ann)), size: Buffer.byteLength(ann) })
    expect(items[2]?.davFields).toMatchObject({ tzid: 'Europe/Rome', recurring: true })
    expect(r.checkpoint.collections).toEqual({
      '/alice/contacts/': { mode: 'sync', token: 'tok-b1' },
      '/alice/work/': { mode: 'sync', token: 'tok-c1' },
      '/alice/todo/': { mode: 'sync', token: 'tok-t1' },
    })
    expect(r.collectionsCreated).toBe(3)
  })

  it('dates objects by what they say of themselves (never in the future), and each collection before its earliest object', () => {
    const w = given()
    const future = S.simpleEvent('f', 'Future stamp').replace('DTSTAMP:20260301T000000Z', 'DTSTAMP:20990101T000000Z')
    round(w, T0, [{ info: cal, read: full('tok-c1', [obj('/alice/work/m.ics', meeting, 'calendar'), obj('/alice/work/f.ics', future, 'calendar')]) }])
    const at = (pred: (e: MailEvent) => boolean) => w.events.find(pred)?.occurredAt
    expect(at((e) => e.type === 'ItemCreated' && e.name === 'Weekly sync ☕ Ünïcødé')).toBe(Date.parse('2026-01-02T08:15:00Z'))
    expect(at((e) => e.type === 'ItemCreated' && e.name === 'Future stamp')).toBe(T0)
    expect(at((e) => e.type === 'ItemCreated' && e.itemType === 'folder')).toBe(Date.parse('2026-01-02T08:14:59Z'))
    expect(w.events.every((e) => e.occurredWindow === undefined)).toBe(true)
  })

  it('does not record the account again when a mail scan already did', () => {
    const w = given()
    const r = round(w, T0, [{ info: book, read: full('tok-b1', []) }], { accountKnown: true })
    expect(types(r)).toEqual(['ItemCreated'])
  })

  it('records an object it could not parse, with the problem, and reports it', () => {
    const w = given()
    const r = round(w, T0, [{ info: cal, read: full('tok-c1', [obj('/alice/work/b.ics', S.brokenFolding(), 'calendar')]) }])
    expect(r.problems).toEqual([{ href: '/alice/work/b.ics', problem: expect.stringMatching(/^not a valid vCard or iCalendar object/) as unknown as string }])
    expect(liveAfter(w.events).find((s) => s.uid === 'broken-folding-1')?.davFields?.problem).toMatch(/invalid line/)
  })
})

describe('diffDav: later rounds', () => {
  const start = (): World => {
    const w = given()
    round(w, T0, [
      { info: book, read: full('tok-b1', [obj('/alice/contacts/ann.vcf', ann), obj('/alice/contacts/bob.vcf', bob)]) },
      { info: cal, read: full('tok-c1', [obj('/alice/work/m.ics', meeting, 'calendar')]) },
    ])
    return w
  }
  const idOf = (w: World, uid: string) => liveAfter(w.events).find((s) => s.uid === uid)?.itemId

  it('records a new version of an object as a content change, dated in the window since the last round', () => {
    const w = start()
    const annId = idOf(w, 'ann')
    const r = round(w, T1, [
      { info: book, read: since('tok-b2', [obj('/alice/contacts/ann.vcf', annEdited)]) },
      { info: cal, read: { _tag: 'Unchanged' } },
    ])
    expect(r.events).toEqual([
      expect.objectContaining({
        type: 'ItemContentChanged',
        itemId: annId,
        name: 'Ann Lee-Rossi',
        content: { digest: sha256(Buffer.from(annEdited)), size: Buffer.byteLength(annEdited) },
        occurredAt: T1,
        occurredWindow: { from: T0, to: T1 },
      }),
    ])
    expect(liveAfter(w.events).find((s) => s.itemId === annId)?.davFields?.emails).toEqual(['ann@rossi.example'])
    expect(r.checkpoint.collections['/alice/contacts/']).toEqual({ mode: 'sync', token: 'tok-b2' })
    expect(r.checkpoint.collections['/alice/work/']).toEqual({ mode: 'sync', token: 'tok-c1' })
  })

  it('records nothing for an ETag that changed with the same bytes, nor for a round read again', () => {
    const w = start()
    expect(
      round(w, T1, [
        { info: book, read: since('tok-b2', [obj('/alice/contacts/ann.vcf', ann, 'addressbook', '"other"')]) },
        { info: cal, read: { _tag: 'Unchanged' } },
      ]).events,
    ).toEqual([])
    const again = [
      { info: book, read: since('tok-b3', [obj('/alice/contacts/ann.vcf', annEdited)]) },
      { info: cal, read: { _tag: 'Unchanged' } as const },
    ]
    expect(types(round(w, T1, again))).toEqual(['ItemContentChanged'])
    expect(round(w, T1, again).events).toEqual([])
  })

  it('records every version, also one that goes back to an earlier content', () => {
    const w = start()
    const unchanged = { info: cal, read: { _tag: 'Unchanged' } as const }
    round(w, T1, [{ info: book, read: since('2', [obj('/alice/contacts/ann.vcf', annEdited)]) }, unchanged])
    round(w, instant(T1 + 1000), [{ info: book, read: since('3', [obj('/alice/contacts/ann.vcf', ann)]) }, unchanged])
    round(w, instant(T1 + 2000), [{ info: book, read: since('4', [obj('/alice/contacts/ann.vcf', annEdited)]) }, unchanged])
    const changes = w.events.filter((e) => e.type === 'ItemContentChanged')
    expect(changes).toHaveLength(3)
    expect(new Set(changes.map((e) => e.eventId)).size).toBe(3)
  })

  it('records a deletion the server reports, and one a full listing shows', () => {
    const w = start()
    const r = round(w, T1, [
      { info: book, read: since('tok-b2', [], ['/alice/contacts/bob.vcf', '/alice/contacts/never-known.vcf']) },
      { info: cal, read: full('tok-c9', [], []) },
    ])
    expect(r.events.map((e) => [e.type, 'itemId' in e ? e.itemId : 0])).toEqual([
      ['ItemDeleted', idOf(start(), 'bob')],
      ['ItemDeleted', idOf(start(), '6A1B7C2E-0F3D-4C55-9E0A-2B7D8E9F1A11')],
    ])
    expect(r.collections.map((c) => [c.href, c.deleted])).toEqual([
      ['/alice/contacts/', 1],
      ['/alice/work/', 1],
    ])
  })

  it('records an object moved to another collection as a move that keeps its id, with its new location and bytes', () => {
    const w = start()
    const other: CollectionInfo = { href: '/alice/family/', kind: 'addressbook', displayName: 'Family', syncToken: 'f1' }
    const annId = idOf(w, 'ann')
    const r = round(w, T1, [
      { info: book, read: since('tok-b2', [], ['/alice/contacts/ann.vcf']) },
      { info: other, read: full('f1', [obj('/alice/family/ann-2.vcf', annEdited)]) },
      { info: cal, read: { _tag: 'Unchanged' } },
    ])
    expect(types(r)).toEqual(['ItemCreated', 'ItemMoved', 'ItemContentChanged'])
    const s = liveAfter(w.events).find((x) => x.itemId === annId)
    expect(s).toMatchObject({ name: 'Ann Lee-Rossi', dav: { href: '/alice/family/ann-2.vcf' } })
    expect(liveAfter(w.events).find((x) => x.itemId === s?.folderId)?.name).toBe('Family')
    expect(r.collections.find((c) => c.href === '/alice/family/')?.movedIn).toBe(1)
  })

  it('follows a collection’s display name, and deletes a collection gone from the home after its objects', () => {
    const w = start()
    const renamed = round(w, T1, [
      { info: { ...book, displayName: 'Private' }, read: { _tag: 'Unchanged' } },
      { info: cal, read: { _tag: 'Unchanged' } },
    ])
    expect(renamed.events).toEqual([expect.objectContaining({ type: 'ItemRenamed', name: 'Private', itemType: 'folder' })])
    const gone = round(w, instant(T1 + 1000), [{ info: cal, read: { _tag: 'Unchanged' } }])
    expect(types(gone)).toEqual(['ItemDeleted', 'ItemDeleted', 'ItemDeleted'])
    expect(gone.events[2]).toMatchObject({ itemType: 'folder' })
    expect(gone.checkpoint.collections['/alice/contacts/']).toBeUndefined()
    expect(liveAfter(w.events).filter((s) => s.itemType === 'contact')).toEqual([])
  })

  it('keeps a collection that could not be read, and one whose home could not be listed, as recorded', () => {
    const w = start()
    const failed = round(w, T1, [{ info: book, read: { _tag: 'Failed', reason: 'HTTP 500' } }], { unlistedHomes: ['/alice/'] })
    expect(failed.events).toEqual([])
    expect(failed.failed).toEqual([{ href: '/alice/contacts/', reason: 'HTTP 500' }])
    expect(failed.checkpoint.collections['/alice/contacts/']).toEqual({ mode: 'sync', token: 'tok-b1' })
    expect(liveAfter(w.events).filter((s) => s.itemType === 'contact')).toHaveLength(2)
  })

  it('records an object a restore wrote as restored, at the restore’s instant, by its initiator', () => {
    const w = start()
    const carol = S.simpleContact('carol', 'Carol')
    const r = round(
      w,
      T1,
      [
        { info: book, read: since('tok-b2', [obj('/alice/contacts/carol.vcf', carol)]) },
        { info: cal, read: { _tag: 'Unchanged' } },
      ],
      {
        restored: (href, digest) =>
          href === '/alice/contacts/carol.vcf' && digest === sha256(Buffer.from(carol))
            ? { operationId: 'op-1', itemId: 300, at: T0 + 5, initiator: 'admin@example.com' }
            : undefined,
      },
    )
    expect(r.events).toEqual([
      expect.objectContaining({
        type: 'ItemCreated',
        observedVia: 'restore',
        by: 'admin@example.com',
        occurredAt: T0 + 5,
        source: { kind: 'restore', operationId: 'op-1', seq: 300, href: '/alice/contacts/carol.vcf' },
      }),
    ])
    expect(r.collections[0]?.restored).toBe(1)
  })
})
