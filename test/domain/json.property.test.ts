/** The fast encoders agree with the io-ts codecs for all events, and stored states round-trip. */
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { MailEvent } from '../../domain/events'
import { eventJson } from '../../domain/json'
import { StoredItemState, stateText } from '../../domain/stateText'
import { ItemState } from '../../domain/state'
import { itemVersions } from '../../projections/versions'
import { isItemEvent } from '../../domain/events'
import { historyArb } from '../support/histories'

const sortKeys = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(sortKeys)
    : v !== null && typeof v === 'object'
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
        )
      : v

describe('fast JSON encoders', () => {
  it('encode every event and every state as the codecs do, and decode back to the same value', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const events = h.batches.flat()
        for (const e of events) {
          expect(sortKeys(JSON.parse(eventJson(e)))).toEqual(sortKeys(MailEvent.encode(e)))
          expect(MailEvent.decode(JSON.parse(eventJson(e)))).toEqual(E.right(e))
        }
        const items = events.filter(isItemEvent).map((event, revision) => ({ event, revision }))
        for (const v of itemVersions(items)) {
          // The compact stored form round-trips, and its decoder agrees with the full codec.
          expect(StoredItemState.decode(JSON.parse(stateText(v.state)))).toEqual(E.right(v.state))
          expect(ItemState.decode(ItemState.encode(v.state))).toEqual(E.right(v.state))
        }
      }),
      { numRuns: 100 },
    )
  })
})
