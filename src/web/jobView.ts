/** Restore plans, and long work followed as a job (progress, then the verb's own report). */
import { type Job, type Plan, get, post } from './api'
import { fill, h } from './dom'

export const renderPlan = (title: string, p: Plan['plan']): void => {
  fill(
    'plan',
    h('h3', {}, title),
    h('p', { class: 'counts' }, `${p.counts.items} items in ${p.counts.folders} folders would be restored${p.targetAccount !== p.sourceAccount ? ` into ${p.targetAccount}` : ''}; ${p.counts.unrestorable} unrestorable.`),
    h('ul', { class: 'plan-items' }, ...p.items.slice(0, 50).map((i) => h('li', {}, `/${i.folder}: ${i.subject ?? `${i.itemType} ${i.itemId}`}`)), p.items.length > 50 ? h('li', {}, `… ${p.items.length - 50} more`) : null),
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

const followJob = async (first: Job): Promise<void> => {
  let j = first
  for (;;) {
    fill(
      'job',
      h('h3', {}, `${j.verb}: ${j.state}`),
      h('p', {}, j.label),
      // Without a total (an export counts as it goes) the bar only says that work is going on.
      j.total > 0 || j.state !== 'running' ? h('progress', { max: Math.max(1, j.total), value: j.total > 0 ? j.done : 1 }) : h('progress', {}),
      h('span', { class: 'progress-text' }, j.total > 0 ? ` ${j.done} / ${j.total}` : ` ${j.done}`),
      ...j.notes.map((n) => h('p', { class: 'note' }, n)),
      j.error === null ? null : h('p', { class: 'job-error' }, j.error),
      j.state === 'running' ? null : report(j.result),
    )
    if (j.state !== 'running') return
    await new Promise((r) => setTimeout(r, 500))
    j = await get<Job>(`/api/jobs/${encodeURIComponent(j.id)}`)
  }
}

export const startJob = async (path: string, body: Record<string, string | undefined>): Promise<void> => {
  const { job } = await post<{ job: Job }>(path, body)
  fill('plan')
  await followJob(job)
}
