/**
 * Deterministic JSON: object keys sorted at every level, `undefined` dropped, so two stores that
 * hold the same events print the same bytes for the same query.
 */
const sortKeys = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v !== null && typeof v === 'object') {
    // Objects that say how they are JSON (a view's items, whose state is a getter) say it here too.
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return sortKeys((v as { toJSON: () => unknown }).toJSON())
    const o = v as Record<string, unknown>
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    )
  }
  return v
}

export const stableStringify = (v: unknown, indent = 2): string => JSON.stringify(sortKeys(v), null, indent)
