/** Small builders for test histories: readable events with explicit instants. */
import type { AccountId, ItemId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { EventType, MailEvent } from '../../domain/events'
import { type Payload, makeEvent } from '../../domain/makeEvent'

export const A = (s: string): AccountId => s as AccountId
export const I = (n: number): ItemId => n as ItemId
export const T = (iso: string): Instant => Date.parse(iso) as Instant

let seq = 0
/** An event of `account` at `occurredAt`, recorded at `recordedAt` (default: same instant). */
export const ev = <K extends EventType>(type: K, account: string, occurredAt: number, payload: Payload<K>, opts: { recordedAt?: number; seq?: number } = {}): MailEvent =>
  makeEvent(
    type,
    {
      accountId: A(account),
      observedVia: 'import',
      source: { kind: 'test', seq: opts.seq ?? seq++ },
      recordedAt: (opts.recordedAt ?? occurredAt) as Instant,
    },
    occurredAt as Instant,
    payload,
  )
