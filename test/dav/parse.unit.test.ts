/** Reading vCard and iCalendar objects for the fields people search by, including objects no parser accepts. */
import { parseDavObject } from '../../src/dav/parse'
import * as S from './samples'

const b = (s: string) => Buffer.from(s, 'utf8')

describe('parseDavObject', () => {
  it('reads a recurring event with an exception: the master’s summary, start as written with its TZID, recurrence, organizer and attendees', () => {
    const p = parseDavObject(b(S.recurringWithExceptions()), 'calendar')
    expect(p).toEqual({
      format: 'icalendar',
      itemType: 'appointment',
      uid: '6A1B7C2E-0F3D-4C55-9E0A-2B7D8E9F1A11',
      name: 'Weekly sync ☕ Ünïcødé',
      fields: {
        component: 'VEVENT',
        start: '20260105T090000',
        tzid: 'Europe/Rome',
        recurring: true,
        organizer: 'Bob Rossi <bob@example.com>',
        attendees: ['Ann Lee <ann@example.com>', 'Zoë Ünal <zoe@example.com>'],
      },
      stamp: Date.UTC(2026, 0, 2, 8, 15, 0),
    })
  })

  it('reads an all-day event’s date and a task as a task', () => {
    expect(parseDavObject(b(S.allDay()), 'calendar')).toMatchObject({ itemType: 'appointment', name: 'Festa della Repubblica', fields: { start: '20260602' } })
    const t = parseDavObject(b(S.task()), 'calendar')
    expect(t).toMatchObject({ itemType: 'task', uid: 'f3c1d2e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f', name: 'Rinnovare il passaporto', fields: { component: 'VTODO' } })
    expect(t.fields.recurring).toBeUndefined()
  })

  it('reads a contact with a photo: FN, N, every EMAIL, REV', () => {
    expect(parseDavObject(b(S.contactWithPhoto()), 'addressbook')).toEqual({
      format: 'vcard',
      itemType: 'contact',
      uid: 'B1E4F0A2-6C3D-4E5F-8A9B-0C1D2E3F4A5B',
      name: 'Zoë Ünal-Şahin',
      fields: { emails: ['zoe@example.com', 'zoe.home@example.org'], n: 'Ünal-Şahin;Zoë;;Dr.;' },
      stamp: Date.UTC(2026, 0, 15, 10, 20, 30),
    })
    expect(parseDavObject(b(S.contactV4()), 'addressbook')).toMatchObject({
      uid: 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1',
      name: '田中 太郎',
      fields: { emails: ['taro.tanaka@example.jp'] },
    })
  })

  it('reads an event with a large binary attachment', () => {
    expect(parseDavObject(b(S.eventWithAttachment()), 'calendar')).toMatchObject({
      uid: '040000008200E00074C5B7101A82E00800000000',
      name: 'Budget review (slides attached)',
      fields: { tzid: 'Europe/Rome' },
    })
  })

  it('records a contact without UID with its other fields', () => {
    const p = parseDavObject(b(S.contactWithoutUid()), 'addressbook')
    expect(p.uid).toBeUndefined()
    expect(p).toMatchObject({ itemType: 'contact', name: 'No Uid Person', fields: { emails: ['nouid@example.com'] } })
  })

  it('reads an object with broken folding leniently and says what was wrong', () => {
    const p = parseDavObject(b(S.brokenFolding()), 'calendar')
    expect(p).toMatchObject({ itemType: 'appointment', uid: 'broken-folding-1', name: 'Folding gone wrong', fields: { start: '20260311T090000Z' } })
    expect(p.fields.problem).toMatch(/^not a valid vCard or iCalendar object \(invalid line/)
  })

  it('types something that is neither format by its collection, and says so', () => {
    expect(parseDavObject(b('hello world'), 'addressbook')).toEqual({
      format: 'unknown',
      itemType: 'contact',
      fields: { problem: expect.stringMatching(/^not a valid vCard or iCalendar object/) as unknown as string },
    })
    expect(parseDavObject(b('BEGIN:VNOTE\r\nBODY:x\r\nEND:VNOTE\r\n'), 'calendar')).toMatchObject({
      format: 'unknown',
      itemType: 'appointment',
      fields: { problem: 'neither a vCard nor an iCalendar object (BEGIN:VNOTE)' },
    })
    expect(parseDavObject(Buffer.alloc(0), 'calendar').fields.problem).toBeDefined()
  })

  it('bounds what it keeps from a hostile object: 100 attendees, 1,000 characters a value', () => {
    const many = Array.from({ length: 500 }, (_, i) => `ATTENDEE:mailto:p${i}@example.com`)
    const ics = [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'BEGIN:VEVENT',
      'UID:many',
      `SUMMARY:${'x'.repeat(5000)}`,
      'DTSTART:20260101T000000Z',
      ...many,
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n')
    const p = parseDavObject(b(ics), 'calendar')
    expect(p.fields.attendees).toHaveLength(100)
    expect(p.name).toHaveLength(1000)
  })

  it('reads a 5 MB object', () => {
    const p = parseDavObject(b(S.hugeEvent()), 'calendar')
    expect(p).toMatchObject({ uid: 'huge-1', itemType: 'appointment' })
  })
})
