/**
 * Feed positions kept as event-store checkpoints (`CheckpointPort` on an `EventStore`): the same
 * table the capture's own checkpoints live in, in SQLite or PostgreSQL.
 */
import * as TE from 'fp-ts/TaskEither'
import { pipe } from 'fp-ts/function'
import type { EventStore } from '../../store/eventStore'
import type { CheckpointPort } from './spoolFollower'

/**
 * The stream an empty append names to write a checkpoint alone (the port writes checkpoints only
 * with an append). It holds no events; PostgreSQL lists it as an empty stream.
 */
export const FEEDS_STREAM = 'feeds'

export const storeCheckpoints = (store: EventStore): CheckpointPort => ({
  read: (name) => store.readCheckpoint(name),
  write: (name, value) =>
    pipe(
      store.appendToStream(FEEDS_STREAM, [], { checkpoint: { name, value } }),
      TE.map(() => undefined),
    ),
})
