import * as E from 'fp-ts/Either'
import { describeDateError, formatInstant, parseDate } from '../../src/time/dates'

const at = (raw: string, zone: string) => {
  const r = parseDate(raw, zone)
  if (E.isLeft(r)) throw new Error(describeDateError(r.left))
  if (r.right.kind !== 'at') throw new Error(r.right.kind)
  return new Date(r.right.at).toISOString()
}
const err = (raw: string, zone: string) => {
  const r = parseDate(raw, zone)
  if (E.isRight(r)) throw new Error(`parsed ${raw}`)
  return r.left
}

describe('dates on the command line', () => {
  it.each([
    ['03/03/2026 14:02:00', 'Europe/Rome', '2026-03-03T13:02:00.000Z'],
    ['03/03/2026 14:02', 'Europe/Rome', '2026-03-03T13:02:00.000Z'],
    ['03/03/2026', 'UTC', '2026-03-03T00:00:00.000Z'],
    ['2026-03-03T14:02:00', 'America/New_York', '2026-03-03T19:02:00.000Z'],
    ['2026-03-03T14:02:00+01:00', 'America/New_York', '2026-03-03T13:02:00.000Z'],
    ['2026-03-03T14:02:00Z', 'Europe/Rome', '2026-03-03T14:02:00.000Z'],
    ['29/02/2024 12:00:00', 'UTC', '2024-02-29T12:00:00.000Z'],
  ])('%s in %s is %s', (raw, zone, iso) => {
    expect(at(raw, zone)).toBe(iso)
  })

  it('accepts the keywords first and last in any case', () => {
    expect(parseDate('FIRST', 'UTC')).toEqual(E.right({ kind: 'first' }))
    expect(parseDate('last', 'UTC')).toEqual(E.right({ kind: 'last' }))
  })

  it('rejects 29 February in a year that has none, and impossible times', () => {
    expect(err('29/02/2025 12:00:00', 'UTC')._tag).toBe('BadDate')
    expect(err('03/03/2026 25:00:00', 'UTC')._tag).toBe('BadDate')
    expect(err('yesterday', 'UTC')._tag).toBe('BadDate')
  })

  it('refuses a local time inside the spring-forward gap, showing both candidates', () => {
    const e = err('29/03/2026 02:30:00', 'Europe/Rome')
    expect(e).toEqual({
      _tag: 'NonexistentLocalTime',
      input: '29/03/2026 02:30:00',
      zone: 'Europe/Rome',
      candidates: ['2026-03-29T01:30:00+01:00', '2026-03-29T03:30:00+02:00'],
    })
    expect(describeDateError(e)).toContain('does not exist in Europe/Rome')
  })

  it('refuses a local time inside the fall-back overlap, showing both instants', () => {
    const e = err('25/10/2026 02:30:00', 'Europe/Rome')
    expect(e).toEqual({
      _tag: 'AmbiguousLocalTime',
      input: '25/10/2026 02:30:00',
      zone: 'Europe/Rome',
      candidates: ['2026-10-25T02:30:00+02:00', '2026-10-25T02:30:00+01:00'],
    })
  })

  it('accepts an explicit offset inside an overlap', () => {
    expect(at('2026-10-25T02:30:00+01:00', 'Europe/Rome')).toBe('2026-10-25T01:30:00.000Z')
  })

  it('names an unknown zone', () => {
    expect(err('03/03/2026', 'Mars/Olympus')).toEqual({ _tag: 'BadZone', zone: 'Mars/Olympus' })
  })

  it('formats instants in the chosen zone', () => {
    expect(formatInstant(Date.parse('2026-03-03T13:02:00Z'), 'Europe/Rome')).toBe('03/03/2026 14:02:00 +01:00')
  })
})
