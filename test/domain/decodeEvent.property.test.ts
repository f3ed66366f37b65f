/**
 * The fast event decoder against the catalogue codec: for all events of random histories it takes
 * the fast path and gives the codec's value; for damaged events (a field removed, replaced by any
 * JSON value, or added; also inside nested objects) it accepts only what the codec accepts, with
 * the same value, and otherwise gives the codec's own message.
 */
import fc from 'fast-check'
import * as E from 'fp-ts/Either'
import { decodeFast, decodeMailEvent } from '../../domain/decodeEvent'
import { describeErrors } from '../../domain/decode'
import { MailEvent } from '../../domain/events'
import { eventJson } from '../../domain/json'
import { historyArb } from '../support/histories'

type Json = Record<string, unknown>

const codec = (u: unknown) => {
  const r = MailEvent.decode(u)
  return E.isRight(r) ? E.right(r.right) : E.left(describeErrors(r.left))
}

/** Replaces, removes or adds one key, at the top or inside one nested object. */
const damage = (o: Json, pick: number, action: number, value: unknown, nested: boolean): unknown => {
  const copy: Json = JSON.parse(JSON.stringify(o))
  const objects = nested ? Object.values(copy).filter((v): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)) : []
  const target = objects.length > 0 ? (objects[pick % objects.length] as Json) : copy
  const keys = Object.keys(target)
  const key = action === 2 || keys.length === 0 ? (['extra', 'itemId', 'type', 'size', 'from', 'kind', 'internalDate'][pick % 7] as string) : (keys[pick % keys.length] as string)
  if (action === 0) delete target[key]
  else target[key] = value
  return copy
}

describe('fast event decoding', () => {
  it('takes the fast path for every valid event and gives the codec value', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        for (const e of h.batches.flat()) {
          const json = JSON.parse(eventJson(e)) as unknown
          expect(decodeFast(json)).toEqual(e)
          expect(decodeMailEvent(json)).toEqual(codec(json))
        }
      }),
      { numRuns: 100 },
    )
  })

  it('accepts a damaged event only when the codec does, with the same value or message', () => {
    const values = fc.oneof(
      fc.jsonValue(),
      fc.constantFrom('2026-03-03T14:02:00Z', '2026-13-03T14:02:00Z', '\\Seen', 'message', 0, -1, 1.5, 2 ** 53, 'ItemMoved', 'AccountDeleted', null, [], {}),
    )
    fc.assert(
      fc.property(historyArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 2 }), values, fc.boolean(), (h, which, pick, action, value, nested) => {
        const events = h.batches.flat()
        const e = events[which % events.length]
        if (e === undefined) return
        const damaged = damage(JSON.parse(eventJson(e)) as Json, pick, action, value, nested)
        const fast = decodeFast(damaged)
        const slow = codec(damaged)
        if (fast !== undefined) expect(E.right(fast)).toEqual(slow)
        expect(decodeMailEvent(damaged)).toEqual(slow)
      }),
      { numRuns: 3000 },
    )
  })

  it('refuses what is not an event object, with the codec message', () => {
    for (const u of [null, 1, 'x', [], {}, { type: 'Nope' }, { type: 'toString' }]) expect(decodeMailEvent(u)).toEqual(codec(u))
  })
})
