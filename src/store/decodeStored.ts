/** Decodes the JSON text of a stored event through the catalogue's codec, naming stream and revision on failure. */
import * as E from 'fp-ts/Either'
import { MailEvent } from '../../domain/events'
import { describeErrors } from '../../domain/decode'
import type { StoreError } from '../../projections/errors'

export const decodeStoredEvent = (stream: string, revision: number, text: string): E.Either<StoreError, MailEvent> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left({ _tag: 'CorruptEvent', stream, revision, reason: `not JSON (${(e as Error).message})` })
  }
  const r = MailEvent.decode(json)
  return E.isRight(r) ? r : E.left({ _tag: 'CorruptEvent', stream, revision, reason: describeErrors(r.left) })
}

export { eventJson as encodeEvent } from '../../domain/json'
