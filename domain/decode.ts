/**
 * Turns io-ts validation errors into short, path-first messages
 * (`data.uid: expected number, got "x"`), for error reports at the edges.
 */
import type * as t from 'io-ts'

export const describeErrors = (errs: t.Errors, limit = 3): string => {
  const lines = errs.map((e) => {
    const path = e.context
      .map((c) => c.key)
      .filter((k) => k !== '' && !/^\d+$/.test(k))
      .join('.')
    const expected = e.context[e.context.length - 1]?.type.name ?? 'unknown'
    const got = JSON.stringify(e.value)
    return e.message ?? `${path || '<root>'}: expected ${expected}, got ${got === undefined ? 'undefined' : got.slice(0, 80)}`
  })
  const unique = [...new Set(lines)]
  return unique.slice(0, limit).join('; ') + (unique.length > limit ? ` (and ${unique.length - limit} more)` : '')
}
