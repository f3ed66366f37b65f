/**
 * `instantOfIso` reads the canonical form from its characters and leaves everything else to
 * `Date.parse`: for all strings of the canonical shape (any digits, so impossible months, days,
 * hours and years too), of the other accepted shapes, and of damaged ones, it gives what the
 * regular expression and `Date.parse` alone give.
 */
import fc from 'fast-check'
import { Instant, instantOfIso } from '../../domain/instant'

const byParse = (s: string): number | undefined => {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(s)) return undefined
  const ms = Date.parse(s)
  return Instant.is(ms) ? ms : undefined
}

const digits = (n: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: n, maxLength: n }).map((d) => d.join(''))
/** A digit string of n places, mostly in [lo, hi] and sometimes anything. */
const field = (n: number, lo: number, hi: number) =>
  fc.oneof(
    fc.integer({ min: lo, max: hi }).map((v) => String(v).padStart(n, '0')),
    digits(n),
  )

const canonical = fc
  .tuple(field(4, 1960, 2300), field(2, 0, 13), field(2, 0, 32), field(2, 0, 24), field(2, 0, 60), field(2, 0, 60), digits(3))
  .map(([y, mo, d, h, mi, s, ms]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`)

describe('instantOfIso', () => {
  it('gives what Date.parse gives for every string of the canonical shape', () => {
    fc.assert(
      fc.property(canonical, (s) => expect(instantOfIso(s)).toBe(byParse(s))),
      { numRuns: 20_000 },
    )
  })

  it('gives what Date.parse gives for instants written by toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 2 ** 43 + 1000 }), (ms) => {
        const s = new Date(ms).toISOString()
        expect(instantOfIso(s)).toBe(byParse(s))
      }),
      { numRuns: 5_000 },
    )
  })

  it('gives what Date.parse gives for the other shapes and for damaged strings', () => {
    const other = fc.oneof(
      canonical.map((s) => s.replace(/\.\d{3}Z$/, 'Z')),
      canonical.map((s) => s.replace(/(\.\d)\d\dZ$/, '$1Z')),
      fc.tuple(canonical, fc.nat(23), fc.string({ minLength: 1, maxLength: 1 })).map(([s, i, c]) => s.slice(0, i) + c + s.slice(i + 1)),
      fc.tuple(canonical, fc.nat(24)).map(([s, i]) => s.slice(0, i) + s.slice(i + 1)),
      fc.string(),
    )
    fc.assert(
      fc.property(other, (s) => expect(instantOfIso(s)).toBe(byParse(s))),
      { numRuns: 20_000 },
    )
  })

  it('reads leap days, month ends and the bounds as Date.parse does', () => {
    for (const s of [
      '2024-02-29T00:00:00.000Z',
      '2026-02-29T00:00:00.000Z',
      '2100-02-29T12:00:00.000Z',
      '2000-02-29T23:59:59.999Z',
      '2026-04-31T00:00:00.000Z',
      '1970-01-01T00:00:00.000Z',
      '1969-12-31T23:59:59.999Z',
      '2026-01-01T24:00:00.000Z',
      '2248-09-26T15:10:22.207Z',
      '2248-09-26T15:10:22.208Z',
    ])
      expect([s, instantOfIso(s)]).toEqual([s, byParse(s)])
  })
})
