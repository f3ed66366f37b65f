/**
 * Choosing items without holding all of them: a bottom-k sample (the k item ids whose salted hash is
 * smallest) is a uniform random sample of the distinct items of a stream read once, in O(k) memory,
 * whatever the stream's length and however often each item appears. The same hash splits all items
 * into partitions for a full comparison done in several passes.
 */

/** A 32-bit mix of an item id with a salt (murmur3's finaliser): equal inputs give equal outputs. */
export const itemHash = (itemId: number, salt: number): number => {
  let h = (Math.imul(itemId | 0, 0x9e3779b1) ^ salt ^ Math.floor(itemId / 2 ** 32)) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35) >>> 0
  h ^= h >>> 16
  return h >>> 0
}

export interface BottomK {
  offer(itemId: number): void
  /** The chosen item ids (at most k; every item when there are no more than k). */
  chosen(): Set<number>
}

export const bottomK = (k: number, salt: number): BottomK => {
  // Candidates by hash; trimmed back to the k smallest when twice as many, so offers stay O(1) amortised.
  let kept = new Map<number, number>()
  let threshold = Number.POSITIVE_INFINITY
  const trim = () => {
    const best = [...kept.entries()].sort((a, b) => a[1] - b[1] || a[0] - b[0]).slice(0, k)
    kept = new Map(best)
    const last = best[best.length - 1]
    if (best.length === k && last !== undefined) threshold = last[1]
  }
  return {
    offer: (itemId) => {
      if (k <= 0 || kept.has(itemId)) return
      const h = itemHash(itemId, salt)
      if (h > threshold) return
      kept.set(itemId, h)
      if (kept.size >= 2 * k) trim()
    },
    chosen: () => {
      if (kept.size > k) trim()
      return new Set(kept.keys())
    },
  }
}

/** Which of `n` partitions an item falls in (stable for a salt). */
export const partitionOf = (itemId: number, salt: number, n: number): number => itemHash(itemId, salt) % n
