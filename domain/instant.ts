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

export const Instant = t.brand(
  t.number,
  (n): n is t.Branded<number, InstantBrand> => Number.isInteger(n) && n >= 0 && n <= MAX_INSTANT,
  'Instant',
)
export type Instant = t.TypeOf<typeof Instant>

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

/** The instant an ISO-8601 UTC string names, or undefined if it is not one or is out of range. */
export const instantOfIso = (s: string): Instant | undefined => {
  if (!ISO_UTC.test(s)) return undefined
  const ms = Date.parse(s)
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
