/**
 * The legal hold decider (pure): given an account's state and a command, the events that carry it
 * out. Setting a hold on a held account, or releasing one that is not held, decides nothing. The
 * caller appends the events with the expected revision of the state it decided on, so two holds
 * decided on the same state cannot both land (the second is decided again on the new state).
 */
import type { AccountId } from './ids'
import type { Instant } from './instant'
import type { MailEvent } from './events'
import { makeEvent } from './makeEvent'
import type { AccountState } from './state'

export type LegalHoldCommand = 'set' | 'unset'

export interface LegalHoldContext {
  readonly now: Instant
  /** Who: recorded in the event (and shown by getAccountInfo). */
  readonly by: string
  /** The operation that records the change (the audit trail). */
  readonly operationId: string
  readonly reason?: string
}

export const decideLegalHold = (command: LegalHoldCommand, state: Pick<AccountState, 'accountId' | 'legalHold'>, c: LegalHoldContext): MailEvent[] => {
  const held = state.legalHold !== undefined
  if ((command === 'set') === held) return []
  const prov = { accountId: state.accountId as AccountId, observedVia: 'admin' as const, source: { kind: 'legal-hold', operationId: c.operationId }, recordedAt: c.now, by: c.by }
  const payload = c.reason !== undefined ? { reason: c.reason } : {}
  return [command === 'set' ? makeEvent('LegalHoldSet', prov, c.now, payload) : makeEvent('LegalHoldReleased', prov, c.now, payload)]
}
