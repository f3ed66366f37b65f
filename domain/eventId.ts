/**
 * Deterministic event ids. An id is derived from the source position of the fact and what the
 * fact says, so re-reading the same source produces the same ids and the store appends nothing new.
 */
import { createHash } from 'crypto'
import type { EventId } from './ids'

export const eventIdOf = (...parts: ReadonlyArray<string | number | undefined>): EventId =>
  createHash('sha256')
    .update(parts.map((p) => (p === undefined ? '\u0000' : String(p))).join('\u001f'))
    .digest('hex')
    .slice(0, 32) as EventId
