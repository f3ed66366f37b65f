/**
 * The console page: pick an account, move through its past with the slider or the date field (the
 * folder tree and the item list redraw as of that instant), see when changes and deletions
 * happened, open an item's history, compare two instants, and preview or run an undelete, a
 * restore into a new account or an export, following its progress to its report; rewind the live
 * account to the instant shown (rewindView.ts), after its plan and a confirm step. Everything comes
 * from the JSON API; all text goes into the page as text (dom.ts). This module holds the page's
 * state and wiring; the item panel, the comparison and the jobs view are modules of their own.
 */
import { type Activity, type AccountState, ApiError, type Bucket, type Item, type Plan, accountPath, get, post, setToken, token } from './api'
import { showDiff } from './diffView'
import { byId, fill, h, show } from './dom'
import { label, secondary, when as whenIn } from './format'
import { openItem } from './itemPanel'
import { renderPlan, report, startJob } from './jobView'
import { type Plot, activityPlot } from './plot'
import { closeRewind, openRewind } from './rewindView'
import { fromLocalField, iso, showInstant, toLocalField, viewerZone } from './time'

const zone = viewerZone()
const ROWS = 500
const HOUR = 3_600_000

interface Page {
  account?: string
  at: number
  state?: AccountState
  folder: number | undefined
  plot?: Plot
  /** Each state request's number: an older answer arriving late is dropped. */
  seq: number
}
const page: Page = { at: Date.now(), seq: 0, folder: undefined }

const input = (id: string) => byId<HTMLInputElement>(id)
const slider = () => input('slider')

const fail = (e: unknown): void => {
  if (e instanceof ApiError && e.status === 401) {
    setToken(null)
    showLogin('The server refused the token. Paste the right one.')
    return
  }
  const el = fill('error', e instanceof Error ? e.message : String(e))
  el.hidden = false
}
const clearError = () => show('error', false)
const guard =
  <A extends unknown[]>(f: (...a: A) => Promise<void>) =>
  (...a: A): void => {
    clearError()
    f(...a).catch(fail)
  }

const showLogin = (why?: string): void => {
  show('console', false)
  show('signout', false)
  show('login', true)
  if (why !== undefined) fill('error', why).hidden = false
  input('token').focus()
}

const when = (s: string | null | undefined): string => whenIn(s, zone)

// ---- account and activity ----------------------------------------------------------------------

const connect = async (): Promise<void> => {
  const { accounts } = await get<{ accounts: { account: string; deleted: boolean; legalHold: boolean }[] }>('/api/accounts')
  show('login', false)
  show('console', true)
  show('signout', true)
  const select = byId<HTMLSelectElement>('account')
  select.replaceChildren(...accounts.map((a) => h('option', { value: a.account }, `${a.account}${a.deleted ? ' (deleted)' : ''}${a.legalHold ? ' (legal hold)' : ''}`)))
  select.disabled = accounts.length === 0
  if (accounts[0] === undefined) throw new Error('The store holds no account yet: run a scan, an import or mailtime demo.')
  await selectAccount(accounts[0].account)
}

const selectAccount = async (account: string): Promise<void> => {
  page.account = account
  page.folder = undefined
  show('item', false)
  closeRewind()
  fill('plan')
  fill('diff')
  const a = await loadActivity()
  const first = Date.parse(a.from ?? new Date().toISOString())
  const last = Date.parse(a.to ?? new Date().toISOString())
  const s = slider()
  s.min = String(first - HOUR)
  s.max = String(last + HOUR)
  s.step = '1000'
  await moveTo(last + HOUR)
  input('diff-from').value = toLocalField(first - HOUR)
  input('diff-to').value = toLocalField(last + HOUR)
  const peak = a.peakDeletion
  if (peak !== null) pickWindow(Date.parse(peak.start), Date.parse(a.buckets.find((b) => b.start === peak.start)?.end ?? peak.start))
}

const loadActivity = async (): Promise<Activity> => {
  const account = page.account ?? ''
  const bucket = byId<HTMLSelectElement>('bucket').value
  const a = await get<Activity>(accountPath(account, '/activity'), { bucket, tz: zone })
  page.plot = activityPlot(a.buckets, zone, (b) => guard(pickBucket)(b))
  fill('activity', page.plot.element)
  page.plot.mark(page.at)
  fill(
    'peak',
    a.peakDeletion === null
      ? 'No deletions recorded.'
      : `Most deletions: ${a.peakDeletion.deleted} in the ${bucket} from ${when(a.peakDeletion.start)}. Click a bar to see the account just before it.`,
  )
  return a
}

/** Sets the undelete window (and the comparison) to [from, to). */
const pickWindow = (from: number, to: number): void => {
  input('und-from').value = toLocalField(from)
  input('und-to').value = toLocalField(to - 1000)
  input('diff-from').value = toLocalField(from - 1000)
  input('diff-to').value = toLocalField(to)
}

/** A click on a bar: show the account just before that bucket, and aim the undelete at it. */
const pickBucket = async (b: Bucket): Promise<void> => {
  const from = Date.parse(b.start)
  const to = Date.parse(b.end)
  pickWindow(from, to)
  await moveTo(from - 1000)
}

// ---- the account as of an instant --------------------------------------------------------------

const moveTo = async (ms: number): Promise<void> => {
  page.at = ms
  slider().value = String(ms)
  input('at').value = toLocalField(ms)
  fill('asof', `${showInstant(ms, zone)} (${zone})`)
  page.plot?.mark(ms)
  await loadState()
}

const loadState = async (): Promise<void> => {
  const seq = ++page.seq
  const state = await get<AccountState>(accountPath(page.account ?? '', '/state'), { at: iso(page.at) })
  if (seq !== page.seq) return
  page.state = state
  if (page.folder !== undefined && !state.folders.some((f) => f.folderId === page.folder)) page.folder = undefined
  renderFolders()
  renderList()
}

const renderFolders = (): void => {
  const s = page.state
  if (s === undefined) return
  const button = (text: string, folder: number | undefined, count: number, depth: number) =>
    h(
      'li',
      { class: page.folder === folder ? 'selected' : undefined },
      h(
        'button',
        { type: 'button', 'data-depth': depth, onclick: () => ((page.folder = folder), renderFolders(), renderList()) },
        h('span', { class: 'name' }, text),
        h('span', { class: 'n' }, count),
      ),
    )
  const total = s.items.filter((i) => i.itemType !== 'folder').length
  fill(
    'folders',
    s.exists ? null : h('p', { class: 'note' }, 'The account did not exist at this instant.'),
    h(
      'ul',
      {},
      button('All folders', undefined, total, 0),
      ...s.folders.map((f) => button(f.path.split('/').pop() ?? f.path, f.folderId, f.itemCount, f.path.split('/').length - 2)),
    ),
  )
  // Indentation by depth, set through the CSS object model (inline style attributes are refused by the CSP).
  for (const b of byId('folders').querySelectorAll<HTMLButtonElement>('button[data-depth]')) b.style.paddingLeft = `${0.4 + Number(b.dataset.depth) * 1.1}em`
}

const matches = (i: Item, text: string): boolean =>
  text === '' || [label(i), secondary(i), ...(i.davFields?.attendees ?? []), i.uid ?? '', String(i.itemId), i.folderPath].some((x) => x.toLowerCase().includes(text))

const renderList = (): void => {
  const s = page.state
  if (s === undefined) return
  const text = input('filter').value.trim().toLowerCase()
  const items = s.items.filter((i) => i.itemType !== 'folder' && (page.folder === undefined || i.folderId === page.folder) && matches(i, text))
  const rows = items.slice(0, ROWS).map((i) =>
    h(
      'tr',
      {
        'data-item': i.itemId,
        tabindex: 0,
        onclick: () => guard(openItem)(page.account ?? '', i.itemId, zone),
        onkeydown: (e: Event) => (e as KeyboardEvent).key === 'Enter' && guard(openItem)(page.account ?? '', i.itemId, zone),
      },
      h('td', { class: 'subject' }, label(i)),
      h('td', {}, secondary(i)),
      h('td', {}, when(i.internalDate ?? i.createdAt)),
      h('td', {}, [...i.flags, ...i.tags.map((t) => `#${t}`)].join(' ')),
      h('td', {}, i.folderPath),
    ),
  )
  byId('list')
    .querySelector('tbody')
    ?.replaceChildren(...rows)
  fill('count', items.length > ROWS ? `showing ${ROWS} of ${items.length} items (filter to narrow)` : `${items.length} ${items.length === 1 ? 'item' : 'items'}`)
}

// ---- the forms' values ------------------------------------------------------------------------

/** A date field's instant, or an error naming the field. */
const field = (id: string, what: string): number => {
  const ms = fromLocalField(input(id).value)
  if (ms === undefined) throw new Error(`${what}: enter a date and time`)
  return ms
}

const undeleteBody = () => ({ from: iso(field('und-from', 'Undelete from')), to: iso(field('und-to', 'Undelete to')) })
const newAccountBody = () => {
  const destination = input('rna-dest').value.trim()
  if (destination === '') throw new Error('Restore: enter the new account')
  return { destination, at: iso(page.at) }
}

const confirmRun = (what: string): boolean => window.confirm(`${what}\n\nThis writes into the restore target. Continue?`)

// ---- wiring ------------------------------------------------------------------------------------

let debounce: number | undefined
const wire = (): void => {
  fill('zone', `Times in ${zone}`)
  byId('login-form').addEventListener('submit', (e) => {
    e.preventDefault()
    setToken(input('token').value.trim())
    input('token').value = ''
    guard(connect)()
  })
  byId('signout').addEventListener('click', () => {
    setToken(null)
    showLogin()
  })
  byId('account').addEventListener('change', (e) => guard(selectAccount)((e.target as HTMLSelectElement).value))
  byId('bucket').addEventListener('change', () => guard(async () => void (await loadActivity()))())
  slider().addEventListener('input', () => {
    const ms = Number(slider().value)
    page.at = ms
    input('at').value = toLocalField(ms)
    fill('asof', `${showInstant(ms, zone)} (${zone})`)
    page.plot?.mark(ms)
    window.clearTimeout(debounce)
    debounce = window.setTimeout(guard(loadState), 150)
  })
  input('at').addEventListener('change', () => {
    const ms = fromLocalField(input('at').value)
    if (ms !== undefined) guard(moveTo)(ms)
  })
  byId('now').addEventListener('click', () => guard(moveTo)(Number(slider().max)))
  input('filter').addEventListener('input', renderList)
  byId('rewind-open').addEventListener(
    'click',
    guard(() => openRewind(page.account ?? '', page.at, zone)),
  )
  byId('diff-run').addEventListener(
    'click',
    guard(() => showDiff(page.account ?? '', field('diff-from', 'Compare from'), field('diff-to', 'Compare to'), zone)),
  )
  byId('und-preview').addEventListener(
    'click',
    guard(async () => renderPlan('Undelete plan', await post<Plan>(accountPath(page.account ?? '', '/undelete'), { ...undeleteBody(), dry_run: 'true' }), zone)),
  )
  byId('und-run').addEventListener(
    'click',
    guard(async () => {
      const body = undeleteBody()
      if (confirmRun(`Undelete into ${page.account ?? ''} what was deleted from ${showInstant(Date.parse(body.from), zone)} to ${showInstant(Date.parse(body.to), zone)}.`))
        await startJob(accountPath(page.account ?? '', '/undelete'), { ...body, dry_run: 'false' }, zone)
    }),
  )
  byId('rna-preview').addEventListener(
    'click',
    guard(async () => renderPlan('Restore plan', await post<Plan>(accountPath(page.account ?? '', '/restore-new-account'), { ...newAccountBody(), dry_run: 'true' }), zone)),
  )
  byId('rna-run').addEventListener(
    'click',
    guard(async () => {
      const body = newAccountBody()
      if (confirmRun(`Restore ${page.account ?? ''} as of ${showInstant(page.at, zone)} into ${body.destination}.`))
        await startJob(accountPath(page.account ?? '', '/restore-new-account'), { ...body, dry_run: 'false' }, zone)
    }),
  )
  const exportBody = () => ({ to: iso(Math.min(page.at, Date.now())), format: byId<HTMLSelectElement>('exp-format').value })
  byId('exp-preview').addEventListener(
    'click',
    guard(async () => {
      const r = await post<Record<string, unknown>>(accountPath(page.account ?? '', '/export'), { ...exportBody(), dry_run: 'true' })
      fill('plan', h('h3', {}, 'Export preview (nothing written yet)'), report(r))
    }),
  )
  byId('exp-run').addEventListener(
    'click',
    guard(() => startJob(accountPath(page.account ?? '', '/export'), exportBody(), zone)),
  )
}

wire()
if (token() === null) showLogin()
else guard(connect)()
