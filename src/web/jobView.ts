/** Restore plans, and long work followed as a job (progress, then the verb's own report). */
import type { Instant } from '../../domain/instant'
import { possiblyInWindowNote } from '../../domain/restore/undeleteWindow'
import { type BoundedDeletions, type Job, type Plan, type RestoreReport, type RewindReport, get, post } from './api'
import { fill, h } from './dom'
import { showInstant } from './time'

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/**
 * The undelete's note about deletions a scan could only bound (the CLI's words, from the same
 * function), with the instants in the viewer's zone; null when there is nothing to say.
 */
const windowNote = (found: number, bounded: readonly BoundedDeletions[] | undefined, zone: string): HTMLElement | null => {
  const groups = (bounded ?? []).map((b) => ({ from: Date.parse(b.from) as Instant, to: Date.parse(b.to) as Instant, deletions: b.deletions }))
  const note = possiblyInWindowNote(found, groups, (i) => showInstant(i, zone))
  return note === undefined ? null : h('p', { class: 'window-note', role: 'note' }, note)
}

/** Folder paths as a list of at most 50, with how many more. */
const folderList = (cls: string, title: string, paths: readonly string[]): HTMLElement | null =>
  paths.length === 0
    ? null
    : h(
        'div',
        { class: cls },
        h('p', {}, title),
        h('ul', {}, ...paths.slice(0, 50).map((f) => h('li', {}, f)), paths.length > 50 ? h('li', {}, `… ${paths.length - 50} more`) : null),
      )

export const renderPlan = (title: string, doc: Plan, zone: string): void => {
  const p = doc.plan
  const c = p.counts
  const into = p.targetAccount !== p.sourceAccount ? ` into ${p.targetAccount}` : ''
  const folders = c.folderItems > 0 ? `, and ${plural(c.folderItems, 'folder', 'folders')} recreated as items` : ''
  fill(
    'plan',
    h('h3', {}, title),
    h(
      'p',
      { class: 'counts' },
      `${plural(c.items + c.folderItems, 'item', 'items')} would be restored${into}: ${plural(c.items, 'message', 'messages')} in ${plural(c.folders, 'folder', 'folders')}${folders}; ${c.unrestorable} unrestorable.`,
    ),
    windowNote(c.items + c.folderItems + c.unrestorable, doc.possiblyInWindow, zone),
    folderList(
      'plan-folders',
      'Folders recreated (among the items):',
      p.folderItems.map((f) => `/${f.folder}`),
    ),
    h(
      'ul',
      { class: 'plan-items' },
      ...p.items.slice(0, 50).map((i) => h('li', {}, `/${i.folder}: ${i.subject ?? `${i.itemType} ${i.itemId}`}`)),
      p.items.length > 50 ? h('li', {}, `… ${p.items.length - 50} more`) : null,
    ),
    p.unrestorable.length === 0 ? null : h('ul', { class: 'unrestorable' }, ...p.unrestorable.slice(0, 20).map((u) => h('li', {}, `${u.itemType} ${u.itemId}: ${u.reason}`))),
  )
}

/** The end report: the verb's own document, its plain fields listed and its lists counted. */
export const report = (result: unknown): HTMLElement => {
  const rows = Object.entries((result ?? {}) as Record<string, unknown>).map(([k, v]) =>
    h('tr', {}, h('th', {}, k), h('td', {}, Array.isArray(v) ? `${v.length} entries` : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v))),
  )
  return h('table', { class: 'report' }, ...rows)
}

/**
 * What a restore's report says besides its figures, as the CLI's text report says it: the folders
 * it recreated, the undelete window's note, and the warnings about the target as it is left.
 */
const restoreNotes = (result: unknown, zone: string): (HTMLElement | null)[] => {
  const r = (result ?? {}) as RestoreReport
  const accounts = new Set((r.foldersRecreated ?? []).map((f) => f.account))
  const found = (r.restored ?? 0) + (r.skipped ?? 0) + (r.unrestored?.length ?? 0)
  return [
    folderList(
      'folders-recreated',
      'Folders recreated (among the restored items):',
      (r.foldersRecreated ?? []).map((f) => (accounts.size > 1 ? `${f.account} ${f.path}` : f.path)),
    ),
    windowNote(found, r.possiblyInWindow, zone),
    ...(r.warnings ?? []).map((w) => h('p', { class: 'warning' }, `warning: ${w}`)),
  ]
}

/** What a rewind's report says besides its figures: the actions refused and the differences its last capture found. */
const rewindNotes = (result: unknown): (HTMLElement | null)[] => {
  const r = (result ?? {}) as RewindReport
  return [
    (r.foundApplied ?? 0) > 0 ? h('p', { class: 'note' }, `${r.foundApplied} action(s) of an interrupted earlier run were found done on the server and not sent again.`) : null,
    ...(r.failed ?? []).map((f) => h('p', { class: 'warning' }, `refused: ${f.action}: ${f.reason}`)),
    (r.differences ?? []).length === 0
      ? null
      : h(
          'div',
          { class: 'differences' },
          h('p', {}, `${r.differences?.length} difference(s) between the account and its state at the instant:`),
          h('ul', {}, ...(r.differences ?? []).map((d) => h('li', {}, d.text))),
        ),
  ]
}

const followJob = async (first: Job, zone: string, into: string): Promise<void> => {
  let j = first
  for (;;) {
    fill(
      into,
      h('h3', {}, `${j.verb}: ${j.state}`),
      h('p', {}, j.label),
      // Without a total (an export counts as it goes) the bar only says that work is going on.
      j.total > 0 || j.state !== 'running' ? h('progress', { max: Math.max(1, j.total), value: j.total > 0 ? j.done : 1 }) : h('progress', {}),
      h('span', { class: 'progress-text' }, j.total > 0 ? ` ${j.done} / ${j.total}` : ` ${j.done}`),
      ...j.notes.map((n) => h('p', { class: 'note' }, n)),
      j.error === null ? null : h('p', { class: 'job-error' }, j.error),
      j.state === 'running' ? null : report(j.result),
      ...(j.state === 'running' ? [] : j.verb === 'doRewind' ? rewindNotes(j.result) : restoreNotes(j.result, zone)),
    )
    if (j.state !== 'running') return
    await new Promise((r) => setTimeout(r, 500))
    j = await get<Job>(`/api/jobs/${encodeURIComponent(j.id)}`)
  }
}

/** Starts a job and follows it in the element `into` (the actions' `job`, or the rewind panel's). */
export const startJob = async (path: string, body: Record<string, string | undefined>, zone: string, into = 'job'): Promise<void> => {
  const { job } = await post<{ job: Job }>(path, body)
  if (into === 'job') fill('plan')
  await followJob(job, zone, into)
}
