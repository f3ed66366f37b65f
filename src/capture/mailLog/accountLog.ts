/**
 * What the mail_log importer knows of one account while it reads the log: which item a line's
 * mailbox and UID name, the item's state at the line's instant, and which folder a mailbox name
 * was then. Pure: built from the backup's versions and the scan checkpoint, then kept up to date
 * with the events the import emits.
 *
 * Guarantees:
 * 1. A line names a mailbox and a UID, never which incarnation of them: a mailbox deleted and
 *    created again restarts its UIDs, and an undelete recreates a folder under its old name. A line
 *    is therefore resolved against the items as they were just before its instant: the message that
 *    was then at that mailbox and UID (any place it ever had, so a log imported after the scan that
 *    already recorded a move still finds it at its old place), and the folder that then had that
 *    name. An item the backup records as created after the line's instant is never the answer, so
 *    no event is ever dated before its item's creation.
 * 2. An item's state at a line is what this import made of it (its earlier lines), or else the
 *    backup's version valid just before that instant: a change a later scan dated at its own
 *    instant is not there yet, so the line's change is emitted at its exact instant, and the scan's
 *    copy of it then begins no version (`projections/versions.ts`). A change an earlier import of
 *    the same log already pinned at that instant is not there either, so a re-run emits the same
 *    events (with the same ids), which the store already holds.
 */
import type { ItemEvent } from '../../../domain/events'
import { evolveItem } from '../../../domain/evolve'
import { FolderIds, isSystemFolder } from '../../../domain/folders'
import type { Instant } from '../../../domain/instant'
import type { ItemState } from '../../../domain/state'
import type { ItemChange } from '../../../projections/timeTravel'

export interface MappedFolder {
  readonly folderId: number
  readonly uidValidity: number
}

/** What a line names at its instant: the item, or why there is none. */
export type Found<T> = { readonly found: T } | { readonly missing: 'not yet captured' | 'recorded as created later' }

export interface AccountLog {
  /** The message that `uid` in mailbox `box` named at `at`, with its state just before then. */
  find(box: string, uid: number, at: Instant): Found<ItemState>
  /** Folds an event the import emitted into what it knows, so that later lines see it. */
  record(e: ItemEvent): void
  /** The folder that mailbox `box` was just before `at`. */
  folder(box: string, at: Instant): Found<MappedFolder>
  /** A folder has this name from `at` on (a rename line). */
  nameFolder(box: string, f: MappedFolder, at: Instant): void
  /**
   * A mailbox created again at `at` under a name the backup holds as one folder: the scanner saw
   * the same name before and after (a new UIDVALIDITY) and kept the folder's id, while this import
   * deleted it at the earlier `Mailbox deleted` line. The folder's state to create it again with,
   * or undefined when no folder needs it.
   */
  recreated(box: string, at: Instant): ItemState | undefined
}

const loc = (box: string, uid: number) => `${box}\u0000${uid}`

/** The state of an item valid at `at` from its versions (oldest first); undefined before it began. */
const stateAt = (versions: readonly ItemChange[], at: Instant): ItemState | undefined => {
  let found: ItemState | undefined
  for (const v of versions) {
    if (v.validFrom > at) break
    if (v.validTo === null || v.validTo > at) found = v.state
  }
  return found
}

const isRoot = (id: number): boolean => id === FolderIds.USER_ROOT || id === FolderIds.ROOT

/**
 * @param versions every version of every item of the account (`changesBetween` over all time)
 * @param mapped the scan checkpoint's folders by server name (what the scanner maps them to now)
 */
export const accountLog = (versions: readonly ItemChange[], mapped: ReadonlyMap<string, MappedFolder>): AccountLog => {
  const byItem = new Map<number, ItemChange[]>()
  const byLocation = new Map<string, number[]>()
  /** Folders messages were seen in, by mailbox name (a folder deleted since, or an older name). */
  const seenIn = new Map<string, number[]>()
  /** The UIDVALIDITY a folder's messages last had. */
  const validityOf = new Map<number, number>()
  const folderIds = new Set<number>()
  const place = (box: string, uid: number, item: number) => {
    const list = byLocation.get(loc(box, uid))
    if (list === undefined) byLocation.set(loc(box, uid), [item])
    else if (!list.includes(item)) list.push(item)
  }
  for (const v of [...versions].sort((a, b) => a.validFrom - b.validFrom)) {
    const list = byItem.get(v.itemId)
    if (list === undefined) byItem.set(v.itemId, [v])
    else list.push(v)
    if (v.state.itemType === 'folder') folderIds.add(v.itemId)
    const imap = v.state.imap
    if (imap !== undefined) {
      place(imap.mailbox, imap.uid, v.itemId)
      const seen = seenIn.get(imap.mailbox)
      if (seen === undefined) seenIn.set(imap.mailbox, [v.state.folderId])
      else if (!seen.includes(v.state.folderId)) seen.push(v.state.folderId)
      validityOf.set(v.state.folderId, imap.uidValidity)
    }
  }
  const renamed = new Map<string, { folder: MappedFolder; from: Instant }>()
  const tracked = new Map<number, ItemState>()
  /** The item just before `at`: as this import left it, else the backup's version valid then. */
  const stateOf = (item: number, at: Instant): ItemState | undefined => tracked.get(item) ?? stateAt(byItem.get(item) ?? [], (at - 1) as Instant)
  const mappedById = new Map([...mapped.values()].map((f) => [f.folderId, f]))
  const asMapped = (folderId: number): MappedFolder => mappedById.get(folderId) ?? { folderId, uidValidity: validityOf.get(folderId) ?? 0 }

  /** A folder's names from the top down, just before `at`; undefined when it did not exist then. */
  const segmentsAt = (folderId: number, at: Instant): string[] | undefined => {
    const out: string[] = []
    const seen = new Set<number>()
    for (let f = folderId; !isRoot(f); ) {
      if (seen.has(f)) return undefined
      seen.add(f)
      const s = stateOf(f, at)
      if (s === undefined || s.status !== 'live') return undefined
      out.unshift(s.name ?? '')
      f = s.folderId
    }
    return out
  }
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])
  /** Whether a server name is these segments, with either hierarchy separator Dovecot uses. */
  const names = (box: string, segments: readonly string[]) => same(box.split('.'), segments) || same(box.split('/'), segments)
  const liveAt = (folderId: number, at: Instant) => stateOf(folderId, at)?.status === 'live'

  return {
    find: (box, uid, at) => {
      const candidates = byLocation.get(loc(box, uid)) ?? []
      if (candidates.length === 0) return { missing: 'not yet captured' }
      // Several items at one place: a folder deleted and created again restarts its UIDs. The one
      // there just before the line's instant, alive if several were.
      const existed = candidates.map((c) => stateOf(c, at)).filter((s): s is ItemState => s !== undefined)
      const there = existed.filter((s) => s.imap?.mailbox === box && s.imap.uid === uid)
      const s = there.find((x) => x.status === 'live') ?? there[0]
      if (s !== undefined) return { found: s }
      return { missing: existed.length === 0 ? 'recorded as created later' : 'not yet captured' }
    },
    record: (e) => {
      const before = stateOf(e.itemId, e.occurredAt)
      const after = evolveItem(before, e)
      tracked.set(e.itemId, after)
      if (after.itemType === 'folder') folderIds.add(e.itemId)
      if (e.type === 'ItemMoved' && e.imap !== undefined) place(e.imap.mailbox, e.imap.uid, e.itemId)
    },
    folder: (box, at) => {
      const r = renamed.get(box)
      if (r !== undefined && r.from <= at && liveAt(r.folder.folderId, at)) return { found: r.folder }
      // System folders keep their ids whatever happens to them.
      const m = mapped.get(box)
      if (m !== undefined && isSystemFolder(m.folderId)) return { found: m }
      // The folder that had that name then: by its recorded name and parents.
      const byName = [...folderIds]
        .filter((f) => !isSystemFolder(f) || f === FolderIds.INBOX)
        .filter((f) => {
          const seg = segmentsAt(f, at)
          return seg !== undefined && names(box, seg)
        })
      if (byName.length > 0) return { found: asMapped(m !== undefined && byName.includes(m.folderId) ? m.folderId : Math.min(...byName)) }
      // Else the scanner's mapping, or a folder messages were seen in under that name, if it was alive then.
      const other = [m?.folderId, ...(seenIn.get(box) ?? [])].filter((f): f is number => f !== undefined)
      const alive = other.find((f) => liveAt(f, at))
      if (alive !== undefined) return { found: asMapped(alive) }
      return other.length > 0 ? { missing: 'recorded as created later' } : { missing: 'not yet captured' }
    },
    nameFolder: (box, f, at) => {
      renamed.set(box, { folder: f, from: at })
    },
    recreated: (box, at) => {
      const m = mapped.get(box)
      if (m === undefined || isSystemFolder(m.folderId)) return undefined
      const before = stateOf(m.folderId, at)
      const versions = byItem.get(m.folderId) ?? []
      const latest = versions[versions.length - 1]?.state
      if (before?.status !== 'deleted' || latest?.status !== 'live') return undefined
      return latest
    },
  }
}
