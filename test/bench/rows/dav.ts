/**
 * CardDAV/CalDAV capture of one account holding 10,000 contacts and 10,000 events at full size, in
 * a real Radicale on loopback, against a bare client of the same server in the same run:
 * - the first capture (every collection read with sync-collection, every object fetched with GET,
 *   stored in the blob store, parsed, diffed and appended with the checkpoint) against a bare
 *   sync-collection + GET loop with the same number of GETs in flight (4), which keeps nothing;
 * - a round with nothing changed (Mailtime: one PROPFIND of the home, every token unchanged) against
 *   the bare loop's sync-collection from its token on each collection.
 * The objects are written straight into Radicale's storage folder (PUTting 20,000 objects would take
 * longer than the measurement); Radicale reads them as it reads objects it stored.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../../domain/ids'
import { instant } from '../../../domain/instant'
import { openBackend } from '../../../src/wiring/backend'
import { captureDavAccount } from '../../../src/dav/capture'
import { davClient } from '../../../src/dav/client'
import { startRadicale } from '../../support/radicale'
import { fmt, now, peakRssMB } from '../measure'
import type { RowResult, RowSpec } from '../row'

const PARALLEL = 4
const crlf = (lines: readonly string[]) => `${lines.join('\r\n')}\r\n`

const contact = (i: number): string =>
  crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:bench-contact-${i}`,
    `FN:Contact ${i} Müller`,
    `N:Müller;Contact ${i};;;`,
    `EMAIL;TYPE=INTERNET:contact${i}@example.org`,
    `TEL;TYPE=CELL:+39 333 ${String(1_000_000 + i)}`,
    `ORG:Example ${i % 50}`,
    'END:VCARD',
  ])

const event = (i: number): string => {
  const day = String(1 + (i % 28)).padStart(2, '0')
  return crlf([
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Mailtime//bench//EN',
    'BEGIN:VEVENT',
    `UID:bench-event-${i}`,
    'DTSTAMP:20260101T000000Z',
    `DTSTART:202603${day}T${String(8 + (i % 10)).padStart(2, '0')}0000Z`,
    `DTEND:202603${day}T${String(9 + (i % 10)).padStart(2, '0')}0000Z`,
    `SUMMARY:Meeting ${i} about the budget`,
    'ORGANIZER;CN=Bob:mailto:bob@example.org',
    `ATTENDEE;CN=Contact ${i}:mailto:contact${i}@example.org`,
    ...(i % 10 === 0 ? ['RRULE:FREQ=WEEKLY;COUNT=10'] : []),
    'END:VEVENT',
    'END:VCALENDAR',
  ])
}

/** The bare client: plain fetch, Basic auth, sync-collection and GET; it keeps nothing. */
const bare = (url: string, user: string, password: string) => {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  const report = async (collection: string, token: string | undefined): Promise<{ token: string; hrefs: string[] }> => {
    const body = `<?xml version="1.0" encoding="utf-8"?><sync-collection xmlns="DAV:"><sync-token>${token ?? ''}</sync-token><sync-level>1</sync-level><prop><getetag/></prop></sync-collection>`
    const r = await fetch(`${url}${collection}`, { method: 'REPORT', headers: { Authorization: auth, 'Content-Type': 'application/xml', Depth: '1' }, body })
    const text = await r.text()
    if (r.status !== 207) throw new Error(`bare REPORT ${collection}: HTTP ${r.status}`)
    const hrefs = [...text.matchAll(/<(?:\w+:)?response>\s*<(?:\w+:)?href>([^<]+)<\/(?:\w+:)?href>\s*<(?:\w+:)?propstat>/g)].map((m) => m[1] ?? '')
    return { token: /<(?:\w+:)?sync-token>([^<]+)</.exec(text)?.[1] ?? '', hrefs }
  }
  const getAll = async (hrefs: readonly string[]): Promise<number> => {
    let next = 0
    let bytes = 0
    const worker = async () => {
      for (let i = next++; i < hrefs.length; i = next++) {
        const r = await fetch(`${url}${hrefs[i]}`, { headers: { Authorization: auth } })
        if (r.status !== 200) throw new Error(`bare GET ${hrefs[i]}: HTTP ${r.status}`)
        bytes += (await r.arrayBuffer()).byteLength
      }
    }
    await Promise.all(Array.from({ length: PARALLEL }, worker))
    return bytes
  }
  return { report, getAll }
}

export const davRow: RowSpec = {
  name: 'dav',
  title: 'CardDAV/CalDAV capture from Radicale against a bare sync-collection + GET loop',
  hasGoal: false,
  run: async ({ data, scale }): Promise<RowResult> => {
    const n = Math.max(20, Math.round(10_000 * scale))
    const dir = path.join(data, 'dav')
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const rad = await startRadicale(path.join(dir, 'radicale'))
    const opened = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(opened)) throw new Error(`store: ${JSON.stringify(opened.left)}`)
    const b = opened.right
    try {
      await rad.makeAddressBook('bench', 'contacts', 'Contacts')
      await rad.makeCalendar('bench', 'calendar', 'Calendar')
      const root = path.join(rad.dir, 'collections', 'collection-root', 'bench')
      let mb = 0
      for (let i = 0; i < n; i++) {
        const c = contact(i)
        const e = event(i)
        mb += (Buffer.byteLength(c) + Buffer.byteLength(e)) / 1e6
        fs.writeFileSync(path.join(root, 'contacts', `c${i}.vcf`), c)
        fs.writeFileSync(path.join(root, 'calendar', `e${i}.ics`), e)
      }
      const collections = ['/bench/contacts/', '/bench/calendar/']
      const client = davClient({ url: rad.url, user: rad.admin.user, password: rad.admin.password })
      const loop = bare(rad.url, rad.admin.user, rad.admin.password)
      // Radicale builds its cache of the objects on the first listing: a warm-up listing for both sides.
      for (const c of collections) await loop.report(c, undefined)

      const t0 = now()
      const tokens: string[] = []
      let fetched = 0
      for (const c of collections) {
        const r = await loop.report(c, undefined)
        tokens.push(r.token)
        fetched += r.hrefs.length
        await loop.getAll(r.hrefs)
      }
      const bareFirst = now() - t0
      if (fetched !== 2 * n) throw new Error(`the bare loop listed ${fetched} objects, not ${2 * n}`)

      let clock = Date.parse('2026-03-01T12:00:00Z')
      const deps = { store: b.store, index: b.index, blobs: b.blobs, now: () => instant(clock++) }
      const t1 = now()
      const first = await captureDavAccount(client, 'bench' as AccountId, ['/bench/'], deps)
      const oursFirst = now() - t1
      if (E.isLeft(first)) throw new Error(`capture: ${JSON.stringify(first.left)}`)
      if (first.right.objectsRead !== 2 * n || first.right.failed.length > 0)
        throw new Error(`capture read ${first.right.objectsRead} objects, failed ${JSON.stringify(first.right.failed)}`)

      const t2 = now()
      for (const [i, c] of collections.entries()) {
        const r = await loop.report(c, tokens[i])
        if (r.hrefs.length !== 0) throw new Error(`the bare loop saw ${r.hrefs.length} changes in a round with none`)
      }
      const bareIdle = now() - t2
      const t3 = now()
      const idle = await captureDavAccount(client, 'bench' as AccountId, ['/bench/'], deps)
      const oursIdle = now() - t3
      if (E.isLeft(idle) || idle.right.eventsAppended !== 0 || idle.right.objectsRead !== 0)
        throw new Error(`a round with nothing changed: ${JSON.stringify(E.isLeft(idle) ? idle.left : idle.right.eventsAppended)}`)

      const rate = (ms: number) => ((2 * n) / ms) * 1000
      const size = `${n.toLocaleString('en-US')} contacts + ${n.toLocaleString('en-US')} events, ${fmt(mb)} MB`
      return {
        rows: [
          {
            what: `DAV first capture, ${size}, ${PARALLEL} GETs in flight`,
            ours: `${fmt(rate(oursFirst))} objects/s (${fmt(oursFirst / 1000)} s)`,
            baseline: `bare sync-collection + GET loop, same GETs in flight, keeps nothing: ${fmt(rate(bareFirst))} objects/s`,
            ratio: bareFirst / oursFirst,
            goal: '',
            pass: undefined,
          },
          {
            what: `DAV round with nothing changed, ${size}`,
            ours: `${fmt(oursIdle)} ms`,
            baseline: `bare sync-collection from its token on each collection: ${fmt(bareIdle)} ms`,
            ratio: bareIdle / oursIdle,
            goal: '',
            pass: undefined,
          },
        ],
        peakRssMB: peakRssMB(),
      }
    } finally {
      await b.close()
      await rad.stop()
    }
  },
}
