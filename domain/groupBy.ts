/** Groups values by a key, keeping their order within each group (linear: one push per value). */
export const groupBy = <K, V>(xs: Iterable<V>, key: (v: V) => K): Map<K, V[]> => {
  const out = new Map<K, V[]>()
  for (const x of xs) {
    const k = key(x)
    const g = out.get(k)
    if (g === undefined) out.set(k, [x])
    else g.push(x)
  }
  return out
}
