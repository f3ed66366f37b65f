import fc from 'fast-check'
import { MAX_INSTANT } from '../../domain/instant'
import { forkNode, stabbingPlan, upperOf } from '../../projections/intervalTree'

const point = fc.oneof(fc.integer({ min: 0, max: MAX_INSTANT }), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }))

describe('relational interval tree', () => {
  it('files every non-empty interval under a node inside it', () => {
    fc.assert(
      fc.property(point, point, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        const f = forkNode(Math.max(lo, 1), hi)
        expect(f >= Math.max(lo, 1) && f <= hi).toBe(true)
      }),
    )
  })

  it('finds an interval exactly when it contains the point', () => {
    fc.assert(
      fc.property(point, fc.option(point, { nil: null }), point, (from, to, p) => {
        const validTo = to === null ? null : Math.max(to, from)
        const lower = from
        const upper = upperOf(validTo)
        const fork = forkNode(lower, upper)
        const plan = stabbingPlan(p)
        const found =
          (plan.leftNodes.includes(fork) && upper >= p && lower <= p && (validTo === null || validTo > p)) ||
          (plan.rightNodes.includes(fork) && lower <= p && (validTo === null || validTo > p))
        const contains = from <= p && (validTo === null || validTo > p)
        expect(found).toBe(contains)
      }),
      { numRuns: 2000 },
    )
  })

  it('visits at most one node per tree level', () => {
    const plan = stabbingPlan(1_767_225_600_000)
    expect(plan.leftNodes.length + plan.rightNodes.length).toBeLessThanOrEqual(44)
  })
})
