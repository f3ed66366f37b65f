/**
 * The rules of undelete, search and legal hold, checked by calling the use cases (src/app)
 * directly on a SQLite store, without the CLI: what an undelete restores and into which folder,
 * what a search finds, and that two legal holds decided at once never both land.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { streamOfAccount } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { MailEvent } from '../../domain/events'
import type { AppDeps, Backend, RestorePorts } from '../../src/app/ports'
import { silentProgress } from '../../src/app/ports'
import { search } from '../../src/app/inspect'
import { undelete } from '../../src/app/restore/plans'
import { legalHold } from '../../src/app/retention'
import { openBackend } from '../../src/wiring/backend'
import { I, ev } from '../support/build'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const ACC = 'alice@example.com'
const at = (min: number) => Date.parse('2026-03-02T10:00:00Z') + min * 60_000
const folder = (id: number, parent: number, name: string, t: number) => ev('ItemCreated', ACC, t, { itemId: I(id), itemType: 'folder', folderId: I(parent), name, flags: [], tags: [] })
const message = (id: number, folderId: number, subject: string, t: number) =>
  ev('ItemCreated', ACC, t, { itemId: I(id), itemType: 'message', folderId: I(folderId), flags: [], tags: [], headers: { subject }, content: { digest: `sha256:${'0'.repeat(63)}${id % 10}`, size: 10 } })

const storeWith = async (events: readonly MailEvent[]): Promise<Backend> => {
  const b = openBackend(`sqlite:${path.join(tmpDir(), 'm.db')}`, path.join(tmpDir(), 'blobs'))
  if (E.isLeft(b)) throw new Error(JSON.stringify(b.left))
  const r = await b.right.store.appendToStream(streamOfAccount(ACC as never), events)()
  if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
  return b.right
}

const depsOf = (b: Backend, over: Partial<AppDeps> = {}): AppDeps => ({
  backend: async () => b,
  zone: 'UTC',
  now: () => instant(at(600)) as Instant,
  operator: { initiator: 'dpo@example.com', host: 'test-host', pid: 1 },
  progress: silentProgress,
  note: () => undefined,
  warn: () => undefined,
  isAlive: () => true,
  ...over,
})

/** A dry run never reaches the target, the provisioner or the notifier. */
const noTarget: RestorePorts = {
  chooseTarget: () => {
    throw new Error('a dry run must not choose a target')
  },
  davSource: () => E.right(undefined),
  checkOwner: () => E.right(undefined),
  provisioner: () => undefined,
  notifier: () => undefined,
  admin: undefined,
  stopSignal: () => ({ stopped: () => false, dispose: () => undefined }),
}

const history = [
  ev('AccountCreated', ACC, at(0), { name: ACC }),
  folder(256, 1, 'Projects', at(1)),
  folder(257, 1, 'Old', at(1)),
  message(300, 256, 'kept', at(2)),
  message(301, 256, 'deleted in the window', at(2)),
  message(302, 257, 'deleted from a folder renamed later', at(2)),
  message(303, 2, 'deleted before the window', at(2)),
  ev('ItemDeleted', ACC, at(5), { itemId: I(303) }),
  ev('ItemDeleted', ACC, at(20), { itemId: I(301) }),
  ev('ItemDeleted', ACC, at(21), { itemId: I(302) }),
  ev('ItemRenamed', ACC, at(30), { itemId: I(257), name: 'Archive' }),
  ev('ItemDeleted', ACC, at(40), { itemId: I(257) }),
]

describe('the undelete use case', () => {
  it('plans the items deleted within the window, each into its folder named at the window end, else as it was just before the deletion', async () => {
    const b = await storeWith(history)
    const r = await undelete(depsOf(b), noTarget, { account: ACC, start: new Date(at(10)).toISOString(), end: new Date(at(35)).toISOString(), dryRun: 'true' })
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    expect(r.right.dryRun).toBe(true)
    const plan = r.right.json.plan as { items: { itemId: number; folder: string }[] }
    // 303 was deleted before the window; 300 never was. 302's folder still existed at the window's
    // end (renamed Archive then); with the window ending before its deletion it is named so.
    expect(plan.items.map((i) => [i.itemId, i.folder]).sort()).toEqual([
      [301, 'Projects'],
      [302, 'Archive'],
    ])
    const late = await undelete(depsOf(b), noTarget, { account: ACC, start: new Date(at(10)).toISOString(), end: 'last', dryRun: 'true' })
    if (E.isLeft(late)) throw new Error(JSON.stringify(late.left))
    // With the window past the folder's own deletion, 302 goes to the folder as it was named just before 302 was deleted.
    expect((late.right.json.plan as { items: { itemId: number; folder: string }[] }).items.find((i) => i.itemId === 302)?.folder).toBe('Old')
    await b.close()
  })

  it('returns bad input and unknown accounts as errors, not exceptions', async () => {
    const b = await storeWith(history)
    expect(await undelete(depsOf(b), noTarget, { account: ACC, start: 'last', end: 'first', dryRun: 'true' })).toMatchObject(E.left({ _tag: 'Usage' }))
    expect(await undelete(depsOf(b), noTarget, { account: ACC, start: new Date(at(30)).toISOString(), end: new Date(at(10)).toISOString() })).toEqual(E.left({ _tag: 'Usage', message: 'doUndelete: end is before start' }))
    expect(await undelete(depsOf(b), noTarget, { account: 'nobody', start: 'first', end: 'last' })).toMatchObject(E.left({ _tag: 'NotFound' }))
    await b.close()
  })
})

describe('the search use case', () => {
  it('finds deleted messages by default, live ones with not_deleted, and matches text case-sensitively', async () => {
    const b = await storeWith(history)
    const ids = async (req: Omit<Parameters<typeof search>[1], 'account'>) => {
      const r = await search(depsOf(b), { account: ACC, ...req })
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
      return r.right.rows.map((x) => x.s.itemId)
    }
    expect(await ids({})).toEqual([301, 302, 303])
    expect(await ids({ filter: 'not_deleted' })).toEqual([300])
    expect(await ids({ filter: 'all', text: 'deleted' })).toEqual([301, 302, 303])
    expect(await ids({ filter: 'all', text: 'Deleted' })).toEqual([])
    expect(await ids({ filter: 'all', type: 'folder' })).toEqual([256, 257])
    // A deleted item is dated by its deletion for before/after.
    expect(await ids({ after: new Date(at(10)).toISOString() })).toEqual([301, 302])
    await b.close()
  })
})

describe('the legal hold use case', () => {
  it('sets a hold once when two holds are decided on the same state at once (the second is decided again and changes nothing)', async () => {
    const b = await storeWith(history)
    // Both runs read the account before either appends: each append waits until both have come.
    let waiting: (() => void)[] = []
    const raced: Backend = {
      ...b,
      store: {
        ...b.store,
        appendToStream: (stream, events, options) => async () => {
          await new Promise<void>((resolve) => {
            waiting.push(resolve)
            if (waiting.length === 2) {
              for (const w of waiting) w()
              waiting = []
            }
          })
          return b.store.appendToStream(stream, events, options)()
        },
      },
    }
    const first = legalHold(depsOf(raced), { command: 'set', accounts: ACC, reason: 'case 1' })
    const second = legalHold(depsOf(raced), { command: 'set', accounts: ACC, reason: 'case 2' })
    // The re-decided run appends nothing, so only the first pair meets at the barrier.
    const results = await Promise.all([first, second])
    for (const r of results) expect(E.isRight(r)).toBe(true)
    const events = await b.store.readStream(streamOfAccount(ACC as never))()
    if (E.isLeft(events)) throw new Error('read failed')
    expect(events.right.filter((s) => s.event.type === 'LegalHoldSet')).toHaveLength(1)
    const changed = results.map((r) => (E.isRight(r) ? r.right.rows[0]?.changed : undefined)).sort()
    expect(changed).toEqual([false, true])
    await b.close()
  })

  it('releases a hold, and refuses an unknown command with a usage error', async () => {
    const b = await storeWith(history)
    const deps = depsOf(b)
    await legalHold(deps, { command: 'set', accounts: ACC })
    const r = await legalHold(deps, { command: 'UNSET', accounts: ACC })
    expect(E.isRight(r) && r.right.rows.map((x) => [x.hold, x.changed])).toEqual([['unset', true]])
    const g = await legalHold(deps, { command: 'get' })
    expect(E.isRight(g) && g.right.json).toEqual({ command: 'get', accounts: [{ account: ACC, name: ACC, hold: 'unset', changed: false, since: null }] })
    expect(await legalHold(deps, { command: 'hold' })).toMatchObject(E.left({ _tag: 'Usage' }))
    await b.close()
  })
})
