/**
 * How a Mailtime event is written to EventStoreDB and read back (pure; no client here):
 *
 *   ESDB event id  our 128-bit `eventId` written as a UUID, so the server's own duplicate check
 *                  sees the same id for the same fact
 *   type           the event's type (`ItemCreated`, …)
 *   data           the event's canonical JSON (the codec's form: instants as ISO-8601 UTC)
 *   metadata       `{ mailtime: { eventId, schemaVersion } }`, for people browsing the server
 *
 * Reading back checks that the type, the id and the data agree, and decodes the data through the
 * catalogue codec, so a hand-edited or foreign event is a `CorruptEvent` naming stream and revision.
 */
import * as E from 'fp-ts/Either'
import type { MailEvent } from '../../../domain/events'
import type { StoreError } from '../../../projections/errors'
import { decodeStoredEvent, encodeEvent } from '../decodeStored'

export interface EsdbEventData {
  readonly id: string
  readonly type: string
  readonly data: Record<string, unknown>
  readonly metadata: { readonly mailtime: { readonly eventId: string; readonly schemaVersion: number } }
}

/** What the adapter reads back: the parts of a recorded ESDB event the mapping needs. */
export interface EsdbRecorded {
  readonly streamId: string
  readonly revision: number
  readonly id: string
  readonly type: string
  readonly data: unknown
}

export const uuidOfEventId = (id: string): string => `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`

export const eventIdOfUuid = (uuid: string): string => uuid.replace(/-/g, '').toLowerCase()

export const toEsdb = (e: MailEvent): EsdbEventData => ({
  id: uuidOfEventId(e.eventId),
  type: e.type,
  data: JSON.parse(encodeEvent(e)) as Record<string, unknown>,
  metadata: { mailtime: { eventId: e.eventId, schemaVersion: e.schemaVersion } },
})

export const fromEsdb = (r: EsdbRecorded): E.Either<StoreError, MailEvent> => {
  const corrupt = (reason: string): E.Either<StoreError, MailEvent> => E.left({ _tag: 'CorruptEvent', stream: r.streamId, revision: r.revision, reason })
  if (typeof r.data !== 'object' || r.data === null) return corrupt('the event data is not a JSON object')
  const d = decodeStoredEvent(r.streamId, r.revision, JSON.stringify(r.data))
  if (E.isLeft(d)) return d
  if (d.right.type !== r.type) return corrupt(`the event type ${r.type} does not match its data (${d.right.type})`)
  if (eventIdOfUuid(r.id) !== d.right.eventId) return corrupt(`the event id ${r.id} does not match its data (${d.right.eventId})`)
  return d
}
