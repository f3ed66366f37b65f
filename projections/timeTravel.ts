/**
 * The time-travel contract: the few primitive queries every projection implementation answers
 * (the naive replay and the temporal index), on both time axes. Composite queries (account as-of
 * with its folder tree, diff) are built on these in `accountView.ts`, once for all implementations.
 *
 * Conventions:
 * 1. `validAt` is valid time ("as it was at"); `knownAt` is system time ("as the backup knew it
 *    at"). An absent `knownAt` means everything known now.
 * 2. Windows are closed: `[from, to]` includes both ends, as Carbonio's undelete window does.
 * 3. Results are sorted by item id (then valid-from), so equal stores give equal answers.
 */
import type * as TE from 'fp-ts/TaskEither'
import type { AccountEvent } from '../domain/events'
import type { AccountId, ItemId } from '../domain/ids'
import type { Instant } from '../domain/instant'
import type { ItemState } from '../domain/state'
import type { StoreError } from './errors'
import type { RecordedEvent } from './order'
import type { ItemVersion } from './versions'

export interface AsOf {
  readonly validAt: Instant
  readonly knownAt?: Instant
}

export interface Window {
  readonly from: Instant
  readonly to: Instant
  readonly knownAt?: Instant
}

/** A version of an item, with the item it belongs to (what interval queries return). */
export interface ItemChange extends ItemVersion {
  readonly itemId: ItemId
}

/**
 * An item alive at an instant, with what an account view lists up front and its full state decoded
 * on first call: an account as-of lists tens of thousands of items, and most uses read a few states.
 */
export interface LiveItemRef {
  readonly itemId: ItemId
  readonly itemType: ItemState['itemType']
  readonly folderId: number
  /** The full state (the same every call). A stored state that cannot be decoded raises `StoreErrorRaised`. */
  readonly state: () => ItemState
}

/** What an account view is built from: the live folders (decoded) and the live items, both in item id order. */
export interface LiveRefs {
  readonly folders: ItemState[]
  readonly items: LiveItemRef[]
}

/** References over states already decoded (what a replay has). */
export const refsOf = (live: readonly ItemState[]): LiveRefs => ({
  folders: live.filter((s) => s.itemType === 'folder'),
  items: live.filter((s) => s.itemType !== 'folder').map((s) => ({ itemId: s.itemId, itemType: s.itemType, folderId: s.folderId, state: () => s })),
})

export interface TimeTravel {
  readonly kind: 'replay' | 'index'
  /** The account-level events (creation, renames, deletion, holds), in stream order. */
  accountEvents(account: AccountId): TE.TaskEither<StoreError, RecordedEvent<AccountEvent>[]>
  /** Every item alive (not deleted, not purged) at the instant. */
  liveItemsAsOf(account: AccountId, at: AsOf): TE.TaskEither<StoreError, ItemState[]>
  /** The same items, folders decoded and other items as references (what `accountAsOf` reads). */
  liveRefsAsOf(account: AccountId, at: AsOf): TE.TaskEither<StoreError, LiveRefs>
  /**
   * Calls `visit` for every item alive at the instant, in item id order, without building the list:
   * what a consumer that streams a large account (the export) uses. SQLite sorts in its own bounded
   * memory and hands rows over one at a time; PostgreSQL sorts too, but its driver receives the
   * whole result before the first visit (no cursor yet). Returns how many it visited.
   */
  eachLiveItem(account: AccountId, at: AsOf, visit: (s: ItemState) => void): TE.TaskEither<StoreError, number>
  /** Every folder alive at the instant (a subset of `liveItemsAsOf`, cheaper). */
  foldersAsOf(account: AccountId, at: AsOf): TE.TaskEither<StoreError, ItemState[]>
  /** The version of one item valid at the instant, deleted or not; undefined before it existed. */
  itemAsOf(account: AccountId, item: ItemId, at: AsOf): TE.TaskEither<StoreError, ItemVersion | undefined>
  /** Every version of the item, oldest first, as known at `knownAt`. */
  itemHistory(account: AccountId, item: ItemId, knownAt?: Instant): TE.TaskEither<StoreError, ItemVersion[]>
  /** Every version that began inside the window: one per change. */
  changesBetween(account: AccountId, w: Window): TE.TaskEither<StoreError, ItemChange[]>
  /** Every deletion inside the window (by deletion time), with the item's state as deleted. */
  deletedBetween(account: AccountId, w: Window): TE.TaskEither<StoreError, ItemChange[]>
}

/**
 * Versions by item, then by when they began; versions that began at the same instant are in the
 * order they took effect: the zero-length ones (superseded within that instant) before the one
 * that lasted.
 */
export const byItemThenTime = (a: ItemChange, b: ItemChange): number =>
  a.itemId - b.itemId ||
  a.validFrom - b.validFrom ||
  (a.validTo ?? Number.MAX_SAFE_INTEGER) - (b.validTo ?? Number.MAX_SAFE_INTEGER) ||
  (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0)
