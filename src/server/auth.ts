/** The API token check: `Authorization: Bearer <token>`, compared in constant time. */
import { createHash, timingSafeEqual } from 'crypto'

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/**
 * Whether the header carries the token. Both sides are hashed first, so the comparison takes the
 * same time whatever the length or the first differing byte of what was sent.
 */
export const bearerMatches = (header: string | undefined, token: string): boolean => {
  const m = /^Bearer (.+)$/.exec(header ?? '')
  const sent = m?.[1] ?? ''
  return timingSafeEqual(digest(sent), digest(token)) && m !== null
}
