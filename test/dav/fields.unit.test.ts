/** What the CLI and the console show and search of a contact, appointment or task, and what each version changed. */
import type { ItemState } from '../../domain/state'
import { davChanges, davDetailRows, davJson, davSearchFields } from '../../src/dav/fields'
import { davFieldChanges } from '../../src/dav/fieldChanges'
import { changesOf } from '../../src/web/versionChanges'

const contact = (over: Partial<ItemState> = {}): ItemState =>
  ({
    itemId: 300,
    itemType: 'contact',
    folderId: 260,
    status: 'live',
    known: true,
    flags: [],
    tags: [],
    name: 'Ann Lee',
    uid: 'ann',
    content: { digest: 'd1', size: 100 },
    dav: { href: '/alice/contacts/ann.vcf', etag: '"e1"' },
    davFields: { emails: ['ann@example.com'], n: 'Lee;Ann;;;' },
    ...over,
  }) as unknown as ItemState

describe('the fields of a DAV item, shown and searched', () => {
  it('matches a search against e-mail addresses, N, organizer, attendees and the path', () => {
    expect(davSearchFields(contact())).toEqual(['ann@example.com', 'Lee;Ann;;;', '/alice/contacts/ann.vcf'])
    const ev = contact({ itemType: 'appointment', davFields: { organizer: 'Bob <bob@example.com>', attendees: ['Zoë <zoe@example.com>'], start: '20260105T090000' } })
    expect(davSearchFields(ev)).toEqual(['Bob <bob@example.com>', 'Zoë <zoe@example.com>', '/alice/contacts/ann.vcf'])
    expect(davSearchFields({ ...contact(), dav: undefined, davFields: undefined } as unknown as ItemState)).toEqual([])
  })

  it('gives getItem a row per field, and the --json the uid, path and fields (nothing for a message)', () => {
    expect(davDetailRows(contact())).toEqual([
      ['uid', 'ann'],
      ['dav path', '/alice/contacts/ann.vcf (ETag "e1")'],
      ['e-mail', 'ann@example.com'],
    ])
    expect(davJson(contact())).toEqual({ uid: 'ann', dav: { href: '/alice/contacts/ann.vcf', etag: '"e1"' }, davFields: { emails: ['ann@example.com'], n: 'Lee;Ann;;;' } })
    expect(davJson({ ...contact(), uid: undefined, dav: undefined, davFields: undefined } as unknown as ItemState)).toEqual({})
  })

  it('says what a version changed, field by field', () => {
    const v2 = contact({ content: { digest: 'd2', size: 120 }, davFields: { emails: ['ann@rossi.example'], n: 'Rossi;Ann;;;' } })
    expect(davChanges(contact(), v2)).toEqual(['e-mail +ann@rossi.example −ann@example.com', 'N Lee;Ann;;; → Rossi;Ann;;;'])
    // New bytes that no searchable field shows (a phone number): still said.
    expect(davChanges(contact(), contact({ content: { digest: 'd3', size: 130 } }))).toEqual(['content changed'])
    expect(davChanges(contact(), contact({ dav: { href: '/alice/other/ann.vcf' } }))).toEqual(['path /alice/contacts/ann.vcf → /alice/other/ann.vcf'])
    expect(davChanges(undefined, contact())).toEqual([])
    expect(
      davFieldChanges(
        { fields: { start: '20260105T090000', tzid: 'Europe/Rome', attendees: ['a', 'b'] }, digest: 'x' },
        { fields: { start: '20260106T100000', tzid: 'Europe/Rome', recurring: true, attendees: ['b', 'c'] }, digest: 'y' },
      ),
    ).toEqual(['start 20260105T090000 Europe/Rome → 20260106T100000 Europe/Rome', 'now recurring', 'attendees +c −a'])
  })

  it('lets the item panel of the console say the same', () => {
    const s = (over: object) => ({
      folderPath: '/Contacts/Personal',
      flags: [],
      tags: [],
      status: 'live',
      name: 'Ann Lee',
      dav: { href: '/alice/contacts/ann.vcf' },
      digest: 'd1',
      davFields: { emails: ['ann@example.com'] },
      ...over,
    })
    expect(changesOf(s({}), s({ digest: 'd2', davFields: { emails: ['ann@rossi.example'] } }))).toEqual(['e-mail +ann@rossi.example −ann@example.com'])
    expect(changesOf(s({}), s({ name: 'Ann Rossi', digest: 'd2' }))).toEqual(['renamed Ann Lee → Ann Rossi'])
  })
})

describe('the DAV homes of a restore on another account', () => {
  it('are those of the configured principal, or Radicale’s /{user}/ when no DAV server is configured', () => {
    const { homesFor } = jest.requireActual<typeof import('../../src/dav/restoreWiring')>('../../src/dav/restoreWiring')
    expect(homesFor(undefined, 'alice', 'alice.new')).toEqual({ source: '/alice/', target: '/alice.new/' })
    expect(homesFor({ url: 'https://dav.example.com/remote.php/dav', passwords: {}, principal: '/calendars/{user}/', description: '' }, 'alice', 'bob')).toEqual({
      source: '/remote.php/dav/calendars/alice/',
      target: '/remote.php/dav/calendars/bob/',
    })
  })
})
