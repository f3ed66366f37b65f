/**
 * The benchmark's synthetic account: N items and M events over a year, in valid-time order, as a
 * real-time capture would record them. Deterministic, and produced in batches so memory stays flat.
 */
import type { AccountId, ItemId } from '../../domain/ids'
import { instant } from '../../domain/instant'
import type { MailEvent } from '../../domain/events'
import { makeEvent } from '../../domain/makeEvent'
import type { Flag, Tag } from '../../domain/flags'
import { rng } from '../../src/demo/random'

export const BENCH_ACCOUNT = 'bench@example.com' as AccountId
export const YEAR_START = Date.parse('2025-01-01T00:00:00Z')
export const YEAR = 365 * 24 * 3600_000

export function* syntheticEvents(items: number, events: number, batch = 10_000): Generator<MailEvent[]> {
  const r = rng(42)
  const step = YEAR / events
  const folders = Array.from({ length: 20 }, (_, i) => 256 + i)
  const live: number[] = []
  let created = 0
  let out: MailEvent[] = []
  const p = (k: number) => ({
    accountId: BENCH_ACCOUNT,
    observedVia: 'import' as const,
    source: { kind: 'bench', seq: k },
    recordedAt: instant(YEAR_START + k * step + 60_000),
  })
  folders.forEach((f, i) =>
    out.push(
      makeEvent('ItemCreated', p(-100 + i), instant(YEAR_START - 1000 + i), {
        itemId: f as ItemId,
        itemType: 'folder',
        folderId: 1 as ItemId,
        name: `Folder ${i}`,
        flags: [],
        tags: [],
      }),
    ),
  )
  const itemBase = 1000
  for (let k = 0; k < events; k++) {
    const at = instant(YEAR_START + k * step)
    const mustCreate = created < items && (live.length === 0 || k % Math.max(1, Math.floor(events / items)) === 0)
    if (mustCreate) {
      const id = (itemBase + created++) as ItemId
      live.push(id)
      out.push(
        makeEvent('ItemCreated', p(k), at, {
          itemId: id,
          itemType: 'message',
          folderId: 2 as ItemId,
          flags: [],
          tags: [],
          content: { digest: (id * 2654435761).toString(16).padStart(64, '0').slice(-64), size: 2000 + (id % 5000) },
          headers: { subject: `Message ${id} about the budget`, from: `sender${id % 97}@example.org`, to: 'bench@example.com', messageId: `<${id}@bench>` },
          internalDate: at,
        }),
      )
    } else {
      const i = r.int(0, live.length - 1)
      const id = live[i] as ItemId
      const x = r.next()
      if (x < 0.5) out.push(makeEvent('ItemFlagsChanged', p(k), at, { itemId: id, flags: (x < 0.25 ? ['\\Seen'] : ['\\Flagged', '\\Seen']) as Flag[] }))
      else if (x < 0.65) out.push(makeEvent('ItemTagsChanged', p(k), at, { itemId: id, tags: [r.pick(['work', 'home', 'later'])] as Tag[] }))
      else if (x < 0.97) out.push(makeEvent('ItemMoved', p(k), at, { itemId: id, folderId: r.pick([2, 3, ...folders]) as ItemId }))
      else {
        out.push(makeEvent('ItemDeleted', p(k), at, { itemId: id }))
        live[i] = live[live.length - 1] as number
        live.pop()
      }
    }
    if (out.length >= batch) {
      yield out
      out = []
    }
  }
  if (out.length > 0) yield out
}
