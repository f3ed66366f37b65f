/**
 * The activity plot: one bar per hour or day, its height the number of changes, the deletions in
 * red on top so that a mass deletion stands out at a glance. Clicking a bar picks its bucket; a
 * vertical line marks the instant the page shows.
 */
import type { Bucket } from './api'
import { svg } from './dom'
import { showInstant } from './time'

const W = 1000
const H = 160
const AXIS = 18

export interface Plot {
  readonly element: SVGElement
  /** Moves the marker to the instant (hidden outside the plotted range). */
  mark(ms: number): void
}

export const activityPlot = (buckets: readonly Bucket[], zone: string, pick: (b: Bucket) => void): Plot => {
  const n = Math.max(1, buckets.length)
  const first = Date.parse(buckets[0]?.start ?? '0')
  const last = Date.parse(buckets[buckets.length - 1]?.end ?? '0')
  const max = Math.max(1, ...buckets.map((b) => b.changes))
  const bw = W / n
  const y = (count: number) => (count === 0 ? 0 : Math.max(1.5, ((H - AXIS) * count) / max))
  const bars = buckets.map((b, i) => {
    const x = i * bw
    const deleted = y(b.deleted)
    const total = y(b.changes)
    return svg(
      'g',
      { class: 'bucket', 'data-start': b.start, 'data-deleted': b.deleted, onclick: () => pick(b) },
      svg(
        'title',
        {},
        `${showInstant(Date.parse(b.start), zone)}: ${b.changes} changes (${b.created} created, ${b.deleted} deleted, ${b.moved} moved, ${b.flagged} flag or tag changes)`,
      ),
      // A full-height transparent hit area: thin buckets stay clickable.
      svg('rect', { class: 'hit', x, y: 0, width: Math.max(bw, 1), height: H - AXIS }),
      svg('rect', { class: 'changes', x, y: H - AXIS - total, width: Math.max(bw * 0.85, 0.6), height: Math.max(0, total - deleted) }),
      b.deleted > 0 && svg('rect', { class: 'deleted', x, y: H - AXIS - deleted, width: Math.max(bw * 0.85, 1.5), height: deleted }),
    )
  })
  const labels = [0, Math.floor(n / 2), n - 1]
    .filter((i, k, all) => all.indexOf(i) === k && buckets[i] !== undefined)
    .map((i) =>
      svg(
        'text',
        { x: Math.min(W - 4, Math.max(4, i * bw)), y: H - 4, 'text-anchor': i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle' },
        showInstant(Date.parse(buckets[i]?.start ?? ''), zone),
      ),
    )
  const marker = svg('line', { class: 'marker', x1: 0, x2: 0, y1: 0, y2: H - AXIS })
  const element = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'changes over time; deletions in red' }, ...bars, ...labels, marker)
  return {
    element,
    mark: (ms) => {
      const inside = last > first && ms >= first && ms <= last
      marker.setAttribute('visibility', inside ? 'visible' : 'hidden')
      const x = inside ? ((ms - first) / (last - first)) * W : 0
      marker.setAttribute('x1', String(x))
      marker.setAttribute('x2', String(x))
    },
  }
}
