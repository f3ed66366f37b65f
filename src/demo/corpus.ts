/** Synthetic but realistic message text: RFC 5322 messages, vCards and iCalendar objects. */
import type { Rng } from './random'

const WORDS =
  'budget review meeting quarterly report invoice draft contract proposal deadline schedule travel flight hotel booking team lunch project milestone release customer feedback update agenda minutes approval signature renewal subscription newsletter webinar offer discount delivery shipment order receipt payment reminder holiday family photos weekend plans dinner birthday school concert tickets'.split(
    ' ',
  )
const PEOPLE = ['Marco Rossi', 'Giulia Bianchi', 'Anna Schmidt', 'Liam Murphy', 'Sofia Costa', 'Noah Dubois', 'Emma Jansen', 'Lucas Silva', 'Chloé Martin', 'Jonas Weber']
const DOMAINS = ['example.org', 'partner.example', 'shop.example', 'airline.example', 'school.example']

export const sentence = (r: Rng, n: number): string =>
  Array.from({ length: n }, () => r.pick(WORDS))
    .join(' ')
    .replace(/^./, (c) => c.toUpperCase())

export interface Person {
  readonly name: string
  readonly address: string
}

export const person = (r: Rng): Person => {
  const name = r.pick(PEOPLE)
  return { name, address: `${name.toLowerCase().replace(/[^a-z]+/g, '.')}@${r.pick(DOMAINS)}` }
}

const rfc2822 = (ms: number): string => new Date(ms).toUTCString().replace('GMT', '+0000')

export interface MessageSpec {
  readonly from: Person
  readonly to: string
  readonly subject: string
  readonly messageId: string
  readonly date: number
}

export const messageBytes = (r: Rng, m: MessageSpec): Buffer => {
  const paragraphs = Array.from({ length: r.int(2, 8) }, () => `${sentence(r, r.int(12, 40))}.`)
  const body = paragraphs.join('\r\n\r\n')
  return Buffer.from(
    [
      `From: ${m.from.name} <${m.from.address}>`,
      `To: ${m.to}`,
      `Subject: ${m.subject}`,
      `Date: ${rfc2822(m.date)}`,
      `Message-ID: ${m.messageId}`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      body,
      '',
    ].join('\r\n'),
    'utf8',
  )
}

export const vcardBytes = (p: Person, uid: string): Buffer =>
  Buffer.from(['BEGIN:VCARD', 'VERSION:3.0', `UID:${uid}`, `FN:${p.name}`, `EMAIL;TYPE=INTERNET:${p.address}`, 'END:VCARD', ''].join('\r\n'))

export const icalBytes = (uid: string, summary: string, start: number): Buffer => {
  const fmt = (ms: number) =>
    new Date(ms)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '')
  return Buffer.from(
    [
      'BEGIN:VCALENDAR',
      'VERSION:2.0',
      'PRODID:-//Mailtime//demo//EN',
      'BEGIN:VEVENT',
      `UID:${uid}`,
      `DTSTAMP:${fmt(start)}`,
      `DTSTART:${fmt(start)}`,
      `DTEND:${fmt(start + 3600_000)}`,
      `SUMMARY:${summary}`,
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n'),
  )
}
