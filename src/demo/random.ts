/** A small seeded PRNG (mulberry32), so the demo history is the same on every machine. */
export interface Rng {
  next(): number
  int(min: number, max: number): number
  pick<A>(xs: readonly A[]): A
  chance(p: number): boolean
}

export const rng = (seed: number): Rng => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as never,
    chance: (p) => next() < p,
  }
}
