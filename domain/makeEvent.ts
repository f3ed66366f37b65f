/**
 * Builds events with their envelope. The event id is derived from the provenance (how and where
 * the fact was read), the event type and the item, so the same source position always yields the
 * same id, and one source line that yields several events (a batch delete) yields distinct ids.
 */
import type { AccountId } from './ids'
import type { Instant } from './instant'
import { eventIdOf } from './eventId'
import { type EventType, type MailEvent, type ObservedVia, type OccurredWindow, type SourcePosition, SCHEMA_VERSION } from './events'

export interface Provenance {
  readonly accountId: AccountId
  readonly observedVia: ObservedVia
  readonly source: SourcePosition
  readonly recordedAt: Instant
  readonly occurredWindow?: OccurredWindow
  readonly by?: string
}

type EnvelopeKeys = 'schemaVersion' | 'eventId' | 'accountId' | 'occurredAt' | 'recordedAt' | 'observedVia' | 'source' | 'occurredWindow' | 'by' | 'type'
export type EventOf<T extends EventType> = Extract<MailEvent, { type: T }>
export type Payload<T extends EventType> = Omit<EventOf<T>, EnvelopeKeys>

// A file's display name is left out of the id, so a renamed or rotated copy of a log yields the same ids.
const stableSource = (s: SourcePosition): string =>
  JSON.stringify(
    Object.keys(s)
      .filter((k) => k !== 'name')
      .sort()
      .map((k) => [k, (s as Record<string, unknown>)[k]]),
  )

export const makeEvent = <T extends EventType>(type: T, p: Provenance, occurredAt: Instant, payload: Payload<T>): EventOf<T> => {
  const itemId = (payload as { itemId?: number }).itemId
  const e = {
    schemaVersion: SCHEMA_VERSION,
    type,
    eventId: eventIdOf(p.accountId, p.observedVia, stableSource(p.source), type, itemId),
    accountId: p.accountId,
    occurredAt,
    recordedAt: p.recordedAt,
    observedVia: p.observedVia,
    source: p.source,
    ...(p.occurredWindow !== undefined && { occurredWindow: p.occurredWindow }),
    ...(p.by !== undefined && { by: p.by }),
    ...payload,
  }
  return e as unknown as EventOf<T>
}
