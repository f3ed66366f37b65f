/**
 * What an undelete window may be missing. A scan sees that a message is gone, not when it went: it
 * dates the deletion at the scan and records the interval it can only bound (`occurredWindow`, from
 * the previous scan). An undelete over the instants the user remembers, between two scans, then
 * finds nothing. These functions find such deletions (bounded by an interval that overlaps the
 * window, dated after it) and word the note the report gives. Pure.
 */
import type { MailEvent } from '../events'
import type { Instant } from '../instant'

/** Deletions whose instant is known only to lie between `from` and `to` (two scans). */
export interface BoundedDeletions {
  readonly from: Instant
  readonly to: Instant
  readonly deletions: number
}

/**
 * From events recorded after the window (in stream order), the deletions that may have happened in
 * `[from, to]` but are dated after it, grouped by their bounding interval; `found` are the items
 * the window holds (not counted again). An item is counted once.
 */
export const deletionsPossiblyIn = (events: Iterable<MailEvent>, window: { readonly from: Instant; readonly to: Instant }, found: ReadonlySet<number>): BoundedDeletions[] => {
  const groups = new Map<string, { from: Instant; to: Instant; items: Set<number> }>()
  const counted = new Set<number>()
  for (const e of events) {
    const w = e.occurredWindow
    if (e.type !== 'ItemDeleted' || w === undefined) continue
    if (e.occurredAt <= window.to || w.from > window.to || w.to < window.from) continue
    if (found.has(e.itemId) || counted.has(e.itemId)) continue
    counted.add(e.itemId)
    const key = `${w.from}/${w.to}`
    const g = groups.get(key) ?? { from: w.from, to: w.to, items: new Set<number>() }
    g.items.add(e.itemId)
    groups.set(key, g)
  }
  return [...groups.values()].map((g) => ({ from: g.from, to: g.to, deletions: g.items.size })).sort((a, b) => a.from - b.from || a.to - b.to)
}

/**
 * Whether a later event shows that nothing further can overlap the window: a scan's bounding
 * interval begins at the previous scan, so once one begins after the window, later ones do too.
 */
export const pastTheWindow = (e: MailEvent, windowTo: Instant): boolean => e.occurredWindow !== undefined && e.occurredWindow.from > windowTo

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/**
 * The report's note, or undefined when no deletion may be missing: "0 items deleted in this window;
 * 2 deletions were recorded between <scan> and <scan>, whose exact instants are unknown — widen the
 * window or import the server's log".
 */
export const possiblyInWindowNote = (found: number, groups: readonly BoundedDeletions[], show: (i: Instant) => string): string | undefined => {
  if (groups.length === 0) return undefined
  const total = groups.reduce((n, g) => n + g.deletions, 0)
  const between = groups.map((g) => `between ${show(g.from)} and ${show(g.to)}${groups.length > 1 ? ` (${g.deletions})` : ''}`).join(' and ')
  return `${plural(found, 'item', 'items')} deleted in this window; ${found > 0 ? `${total} more` : total} ${total === 1 ? 'deletion was' : 'deletions were'} recorded ${between}, whose exact instants are unknown — widen the window or import the server's log`
}
