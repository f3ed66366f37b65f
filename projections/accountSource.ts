/**
 * Where an account's history comes from, as its account events tell: what decides which system
 * folders it has, and from when its history was watched rather than rebuilt.
 */
import type { AccountEvent } from '../domain/events'
import type { Instant } from '../domain/instant'
import type { RecordedEvent } from './order'

export interface AccountSource {
  /**
   * Captured by scanning an IMAP server (its `AccountCreated` came from a scan). Such an account has
   * only the system folders its server showed, each recorded as a folder; a Carbonio account (a
   * mailbox.log import, the demo) has every system folder, as Carbonio creates them all.
   */
  readonly imap: boolean
  /**
   * System time of the first scan, for an IMAP account: before it, the account's state is rebuilt
   * from the messages the first scan found, dated by their INTERNALDATE (messages deleted before it,
   * and earlier moves and flag changes, are unknown).
   */
  readonly firstCaptureAt?: Instant
}

export const accountSource = (events: readonly RecordedEvent<AccountEvent>[]): AccountSource => {
  const scans = events.filter((r) => r.event.type === 'AccountCreated' && r.event.observedVia === 'imap-scan')
  if (scans.length === 0) return { imap: false }
  return { imap: true, firstCaptureAt: Math.min(...scans.map((r) => r.event.recordedAt)) as Instant }
}
