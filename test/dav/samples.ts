/**
 * vCard and iCalendar samples in the shapes real clients write (Apple Contacts and Calendar,
 * Thunderbird, Google's exports, Outlook): recurring events with exceptions, time zones, non-ASCII
 * names, a photo, a large binary attachment; and hostile ones (no UID, broken line folding, a 5 MB
 * object, not a vCard at all). Built from lines joined with CRLF, so that no checkout or editor
 * changes their line ends; the large ones are generated.
 */

/** `n` deterministic bytes (no randomness: a failing test is reproduced as it was). */
const filler = (n: number, mul: number, add: number): Buffer => {
  const out = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) out[i] = (i * mul + add) & 0xff
  return out
}

const crlf = (lines: readonly string[]): string => `${lines.join('\r\n')}\r\n`

/** Folds a content line at 75 octets as RFC 5545 §3.1 says (continuations start with a space). */
export const fold = (line: string): string => {
  const out: string[] = []
  let rest = Buffer.from(line, 'utf8')
  let width = 75
  while (rest.length > width) {
    let cut = width
    // Never split a UTF-8 sequence.
    while (cut > 0 && ((rest[cut] ?? 0) & 0xc0) === 0x80) cut--
    out.push(rest.subarray(0, cut).toString('utf8'))
    rest = rest.subarray(cut)
    width = 74
  }
  out.push(rest.toString('utf8'))
  return out.join('\r\n ')
}

export const VTIMEZONE_ROME = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Rome',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
]

/** A weekly meeting (Apple Calendar's shape) with one occurrence moved and one cancelled. */
export const recurringWithExceptions = (uid = '6A1B7C2E-0F3D-4C55-9E0A-2B7D8E9F1A11', summary = 'Weekly sync ☕ Ünïcødé'): string =>
  crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Apple Inc.//macOS 14.4//EN',
    'CALSCALE:GREGORIAN',
    ...VTIMEZONE_ROME,
    'BEGIN:VEVENT',
    'CREATED:20260102T081500Z',
    'DTSTAMP:20260102T081512Z',
    'LAST-MODIFIED:20260102T081512Z',
    `UID:${uid}`,
    'DTSTART;TZID=Europe/Rome:20260105T090000',
    'DTEND;TZID=Europe/Rome:20260105T093000',
    'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20',
    'EXDATE;TZID=Europe/Rome:20260119T090000',
    fold(`SUMMARY:${summary}`),
    'LOCATION:Sala Riunioni 2\\, Via Roma 1',
    fold('DESCRIPTION:Agenda:\\n1. Status\\n2. Blockers\\n3. Anything else — with a long line that clients fold at seventy-five octets'),
    'ORGANIZER;CN="Bob Rossi":mailto:bob@example.com',
    'ATTENDEE;CN=Ann Lee;PARTSTAT=ACCEPTED;ROLE=REQ-PARTICIPANT:mailto:ann@example.com',
    'ATTENDEE;CN="Zoë Ünal";PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:zoe@example.com',
    'SEQUENCE:0',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:Reminder',
    'TRIGGER:-PT15M',
    'END:VALARM',
    'END:VEVENT',
    'BEGIN:VEVENT',
    'DTSTAMP:20260110T100000Z',
    `UID:${uid}`,
    'RECURRENCE-ID;TZID=Europe/Rome:20260112T090000',
    'DTSTART;TZID=Europe/Rome:20260112T110000',
    'DTEND;TZID=Europe/Rome:20260112T113000',
    fold(`SUMMARY:${summary} (moved)`),
    'SEQUENCE:1',
    'END:VEVENT',
    'END:VCALENDAR',
  ])

/** An all-day event (Google's export shape). */
export const allDay = (uid = 'abc123xyz@google.com', summary = 'Festa della Repubblica'): string =>
  crlf([
    'BEGIN:VCALENDAR',
    'PRODID:-//Google Inc//Google Calendar 70.9054//EN',
    'VERSION:2.0',
    'BEGIN:VEVENT',
    'DTSTART;VALUE=DATE:20260602',
    'DTEND;VALUE=DATE:20260603',
    'DTSTAMP:20260301T120000Z',
    `UID:${uid}`,
    `SUMMARY:${summary}`,
    'TRANSP:TRANSPARENT',
    'END:VEVENT',
    'END:VCALENDAR',
  ])

/** A task (Thunderbird's shape). */
export const task = (uid = 'f3c1d2e4-5a6b-4c7d-8e9f-0a1b2c3d4e5f', summary = 'Rinnovare il passaporto'): string =>
  crlf([
    'BEGIN:VCALENDAR',
    'PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN',
    'VERSION:2.0',
    'BEGIN:VTODO',
    'CREATED:20260201T090000Z',
    'LAST-MODIFIED:20260201T090500Z',
    'DTSTAMP:20260201T090500Z',
    `UID:${uid}`,
    `SUMMARY:${summary}`,
    'STATUS:NEEDS-ACTION',
    'DUE;VALUE=DATE:20260415',
    'END:VTODO',
    'END:VCALENDAR',
  ])

/** A vCard 3.0 (Apple Contacts' shape) with a non-ASCII name, several addresses and a JPEG photo. */
export const contactWithPhoto = (uid = 'B1E4F0A2-6C3D-4E5F-8A9B-0C1D2E3F4A5B', fn = 'Zoë Ünal-Şahin', photoBytes = 24_000): string => {
  // A JPEG's markers around deterministic filler: what matters is a long base64 value, folded.
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), filler(photoBytes, 31, 7), Buffer.from([0xff, 0xd9])])
  return crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    'PRODID:-//Apple Inc.//macOS 14.4//EN',
    'N:Ünal-Şahin;Zoë;;Dr.;',
    `FN:${fn}`,
    'ORG:Ünïversità di Bologna;Dipartimento di Fisica',
    'EMAIL;type=INTERNET;type=WORK;type=pref:zoe@example.com',
    'EMAIL;type=INTERNET;type=HOME:zoe.home@example.org',
    'TEL;type=CELL;type=VOICE;type=pref:+39 333 123 4567',
    'item1.ADR;type=WORK;type=pref:;;Via Zamboni 33;Bologna;BO;40126;Italia',
    'item1.X-ABADR:it',
    fold(`PHOTO;ENCODING=b;TYPE=JPEG:${jpeg.toString('base64')}`),
    'NOTE:Met at the conference in Kraków\\, 2025',
    'REV:2026-01-15T10:20:30Z',
    `UID:${uid}`,
    'END:VCARD',
  ])
}

/** A vCard 4.0 (as Nextcloud and Thunderbird write it). */
export const contactV4 = (uid = 'urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1', fn = '田中 太郎'): string =>
  crlf(['BEGIN:VCARD', 'VERSION:4.0', `UID:${uid}`, `FN:${fn}`, 'N:田中;太郎;;;', 'EMAIL;TYPE=work:taro.tanaka@example.jp', 'LANG;PREF=1:ja', 'REV:20260120T080000Z', 'END:VCARD'])

/** A simple contact. */
export const simpleContact = (uid: string, fn: string, email = `${uid}@example.com`): string =>
  crlf(['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${fn}`, `N:${fn};;;;`, `EMAIL:${email}`, 'END:VCARD'])

/** A simple event. */
export const simpleEvent = (uid: string, summary: string, start = '20260310T100000Z'): string =>
  crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Mailtime tests//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260301T000000Z',
    `DTSTART:${start}`,
    `SUMMARY:${summary}`,
    'END:VEVENT',
    'END:VCALENDAR',
  ])

/** An event with a binary attachment of `bytes` bytes (Outlook's shape for an attached file). */
export const eventWithAttachment = (uid = '040000008200E00074C5B7101A82E00800000000', bytes = 1_000_000): string => {
  const data = filler(bytes, 131, 17)
  return crlf([
    'BEGIN:VCALENDAR',
    'PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN',
    'VERSION:2.0',
    'METHOD:PUBLISH',
    ...VTIMEZONE_ROME,
    'BEGIN:VEVENT',
    'CLASS:PUBLIC',
    'CREATED:20260220T143000Z',
    'DTSTAMP:20260220T143000Z',
    'DTSTART;TZID=Europe/Rome:20260302T140000',
    'DTEND;TZID=Europe/Rome:20260302T150000',
    `UID:${uid}`,
    'SUMMARY:Budget review (slides attached)',
    fold(`ATTACH;ENCODING=BASE64;VALUE=BINARY;FMTTYPE=application/vnd.ms-powerpoint;X-FILENAME=budget.ppt:${data.toString('base64')}`),
    'END:VEVENT',
    'END:VCALENDAR',
  ])
}

// --- hostile ---------------------------------------------------------------------------------

/** A contact without UID (old Outlook exports). */
export const contactWithoutUid = (fn = 'No Uid Person'): string => crlf(['BEGIN:VCARD', 'VERSION:3.0', `FN:${fn}`, 'EMAIL:nouid@example.com', 'END:VCARD'])

/** An event whose long DESCRIPTION was "folded" without the leading space. */
export const brokenFolding = (uid = 'broken-folding-1'): string =>
  crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Broken//EN',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20260301T000000Z',
    'DTSTART:20260311T090000Z',
    'SUMMARY:Folding gone wrong',
    'DESCRIPTION:the first half of a long line',
    'and its second half on a line of its own',
    'END:VEVENT',
    'END:VCALENDAR',
  ])

/** An event of about `megabytes` MB (a huge attachment). */
export const hugeEvent = (uid = 'huge-1', megabytes = 5): string => eventWithAttachment(uid, Math.round((megabytes * 1_000_000 * 3) / 4))
