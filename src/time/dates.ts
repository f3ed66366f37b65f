/**
 * Dates as users type them: Carbonio's `dd/MM/yyyy HH:mm:ss`, ISO-8601, and the keywords `first`
 * and `last`. A local time is read in a named zone; one that does not exist (DST gap) or exists
 * twice (DST overlap) is an error that shows both candidates rather than a silent guess.
 */
import * as E from 'fp-ts/Either'
import { DateTime, IANAZone } from 'luxon'
import { type Instant, instant } from '../../domain/instant'

export type DateSpec = { readonly kind: 'first' } | { readonly kind: 'last' } | { readonly kind: 'at'; readonly at: Instant }

export type DateError =
  | { readonly _tag: 'BadDate'; readonly input: string; readonly reason: string }
  | { readonly _tag: 'BadZone'; readonly zone: string }
  | { readonly _tag: 'NonexistentLocalTime'; readonly input: string; readonly zone: string; readonly candidates: [string, string] }
  | { readonly _tag: 'AmbiguousLocalTime'; readonly input: string; readonly zone: string; readonly candidates: [string, string] }

export const describeDateError = (e: DateError): string => {
  switch (e._tag) {
    case 'BadDate':
      return `bad date ${JSON.stringify(e.input)}: ${e.reason}. Use "dd/MM/yyyy HH:mm:ss", ISO-8601 (2026-03-03T14:02:00+01:00), first or last`
    case 'BadZone':
      return `unknown time zone ${JSON.stringify(e.zone)} (use an IANA name such as Europe/Rome or UTC)`
    case 'NonexistentLocalTime':
      return `${JSON.stringify(e.input)} does not exist in ${e.zone} (the clocks skip it at a DST change); did you mean ${e.candidates[0]} or ${e.candidates[1]}? Give an explicit offset in ISO-8601`
    case 'AmbiguousLocalTime':
      return `${JSON.stringify(e.input)} happens twice in ${e.zone} (the clocks repeat it at a DST change): ${e.candidates[0]} or ${e.candidates[1]}? Give an explicit offset in ISO-8601`
  }
}

const LOCAL_FORMATS = ['dd/MM/yyyy HH:mm:ss', 'dd/MM/yyyy HH:mm', 'dd/MM/yyyy'] as const
const ISO_LOCAL = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?)?$/
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/

export const validZone = (zone: string): E.Either<DateError, string> => (IANAZone.isValidZone(zone) || zone === 'UTC' ? E.right(zone) : E.left({ _tag: 'BadZone', zone }))

const withOffset = (dt: DateTime): string => dt.toFormat("yyyy-MM-dd'T'HH:mm:ssZZ")

const RANGES: Readonly<Record<string, string>> = { month: '01–12', hour: '00–23', minute: '00–59', second: '00–59', millisecond: '000–999' }

/**
 * Why a date read as valid digits is not a date, in plain words (`hour 25 is out of range
 * (00–23)`), rather than Luxon's "you specified 25 (of type number) as a hour, which is invalid".
 */
const whyInvalid = (dt: DateTime, otherwise = 'invalid'): string => {
  const m = /you specified (\S+) \(of type \w+\) as an? (\w+), which is invalid/.exec(dt.invalidExplanation ?? '')
  if (m === null) return dt.invalidExplanation ?? otherwise
  const [, value = '', unit = ''] = m
  if (unit === 'day') return `day ${value} does not exist in that month`
  const range = RANGES[unit]
  return range === undefined ? `${unit} ${value} is out of range` : `${unit} ${value} is out of range (${range})`
}

/** Checks a local reading for DST gaps and overlaps. */
const checkLocal = (input: string, dt: DateTime, fmt: string, canonical: string, zone: string): E.Either<DateError, Instant> => {
  if (!dt.isValid) return E.left({ _tag: 'BadDate', input, reason: whyInvalid(dt) })
  if (dt.toFormat(fmt) !== canonical) {
    // Luxon moved the time forward out of the gap; the candidates are the same wall-clock time
    // read with the offsets in force just before and just after the change.
    const before = dt.minus({ hours: 6 }).offset
    const after = dt.plus({ hours: 6 }).offset
    const wall = DateTime.fromFormat(canonical, fmt, { zone: 'UTC' })
    const a = wall.minus({ minutes: before }).setZone(zone)
    const b = wall.minus({ minutes: after }).setZone(zone)
    return E.left({ _tag: 'NonexistentLocalTime', input, zone, candidates: [withOffset(b), withOffset(a)] })
  }
  const offsets = dt.getPossibleOffsets()
  if (offsets.length > 1) {
    const [x, y] = offsets.map(withOffset)
    return E.left({ _tag: 'AmbiguousLocalTime', input, zone, candidates: [x ?? '', y ?? ''] })
  }
  return E.right(instant(dt.toMillis()))
}

/** Parses one date as given on the command line, in `zone` unless it carries its own offset. */
export const parseDate = (raw: string, zone: string): E.Either<DateError, DateSpec> => {
  const input = raw.trim()
  const z = validZone(zone)
  if (E.isLeft(z)) return z
  const lower = input.toLowerCase()
  if (lower === 'first') return E.right({ kind: 'first' })
  if (lower === 'last') return E.right({ kind: 'last' })
  if (ISO_WITH_OFFSET.test(input)) {
    const dt = DateTime.fromISO(input, { setZone: true })
    return dt.isValid ? E.right({ kind: 'at', at: instant(dt.toMillis()) }) : E.left({ _tag: 'BadDate', input, reason: whyInvalid(dt, 'invalid ISO-8601') })
  }
  if (ISO_LOCAL.test(input)) {
    const dt = DateTime.fromISO(input, { zone })
    if (!dt.isValid) return E.left({ _tag: 'BadDate', input, reason: whyInvalid(dt, 'invalid ISO-8601') })
    const fmt = input.includes('T') ? (input.length > 16 ? "yyyy-MM-dd'T'HH:mm:ss" : "yyyy-MM-dd'T'HH:mm") : 'yyyy-MM-dd'
    const canonical = input.replace(/\.\d+$/, '')
    return E.map((at: Instant): DateSpec => ({ kind: 'at', at }))(checkLocal(input, dt, fmt, canonical, zone))
  }
  for (const fmt of LOCAL_FORMATS) {
    const dt = DateTime.fromFormat(input, fmt, { zone })
    if (dt.isValid || dt.invalidReason !== 'unparsable') {
      return E.map((at: Instant): DateSpec => ({ kind: 'at', at }))(checkLocal(input, dt, fmt, input, zone))
    }
  }
  return E.left({ _tag: 'BadDate', input, reason: 'unrecognised format' })
}

/** Formats an instant for people: `03/03/2026 14:02:00 +01:00`, in the chosen zone. */
export const formatInstant = (i: number, zone: string): string => DateTime.fromMillis(i, { zone }).toFormat('dd/MM/yyyy HH:mm:ss ZZ')

/** Formats an instant for scripts: ISO-8601 with the zone's offset. */
export const isoInZone = (i: number, zone: string): string => DateTime.fromMillis(i, { zone }).toISO() ?? new Date(i).toISOString()

export const systemZone = (): string => DateTime.local().zoneName ?? 'UTC'
