/** Decodes the JSON text of a stored event (`domain/decodeEvent.ts`), naming stream and revision on failure. */
import * as E from 'fp-ts/Either'
import type { MailEvent } from '../../domain/events'
import { decodeMailEvent } from '../../domain/decodeEvent'
import type { StoreError } from '../../projections/errors'

export const decodeStoredEvent = (stream: string, revision: number, text: string): E.Either<StoreError, MailEvent> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left({ _tag: 'CorruptEvent', stream, revision, reason: `not JSON (${(e as Error).message})` })
  }
  const r = decodeMailEvent(json)
  return E.isRight(r) ? r : E.left({ _tag: 'CorruptEvent', stream, revision, reason: r.left })
}

export { eventJson as encodeEvent } from '../../domain/json'
