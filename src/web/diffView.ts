/** The comparison of two instants: items added, removed, moved, re-flagged and changed (contacts and events field by field). */
import { type Diff, accountPath, get } from './api'
import { fill, h } from './dom'
import { label } from './format'
import { iso, showInstant } from './time'

export const showDiff = async (account: string, from: number, to: number, zone: string): Promise<void> => {
  const d = await get<Diff>(accountPath(account, '/diff'), { from: iso(from), to: iso(to) })
  const list = (title: string, lines: string[]) =>
    lines.length === 0
      ? null
      : h(
          'details',
          {},
          h('summary', {}, `${title} (${lines.length})`),
          h('ul', {}, ...lines.slice(0, 200).map((l) => h('li', {}, l)), lines.length > 200 ? h('li', {}, `… ${lines.length - 200} more`) : null),
        )
  fill(
    'diff',
    h(
      'p',
      {},
      `${showInstant(from, zone)} → ${showInstant(to, zone)}: added ${d.added.length}, removed ${d.removed.length}, moved ${d.moved.length}, re-flagged ${d.reflagged.length}, changed ${(d.changed ?? []).length}`,
    ),
    list(
      'added',
      d.added.map((i) => `${i.folderPath}: ${label(i)}`),
    ),
    list(
      'removed',
      d.removed.map((i) => `${i.folderPath}: ${label(i)}`),
    ),
    list(
      'moved',
      d.moved.map((m) => `item ${m.itemId}: ${m.fromPath} → ${m.toPath}`),
    ),
    list(
      'changed',
      (d.changed ?? []).map((c) => `${c.folderPath}: ${c.name}: ${c.changes.join('; ') || 'content changed'}`),
    ),
    list(
      're-flagged',
      d.reflagged.map(
        (r) => `item ${r.itemId}: ${r.flagsBefore.join(' ') || '-'} → ${r.flagsAfter.join(' ') || '-'}; tags ${r.tagsBefore.join(',') || '-'} → ${r.tagsAfter.join(',') || '-'}`,
      ),
    ),
  )
}
