/**
 * Activity buckets: for any changes and window, every change inside the window is counted once, in
 * the bucket that holds its instant, and the buckets tile the window without gaps, in zones with
 * DST and half-hour offsets.
 */
import fc from 'fast-check'
import { DateTime } from 'luxon'
import type { EventType } from '../../domain/events'
import { type Boundaries, activity } from '../../projections/activity'

const zoned = (unit: 'hour' | 'day', zone: string): Boundaries => ({
  floor: (ms) => DateTime.fromMillis(ms, { zone }).startOf(unit).toMillis(),
  next: (s) =>
    DateTime.fromMillis(s, { zone })
      .plus({ [unit]: 1 })
      .startOf(unit)
      .toMillis(),
})

const CAUSES: EventType[] = ['ItemCreated', 'ItemDeleted', 'ItemMoved', 'ItemFlagsChanged', 'ItemTagsChanged', 'ItemPurged', 'ItemRenamed', 'ItemContentChanged']
const T0 = Date.parse('2026-03-20T00:00:00Z') // ten days before Europe's spring DST change
const SPAN = 20 * 86_400_000

describe('activity', () => {
  it('counts each change in the window once, in the bucket holding it, and the buckets tile the window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ validFrom: fc.integer({ min: T0, max: T0 + SPAN }), cause: fc.constantFrom(...CAUSES) }), { maxLength: 200 }),
        fc.integer({ min: T0, max: T0 + SPAN }),
        fc.integer({ min: 0, max: SPAN }),
        fc.constantFrom('hour' as const, 'day' as const),
        fc.constantFrom('UTC', 'Europe/Rome', 'Asia/Kolkata', 'America/St_Johns'),
        (changes, from, len, unit, zone) => {
          const window = { from, to: from + len }
          const buckets = activity(changes, window, zoned(unit, zone), 100_000)
          if (buckets === undefined) throw new Error('no buckets')
          const inside = changes.filter((c) => c.validFrom >= window.from && c.validFrom <= window.to)
          expect(buckets.reduce((n, b) => n + b.changes, 0)).toBe(inside.length)
          expect(buckets.reduce((n, b) => n + b.deleted, 0)).toBe(inside.filter((c) => c.cause === 'ItemDeleted').length)
          expect(buckets.reduce((n, b) => n + b.flagged, 0)).toBe(inside.filter((c) => c.cause === 'ItemFlagsChanged' || c.cause === 'ItemTagsChanged').length)
          for (const c of inside) {
            const holders = buckets.filter((b) => b.start <= c.validFrom && c.validFrom < b.end)
            expect(holders).toHaveLength(1)
          }
          expect(buckets[0]?.start).toBeLessThanOrEqual(window.from)
          expect(buckets[buckets.length - 1]?.end).toBeGreaterThan(window.to)
          buckets.slice(1).forEach((b, i) => expect(b.start).toBe(buckets[i]?.end))
        },
      ),
      { numRuns: 100 },
    )
  })

  it('gives the day of a DST change its real length, and stops at the bucket limit', () => {
    const b = zoned('day', 'Europe/Rome')
    const days = activity([], { from: Date.parse('2026-03-28T12:00:00Z'), to: Date.parse('2026-03-30T12:00:00Z') }, b, 10)
    expect(days?.map((d) => (d.end - d.start) / 3_600_000)).toEqual([24, 23, 24])
    expect(activity([], { from: T0, to: T0 + 86_400_000 }, zoned('hour', 'UTC'), 24)).toBeUndefined()
    expect(activity([], { from: T0, to: T0 + 86_400_000 - 1 }, zoned('hour', 'UTC'), 24)).toHaveLength(24)
  })
})
