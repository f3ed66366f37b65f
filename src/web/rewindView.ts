/**
 * "Rewind to this instant", from the item list: the plan that would put the live account back as it
 * was at the instant shown (the server captures the account first, so the plan acts on the server
 * as it is now), grouped by action with counts, then a confirm step: the run starts only once the
 * account's name is typed and "Rewind the account" pressed. Cancel closes the panel and writes
 * nothing (the preview itself changes nothing on the mail server). The run is a job, followed in the
 * panel to its report like the restores.
 */
import { type RewindPreview, accountPath, post } from './api'
import { byId, fill, h, show } from './dom'
import { startJob } from './jobView'
import { iso, showInstant } from './time'

const PANEL = 'rewind'
const SHOWN = 50

/** What the admin chose, as the route's words. */
interface Choice {
  readonly account: string
  readonly at: number
  readonly inPlace: boolean
  readonly removeNewFolders: boolean
}

const words = (c: Choice): Record<string, string> => ({
  at: iso(c.at),
  ...(c.inPlace && { keep_after: 'in_place' }),
  ...(c.removeNewFolders && { remove_new_folders: 'true' }),
})

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** The plan grouped by action, as the CLI's dry run prints it (at most 50 actions a group are listed). */
const planView = (doc: RewindPreview): HTMLElement => {
  const p = doc.plan
  const total = p.groups.reduce((n, g) => n + g.count, 0)
  return h(
    'div',
    { class: 'rewind-plan' },
    h('p', { class: 'note' }, 'Preview: nothing has changed on the mail server yet.'),
    h(
      'p',
      { class: 'counts' },
      total === 0 ? 'Nothing to do: the account is as it was then.' : `${plural(total, 'action', 'actions')}: ${p.groups.map((g) => `${g.group} ${g.count}`).join(', ')}.`,
    ),
    ...p.groups.map((g) =>
      h(
        'div',
        { class: 'rewind-group', 'data-group': g.group },
        h('h4', {}, `${g.group}: ${g.count}`),
        h('ul', {}, ...g.actions.slice(0, SHOWN).map((a) => h('li', {}, a.description)), g.actions.length > SHOWN ? h('li', {}, `… ${g.actions.length - SHOWN} more`) : null),
      ),
    ),
    p.keptInPlace > 0 ? h('p', {}, `Mail from after the instant left where it is: ${p.keptInPlace}.`) : null,
    p.foldersLeft.length > 0 ? h('p', {}, `Folders created since, left in place: ${p.foldersLeft.join(', ')}.`) : null,
    ...p.unachievable.map((u) => h('p', { class: 'warning' }, `cannot put back ${u.what} ${u.itemId}: ${u.reason}`)),
    doc.refusedBecause === undefined ? null : h('p', { class: 'warning refused' }, `The rewind itself will be refused: ${doc.refusedBecause}`),
  )
}

/** Each preview request's number: an answer to an older choice arriving late is dropped. */
let seq = 0

const preview = async (c: Choice, zone: string): Promise<void> => {
  const mine = ++seq
  fill('rw-plan', h('p', { class: 'note' }, 'Capturing the account and planning…'))
  const run = byId<HTMLButtonElement>('rw-run')
  run.disabled = true
  let doc: RewindPreview
  try {
    doc = await post<RewindPreview>(accountPath(c.account, '/rewind/preview'), words(c))
  } catch (e) {
    if (mine === seq) fill('rw-plan', h('p', { class: 'job-error' }, e instanceof Error ? e.message : String(e)))
    return
  }
  if (mine !== seq) return
  fill('rw-plan', planView(doc))
  const confirm = byId<HTMLInputElement>('rw-confirm')
  // The run is possible once the plan is shown and the account's name typed, unless a hold forbids it.
  const arm = () => {
    run.disabled = doc.refusedBecause !== undefined || confirm.value.trim() !== c.account
  }
  confirm.oninput = arm
  arm()
  run.onclick = () => {
    run.disabled = true
    confirm.disabled = true
    for (const id of ['rw-in-place', 'rw-remove']) byId<HTMLInputElement>(id).disabled = true
    // From here Cancel no longer stops anything: the job runs on the server (doStopOperation stops it).
    byId('rw-cancel').textContent = 'Close'
    startJob(accountPath(c.account, '/rewind'), words(c), zone, 'rw-job').catch((e: unknown) =>
      fill('rw-job', h('p', { class: 'job-error' }, e instanceof Error ? e.message : String(e))),
    )
  }
}

/** Opens the panel for the account at the instant shown, and fetches the plan. */
export const openRewind = async (account: string, at: number, zone: string): Promise<void> => {
  const inPlace = h('input', { id: 'rw-in-place', type: 'checkbox' })
  const remove = h('input', { id: 'rw-remove', type: 'checkbox' })
  const choice = (): Choice => ({ account, at, inPlace: inPlace.checked, removeNewFolders: remove.checked })
  const again = () => void preview(choice(), zone)
  inPlace.addEventListener('change', again)
  remove.addEventListener('change', again)
  fill(
    PANEL,
    h('h3', {}, `Rewind ${account} to ${showInstant(at, zone)}`),
    h(
      'p',
      { class: 'note' },
      'Puts the live account back as it was at this instant: messages deleted since come back, moved ones go back, flags and folder names are set back. Mail that arrived since is never deleted: it moves to a folder of its own (rewind_DD_MM_YY), or stays where it is.',
    ),
    h(
      'div',
      { class: 'row' },
      h('label', {}, inPlace, ' Leave the mail that arrived since where it is'),
      h('label', {}, remove, ' Remove the folders created since that end up empty'),
    ),
    h('div', { id: 'rw-plan' }),
    h(
      'div',
      { class: 'row confirm' },
      h('label', {}, `Type the account name (${account}) to confirm `, h('input', { id: 'rw-confirm', type: 'text', autocomplete: 'off', spellcheck: 'false' })),
      h('button', { id: 'rw-run', type: 'button', disabled: true }, 'Rewind the account'),
      h('button', { id: 'rw-cancel', type: 'button', onclick: closeRewind }, 'Cancel'),
    ),
    h('div', { id: 'rw-job' }),
  )
  show(PANEL, true)
  await preview(choice(), zone)
}

/** Closes the panel; a preview still on its way is dropped. Nothing is written. */
export const closeRewind = (): void => {
  seq++
  fill(PANEL)
  show(PANEL, false)
}
