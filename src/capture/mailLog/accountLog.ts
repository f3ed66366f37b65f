/**
 * What the mail_log importer knows of one account while it reads the log: which item a line's
 * mailbox and UID name, the item's state at the line's instant, and the folders the scanner mapped.
 * Pure: built from the backup's versions and the scan checkpoint, then kept up to date with the
 * events the import emits.
 *
 * Guarantees:
 * 1. A line is matched by every IMAP location an item ever had, not only its latest: a log imported
 *    after the scan that already recorded a move still finds the message at its old place.
 * 2. An item's state at a line is what this import made of it (its earlier lines), or else the
 *    backup's version valid at that instant: a change a later scan dated at its own instant is not
 *    there yet, so the line's change is emitted at its exact instant, and the scan's copy of it then
 *    begins no version (`projections/versions.ts`).
 */
import type { ItemEvent } from '../../../domain/events'
import { evolveItem } from '../../../domain/evolve'
import type { Instant } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import type { ItemChange } from '../../../projections/timeTravel'

export interface MappedFolder {
  readonly folderId: number
  readonly uidValidity: number
}

export interface AccountLog {
  /** The item that `uid` in mailbox `box` names at `at`, with its state then; undefined when the backup does not hold it. */
  find(box: string, uid: number, at: Instant): ItemState | undefined
  /** Folds an event the import emitted into what it knows, so that later lines see it. */
  record(e: ItemEvent): void
  /** The folder a mailbox name is (the scanner's mapping, then the folders messages were seen in). */
  folder(box: string): MappedFolder | undefined
  /** A folder now has this name (a rename line). */
  nameFolder(box: string, f: MappedFolder): void
}

const loc = (box: string, uid: number) => `${box}\u0000${uid}`

/** The state of an item at `at` from its versions (oldest first); its first state before it began. */
const stateAt = (versions: readonly ItemChange[], at: Instant): ItemState | undefined => {
  let found: ItemState | undefined
  for (const v of versions) {
    if (v.validFrom > at) break
    if (v.validTo === null || v.validTo > at) found = v.state
  }
  return found ?? versions[0]?.state
}

/**
 * @param versions every version of every item of the account (`changesBetween` over all time)
 * @param mapped the scan checkpoint's folders by server name
 */
export const accountLog = (versions: readonly ItemChange[], mapped: ReadonlyMap<string, MappedFolder>): AccountLog => {
  const byItem = new Map<number, ItemChange[]>()
  const byLocation = new Map<string, number[]>()
  const seenIn = new Map<string, MappedFolder>()
  const place = (box: string, uid: number, item: number) => {
    const list = byLocation.get(loc(box, uid))
    if (list === undefined) byLocation.set(loc(box, uid), [item])
    else if (list[list.length - 1] !== item) list.push(item)
  }
  for (const v of [...versions].sort((a, b) => a.validFrom - b.validFrom)) {
    const list = byItem.get(v.itemId)
    if (list === undefined) byItem.set(v.itemId, [v])
    else list.push(v)
    const imap = v.state.imap
    if (imap !== undefined) {
      place(imap.mailbox, imap.uid, v.itemId)
      seenIn.set(imap.mailbox, { folderId: v.state.folderId, uidValidity: imap.uidValidity })
    }
  }
  const named = new Map(mapped)
  const tracked = new Map<number, ItemState>()
  const stateOf = (item: number, at: Instant): ItemState | undefined => tracked.get(item) ?? stateAt(byItem.get(item) ?? [], at)

  return {
    find: (box, uid, at) => {
      const candidates = byLocation.get(loc(box, uid)) ?? []
      // Several items at one place: a folder deleted and created again restarts its UIDs. The one
      // alive there at that instant, else one that was there, else the latest.
      const states = candidates.map((c) => stateOf(c, at)).filter((s): s is ItemState => s !== undefined)
      const there = states.filter((s) => s.imap?.mailbox === box && s.imap.uid === uid)
      return there.find((s) => s.status === 'live') ?? there[0] ?? states[states.length - 1]
    },
    record: (e) => {
      const before = stateOf(e.itemId, e.occurredAt)
      const after = evolveItem(before, e)
      tracked.set(e.itemId, after)
      if (e.type === 'ItemMoved' && e.imap !== undefined) place(e.imap.mailbox, e.imap.uid, e.itemId)
    },
    folder: (box) => named.get(box) ?? seenIn.get(box),
    nameFolder: (box, f) => {
      named.set(box, f)
    },
  }
}
