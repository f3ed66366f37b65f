/**
 * The order in which events take effect: by valid time, then by the time Mailtime learned them,
 * then by stream revision. Late facts (an old log line read after a scan) therefore slot into
 * the past where they belong.
 */
import type { MailEvent } from '../domain/events'

/** An event with its position in its account stream. */
export interface RecordedEvent<E extends MailEvent = MailEvent> {
  readonly event: E
  readonly revision: number
}

export const compareRecorded = (a: RecordedEvent, b: RecordedEvent): number =>
  a.event.occurredAt - b.event.occurredAt || a.event.recordedAt - b.event.recordedAt || a.revision - b.revision

export const sortRecorded = <E extends MailEvent>(xs: readonly RecordedEvent<E>[]): RecordedEvent<E>[] => [...xs].sort(compareRecorded)

/** Events known at system time `knownAt` (all of them when it is undefined). */
export const knownAt = <E extends MailEvent>(xs: readonly RecordedEvent<E>[], at: number | undefined): RecordedEvent<E>[] =>
  at === undefined ? [...xs] : xs.filter((r) => r.event.recordedAt <= at)
