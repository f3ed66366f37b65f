/** Adapts an event store to the replay's input: one account's whole stream as recorded events. */
import * as TE from 'fp-ts/TaskEither'
import { pipe } from 'fp-ts/function'
import { streamOfAccount } from '../../domain/ids'
import type { ReadAccount } from '../../projections/replay'
import type { EventStore } from './eventStore'

export const streamReader =
  (store: EventStore): ReadAccount =>
  (account) =>
    pipe(
      store.readStream(streamOfAccount(account)),
      TE.map((xs) => xs.map((s) => ({ event: s.event, revision: s.revision }))),
    )
