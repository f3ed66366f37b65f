/** The item panel: every version of one item, with when and what changed. */
import { type History, accountPath, get } from './api'
import { fill, h, show } from './dom'
import { davLines, label, when } from './format'
import { describeVersions } from './versionChanges'

export const openItem = async (account: string, id: number, zone: string): Promise<void> => {
  const hist = await get<History>(accountPath(account, `/items/${id}/history`))
  const lastState = hist.versions[hist.versions.length - 1]?.state
  const panel = fill(
    'item',
    h('button', { type: 'button', class: 'close', 'aria-label': 'close', onclick: () => show('item', false) }, '×'),
    h('h3', {}, lastState === undefined ? `item ${id}` : label(lastState)),
    h('p', { class: 'note' }, `item ${id}${lastState?.from ? `, from ${lastState.from}` : ''}: ${hist.versions.length} versions`),
    lastState === undefined || davLines(lastState).length === 0
      ? null
      : h('dl', { class: 'dav-fields' }, ...davLines(lastState).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h(
      'ol',
      { class: 'versions' },
      ...describeVersions(hist.versions).map(({ version, changes }) =>
        h(
          'li',
          { class: version.state.status },
          h('time', {}, when(version.validFrom, zone)),
          ' ',
          h('strong', {}, version.cause),
          h('ul', {}, ...changes.map((c) => h('li', {}, c))),
        ),
      ),
    ),
  )
  panel.hidden = false
}
