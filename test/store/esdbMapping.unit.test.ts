/**
 * The EventStoreDB event mapping, without a server: for all events, our event → ESDB event data and
 * metadata → the recorded form → our event is the identity; and a recorded event whose type, id or
 * data disagree is a CorruptEvent naming stream and revision.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import type { MailEvent } from '../../domain/events'
import { eventIdOfUuid, fromEsdb, toEsdb, uuidOfEventId } from '../../src/store/esdb/esdbMapping'
import { ev } from '../support/build'
import { historyArb } from '../support/histories'

/** What the server gives back for what we wrote (data goes through JSON on the wire). */
const recorded = (e: MailEvent, revision = 7) => {
  const d = toEsdb(e)
  return { streamId: `account-${e.accountId}`, revision, id: d.id, type: d.type, data: JSON.parse(JSON.stringify(d.data)) as unknown }
}

describe('EventStoreDB event mapping', () => {
  it('round-trips every event of random histories', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        for (const e of h.batches.flat()) expect(fromEsdb(recorded(e))).toEqual(E.right(e))
      }),
      { numRuns: 50 },
    )
  })

  it('writes our event id as a UUID, the type, the canonical JSON, and metadata naming the event', () => {
    const e = ev('ItemCreated', 'a@example.com', 1000, { itemId: 300 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] })
    const d = toEsdb(e)
    expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(eventIdOfUuid(d.id)).toBe(e.eventId)
    expect(uuidOfEventId(e.eventId)).toBe(d.id)
    expect(d.type).toBe('ItemCreated')
    expect(d.data.occurredAt).toBe('1970-01-01T00:00:01.000Z')
    expect(d.metadata).toEqual({ mailtime: { eventId: e.eventId, schemaVersion: e.schemaVersion } })
  })

  it('reports a recorded event that disagrees with itself, naming stream and revision', () => {
    const e = ev('ItemCreated', 'a@example.com', 1000, { itemId: 300 as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] })
    const r = recorded(e, 12)
    const bad = [
      { ...r, type: 'ItemMoved' },
      { ...r, id: uuidOfEventId('f'.repeat(32)) },
      { ...r, data: { ...(r.data as object), occurredAt: 'yesterday' } },
      { ...r, data: 'not an object' },
    ]
    for (const b of bad) {
      const d = fromEsdb(b)
      expect(E.isLeft(d) && d.left).toMatchObject({ _tag: 'CorruptEvent', stream: 'account-a@example.com', revision: 12 })
    }
  })
})
