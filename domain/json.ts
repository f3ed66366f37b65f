/**
 * Fast JSON text for events, equal to what the catalogue codec's `encode` gives (instants as
 * ISO-8601 UTC strings), without walking the codec on the append path. A property test checks the
 * equality for random events.
 */
import type { MailEvent } from './events'

const iso = (n: number | undefined): string | undefined => (n === undefined ? undefined : new Date(n).toISOString())

export const eventJson = (e: MailEvent): string => {
  const o: Record<string, unknown> = { ...e, occurredAt: iso(e.occurredAt), recordedAt: iso(e.recordedAt) }
  if (e.occurredWindow !== undefined) o.occurredWindow = { from: iso(e.occurredWindow.from), to: iso(e.occurredWindow.to) }
  if ('internalDate' in e && e.internalDate !== undefined) o.internalDate = iso(e.internalDate)
  return JSON.stringify(o)
}
