/**
 * An instant on the time line, as integer milliseconds since the Unix epoch (UTC).
 * Events and stores carry instants as ISO-8601 UTC strings; in memory they are numbers,
 * so ordering and interval arithmetic are plain comparisons.
 */
import * as t from 'io-ts'

interface InstantBrand {
  readonly Instant: unique symbol
}

/** 2^43 ms is the year 2248: the upper bound of the temporal index's interval tree. */
export const MAX_INSTANT = 2 ** 43 - 1

export const Instant = t.brand(t.number, (n): n is t.Branded<number, InstantBrand> => Number.isInteger(n) && n >= 0 && n <= MAX_INSTANT, 'Instant')
export type Instant = t.TypeOf<typeof Instant>

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

/** Two decimal digits at `i`, or -1. */
const twoDigits = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

const daysIn = (year: number, month: number): number =>
  month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31

/**
 * The canonical form every store writes (`toISOString`: `2026-03-03T14:02:00.000Z`) read from its
 * characters, or undefined for anything else, which then goes to `Date.parse`: an export decodes
 * three instants per event, and the regular expression and `Date.parse` were a fifth of its
 * decoding. Only fields that `Date.parse` reads the same way are taken (a year from 1970, a real
 * day of the month, no hour 24 and no leap second); a property test holds the two to the same
 * result.
 */
const canonicalInstant = (s: string): number | undefined => {
  if (s.length !== 24 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(10) !== 84 || s.charCodeAt(13) !== 58) return undefined
  if (s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return undefined
  const c = twoDigits(s, 0)
  const y = twoDigits(s, 2)
  const mo = twoDigits(s, 5)
  const d = twoDigits(s, 8)
  const h = twoDigits(s, 11)
  const mi = twoDigits(s, 14)
  const sec = twoDigits(s, 17)
  const ms10 = twoDigits(s, 20)
  const ms1 = s.charCodeAt(22) - 48
  if (c < 19 || y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms10 < 0 || ms1 < 0 || ms1 > 9) return undefined
  const year = c * 100 + y
  if (year < 1970 || d > daysIn(year, mo)) return undefined
  return Date.UTC(year, mo - 1, d, h, mi, sec, ms10 * 10 + ms1)
}

/** The instant an ISO-8601 UTC string names, or undefined if it is not one or is out of range. */
export const instantOfIso = (s: string): Instant | undefined => {
  const ms = canonicalInstant(s) ?? (ISO_UTC.test(s) ? Date.parse(s) : NaN)
  return Instant.is(ms) ? ms : undefined
}

/** Decodes `2026-03-03T14:02:00.000Z` into an Instant and encodes it back in the same canonical form. */
export const InstantFromISO = new t.Type<Instant, string, unknown>(
  'InstantFromISO',
  Instant.is,
  (u, c) => {
    if (typeof u !== 'string' || !ISO_UTC.test(u)) return t.failure(u, c, `expected an ISO-8601 UTC instant, got ${JSON.stringify(u)}`)
    const ms = instantOfIso(u)
    return ms !== undefined ? t.success(ms) : t.failure(u, c, `instant out of range: ${u}`)
  },
  (i) => new Date(i).toISOString(),
)

/** Smart constructor for values computed in trusted code (clocks, arithmetic on instants). */
export const instant = (ms: number): Instant => {
  const clamped = Math.min(Math.max(Math.trunc(ms), 0), MAX_INSTANT)
  return clamped as Instant
}
