/**
 * Retention, as Carbonio defines it: an item deleted from the mailbox is kept for `dataDays` after
 * its deletion, and a deleted account for `accountDays` after the account's deletion (0 keeps
 * forever). A legal hold overrides both. Purging appends `ItemPurged` and frees the blobs no
 * retained version references; events are never removed.
 *
 * Everything here is pure: the caller reads the accounts' states and applies the plan.
 */
import type { AccountId, ItemId } from './ids'
import type { Instant } from './instant'
import type { ItemType } from './itemTypes'
import type { AccountState, ItemState } from './state'

export const DAY_MS = 86_400_000

export interface RetentionPolicy {
  /** Days a deleted item is kept; 0 = forever. */
  readonly dataDays: number
  /** Days a deleted account is kept; 0 = forever. */
  readonly accountDays: number
}

export interface AccountForPurge {
  readonly state: AccountState
  /** The account's items as they are now (every status), one state per item. */
  readonly items: readonly ItemState[]
}

export interface PurgeCandidate {
  readonly account: AccountId
  readonly itemId: ItemId
  readonly itemType: ItemType
  readonly size: number
  readonly reason: string
}

export interface PurgePlan {
  readonly purge: readonly PurgeCandidate[]
  /** Accounts a legal hold protects, with what would otherwise have gone. */
  readonly held: readonly { account: AccountId; wouldPurge: number }[]
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

export const planPurge = (accounts: readonly AccountForPurge[], policy: RetentionPolicy, now: Instant): PurgePlan => {
  const purge: PurgeCandidate[] = []
  const held: { account: AccountId; wouldPurge: number }[] = []
  const itemCutoff = now - policy.dataDays * DAY_MS
  const accountCutoff = now - policy.accountDays * DAY_MS
  for (const { state: acct, items } of accounts) {
    const accountGone = policy.accountDays > 0 && acct.deletedAt !== undefined && acct.deletedAt <= accountCutoff
    const mine: PurgeCandidate[] = []
    for (const s of items) {
      if (s.status === 'purged') continue
      const base = { account: acct.accountId, itemId: s.itemId, itemType: s.itemType, size: s.content?.size ?? 0 }
      if (accountGone) mine.push({ ...base, reason: `account retention (${policy.accountDays} days): account deleted on ${day(acct.deletedAt ?? 0)}` })
      else if (policy.dataDays > 0 && s.status === 'deleted' && s.deletedAt !== undefined && s.deletedAt <= itemCutoff)
        mine.push({ ...base, reason: `data retention (${policy.dataDays} days): deleted on ${day(s.deletedAt)}` })
    }
    if (acct.legalHold !== undefined) {
      if (mine.length > 0) held.push({ account: acct.accountId, wouldPurge: mine.length })
    } else purge.push(...mine)
  }
  return { purge, held }
}

/**
 * The digests still needed after a purge: every version of every item that is not purged (nor being
 * purged). A blob shared with a retained item (deduplicated) stays.
 */
export const retainedDigests = (versionsByItem: Iterable<{ readonly purged: boolean; readonly digests: Iterable<string> }>): Set<string> => {
  const keep = new Set<string>()
  for (const item of versionsByItem) if (!item.purged) for (const d of item.digests) keep.add(d)
  return keep
}
