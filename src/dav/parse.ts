/**
 * Reading a vCard (RFC 6350, and 3.0) or iCalendar (RFC 5545) object for the fields people search
 * by: UID, FN, N and EMAIL of a contact; SUMMARY, DTSTART (with its TZID), whether it recurs,
 * ORGANIZER and ATTENDEE of an event or a task. `ical.js` parses both formats.
 *
 * Guarantees:
 * 1. Total: any bytes give a result. An object `ical.js` refuses (broken line folding, no END, not
 *    a vCard at all) is read again by a tolerant line reader, and `fields.problem` says what was
 *    wrong; capture still stores its bytes and records the item.
 * 2. Nothing here changes the object: the bytes in the blob store are the server's.
 * 3. Field sizes are bounded (100 attendees, 20 addresses, 1,000 characters a value), so a hostile
 *    object cannot bloat every stored state of its item; the whole object is in the blob store.
 */
import ICAL from 'ical.js'
import type { DavFields } from '../../domain/events'
import type { ItemType } from '../../domain/itemTypes'
import type { CollectionKind } from './client'

export interface ParsedObject {
  readonly format: 'vcard' | 'icalendar' | 'unknown'
  readonly itemType: Extract<ItemType, 'contact' | 'appointment' | 'task'>
  readonly uid?: string
  /** FN, or the SUMMARY of the main component. */
  readonly name?: string
  readonly fields: DavFields
  /** When the object says it was created or last changed (REV, CREATED, LAST-MODIFIED, DTSTAMP), in UTC. */
  readonly stamp?: number
}

const MAX_TEXT = 1000
const MAX_ATTENDEES = 100
const MAX_EMAILS = 20

const clip = (s: string): string => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s)

/** A property as the readers below see it: name (lower case), parameters, values as text. */
interface Prop {
  readonly name: string
  readonly params: Readonly<Record<string, string>>
  readonly values: readonly string[]
}

interface Comp {
  readonly name: string
  readonly props: readonly Prop[]
  readonly comps: readonly Comp[]
}

const first = (c: Comp, name: string): Prop | undefined => c.props.find((p) => p.name === name)
const all = (c: Comp, name: string): Prop[] => c.props.filter((p) => p.name === name)
const text = (p: Prop | undefined): string | undefined => {
  const v = p?.values.join(',')
  return v === undefined || v.trim() === '' ? undefined : clip(v)
}

/** `2026-01-05T09:00:00` (jCal) or `20260105T090000` (as written) → `20260105T090000`. */
const basicForm = (v: string): string => v.replace(/[-:]/g, '')

/** A UTC date-time as written (`20260105T090000Z`, `2026-01-05T09:00:00Z`, a vCard REV) → ms, or undefined. */
const utcInstant = (v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(basicForm(v.trim()))
  if (m === null) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  return Number.isFinite(ms) ? ms : undefined
}

/** `mailto:bob@example.com` with CN=Bob → `Bob <bob@example.com>`. */
const address = (p: Prop): string | undefined => {
  const v = p.values[0]?.replace(/^mailto:/i, '').trim()
  if (v === undefined || v === '') return undefined
  const cn = p.params.cn
  return clip(cn !== undefined && cn !== '' ? `${cn} <${v}>` : v)
}

// --- ical.js's jCal arrays into Comp -----------------------------------------------------------

const jcalValue = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(jcalValue).join(';') : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)

const fromJcal = (j: unknown): Comp => {
  if (!Array.isArray(j) || typeof j[0] !== 'string' || !Array.isArray(j[1]) || !Array.isArray(j[2])) throw new Error('not a component')
  const props = (j[1] as unknown[]).map((p): Prop => {
    if (!Array.isArray(p) || typeof p[0] !== 'string') throw new Error('not a property')
    const params: Record<string, string> = {}
    for (const [k, v] of Object.entries((p[1] ?? {}) as Record<string, unknown>)) params[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : String(v)
    return { name: p[0].toLowerCase(), params, values: p.slice(3).map(jcalValue) }
  })
  return { name: j[0].toLowerCase(), props, comps: (j[2] as unknown[]).map(fromJcal) }
}

// --- the tolerant reader ---------------------------------------------------------------------

const unescapeText = (v: string): string => v.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c))

/**
 * Reads content lines the way a lenient client does: unfolds, skips what is not `NAME[;…]:VALUE`,
 * and nests BEGIN/END as far as they go. Used only when `ical.js` refused the object.
 */
const tolerant = (s: string): Comp => {
  const lines = s.replace(/\r?\n[ \t]/g, '').split(/\r?\n/)
  const root: { name: string; props: Prop[]; comps: Comp[] } = { name: '', props: [], comps: [] }
  const stack = [root]
  for (const line of lines) {
    const m = /^([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)?)((?:;[^:]*)?):(.*)$/.exec(line)
    if (m === null) continue
    const name = (m[1] ?? '').toLowerCase().replace(/^[^.]*\./, '')
    const value = m[3] ?? ''
    const top = stack[stack.length - 1] ?? root
    if (name === 'begin') {
      const c = { name: value.trim().toLowerCase(), props: [], comps: [] }
      top.comps.push(c)
      stack.push(c)
      continue
    }
    if (name === 'end') {
      if (stack.length > 1) stack.pop()
      continue
    }
    const params: Record<string, string> = {}
    for (const kv of (m[2] ?? '').split(';').slice(1)) {
      const i = kv.indexOf('=')
      if (i > 0) params[kv.slice(0, i).toLowerCase()] = kv.slice(i + 1).replace(/^"|"$/g, '')
    }
    top.props.push({ name, params, values: [unescapeText(value)] })
  }
  return root.comps[0] ?? root
}

// --- fields ----------------------------------------------------------------------------------

const contactOf = (c: Comp, problem: string | undefined): ParsedObject => {
  const n = first(c, 'n')
  const emails = all(c, 'email')
    .map((p) => text(p))
    .filter((e): e is string => e !== undefined)
    .slice(0, MAX_EMAILS)
  const fn = text(first(c, 'fn'))
  const uid = text(first(c, 'uid'))
  const stamp = utcInstant(first(c, 'rev')?.values[0])
  const nText = n === undefined ? undefined : clip(n.values.join(';'))
  return {
    format: 'vcard',
    itemType: 'contact',
    ...(uid !== undefined && { uid }),
    ...(fn !== undefined && { name: fn }),
    fields: {
      ...(emails.length > 0 && { emails }),
      ...(nText !== undefined && nText.replace(/;/g, '').trim() !== '' && { n: nText }),
      ...(problem !== undefined && { problem }),
    },
    ...(stamp !== undefined && { stamp }),
  }
}

const calendarOf = (c: Comp, problem: string | undefined): ParsedObject => {
  const subs = c.comps.filter((x) => x.name === 'vevent' || x.name === 'vtodo' || x.name === 'vjournal')
  // The master is the component without RECURRENCE-ID; exceptions follow it in the same object.
  const main = subs.find((x) => first(x, 'recurrence-id') === undefined) ?? subs[0]
  const itemType = subs.some((x) => x.name === 'vevent') ? 'appointment' : subs.some((x) => x.name === 'vtodo') ? 'task' : 'appointment'
  if (main === undefined) return { format: 'icalendar', itemType, fields: { problem: problem ?? 'no VEVENT, VTODO or VJOURNAL in the object' } }
  const uid = text(first(main, 'uid'))
  const summary = text(first(main, 'summary'))
  const start = first(main, 'dtstart')
  const organizer = first(main, 'organizer')
  const attendees = all(main, 'attendee')
    .map(address)
    .filter((a): a is string => a !== undefined)
    .slice(0, MAX_ATTENDEES)
  const org = organizer === undefined ? undefined : address(organizer)
  const startValue = start?.values[0]
  const stamp = utcInstant(first(main, 'created')?.values[0]) ?? utcInstant(first(main, 'last-modified')?.values[0]) ?? utcInstant(first(main, 'dtstamp')?.values[0])
  return {
    format: 'icalendar',
    itemType,
    ...(uid !== undefined && { uid }),
    ...(summary !== undefined && { name: summary }),
    fields: {
      component: main.name.toUpperCase(),
      ...(startValue !== undefined && startValue !== '' && { start: clip(basicForm(startValue)) }),
      ...(start?.params.tzid !== undefined && { tzid: clip(start.params.tzid) }),
      ...((first(main, 'rrule') !== undefined || first(main, 'rdate') !== undefined) && { recurring: true }),
      ...(org !== undefined && { organizer: org }),
      ...(attendees.length > 0 && { attendees }),
      ...(problem !== undefined && { problem }),
    },
    ...(stamp !== undefined && { stamp }),
  }
}

const unknownOf = (kind: CollectionKind, problem: string): ParsedObject => ({
  format: 'unknown',
  itemType: kind === 'addressbook' ? 'contact' : 'appointment',
  fields: { problem },
})

/**
 * Reads an object of a collection of `kind`. The item type follows the object (a vCard is a
 * contact, an iCalendar object an appointment, or a task when it holds only VTODOs); an object
 * that is neither is typed by its collection.
 */
export const parseDavObject = (bytes: Buffer, kind: CollectionKind): ParsedObject => {
  const s = bytes.toString('utf8')
  let comp: Comp | undefined
  let problem: string | undefined
  try {
    const j = ICAL.parse(s) as unknown
    // Several objects in one resource (not allowed by CardDAV/CalDAV): the first is read.
    const many = Array.isArray(j) && Array.isArray(j[0])
    comp = fromJcal(many ? (j as unknown[])[0] : j)
    if (many) problem = 'more than one object in the resource; the first was read'
  } catch (e) {
    problem = `not a valid vCard or iCalendar object (${clip((e as Error).message)}); fields read leniently`
    comp = tolerant(s)
  }
  if (comp.name === 'vcard') return contactOf(comp, problem)
  if (comp.name === 'vcalendar') return calendarOf(comp, problem)
  return unknownOf(kind, problem ?? `neither a vCard nor an iCalendar object (${comp.name === '' ? 'no BEGIN line' : `BEGIN:${comp.name.toUpperCase()}`})`)
}
