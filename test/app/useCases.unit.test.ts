/**
 * The rules of undelete, search, legal hold and purge, checked by calling the use cases (src/app)
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
import { purge } from '../../src/app/purge'
import { openBackend } from '../../src/wiring/backend'
import { I, ev } from '../support/build'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const ACC = 'alice@example.com'
const at = (min: number) => Date.parse('2026-03-02T10:00:00Z') + min * 60_000
const folder = (id: number, parent: number, name: string, t: number) =>
  ev('ItemCreated', ACC, t, { itemId: I(id), itemType: 'folder', folderId: I(parent), name, flags: [], tags: [] })
const message = (id: number, folderId: number, subject: string, t: number) =>
  ev('ItemCreated', ACC, t, {
    itemId: I(id),
    itemType: 'message',
    folderId: I(folderId),
    flags: [],
    tags: [],
    headers: { subject },
    content: { digest: `sha256:${'0'.repeat(63)}${id % 10}`, size: 10 },
  })

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
  it('plans the items deleted within the window, each into its folder named at the window end, else as the folder was just before its deletion in the window, else as it was just before the item deletion', async () => {
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
    // With the window past the folder's own deletion, the folder is recreated as it was named just
    // before that deletion, and 302 goes into it (not into "Old", its name when 302 was deleted,
    // which made a second folder).
    const latePlan = late.right.json.plan as { items: { itemId: number; folder: string }[]; folderItems: { itemId: number; folder: string }[] }
    expect({ message: latePlan.items.find((i) => i.itemId === 302)?.folder, folder: latePlan.folderItems.find((f) => f.itemId === 257)?.folder }).toEqual({
      message: 'Archive',
      folder: 'Archive',
    })
    await b.close()
  })

  // Found trying the product: a folder renamed, then deleted with its messages, one of whose
  // deletions a log line dated before the rename. Each message went to the folder as named just
  // before its own deletion: "Proj" for that one, "Proj 2026" for the other and for the folder
  // itself, so one deleted folder came back as two.
  it('puts the messages of a folder deleted in the window into that folder as it is recreated, one folder, whatever instants their own deletions have', async () => {
    const b = await storeWith([
      ev('AccountCreated', ACC, at(0), { name: ACC }),
      folder(260, 1, 'Proj', at(1)),
      message(310, 260, 'deleted first, dated by a log line', at(2)),
      message(311, 260, 'deleted with the folder, dated by a scan', at(2)),
      ev('ItemDeleted', ACC, at(20), { itemId: I(310) }),
      ev('ItemRenamed', ACC, at(25), { itemId: I(260), name: 'Proj 2026' }),
      ev('ItemDeleted', ACC, at(30), { itemId: I(311) }),
      ev('ItemDeleted', ACC, at(30), { itemId: I(260) }),
    ])
    const r = await undelete(depsOf(b), noTarget, { account: ACC, start: 'first', end: 'last', dryRun: 'true' })
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    const plan = r.right.json.plan as { folders: string[]; items: { itemId: number; folder: string }[]; folderItems: { itemId: number; folder: string }[] }
    expect({ folders: plan.folders, items: plan.items.map((i) => [i.itemId, i.folder]), folderItems: plan.folderItems.map((f) => [f.itemId, f.folder]) }).toEqual({
      folders: ['Proj 2026'],
      items: [
        [310, 'Proj 2026'],
        [311, 'Proj 2026'],
      ],
      folderItems: [[260, 'Proj 2026']],
    })
    await b.close()
  })

  it('returns bad input and unknown accounts as errors, not exceptions', async () => {
    const b = await storeWith(history)
    expect(await undelete(depsOf(b), noTarget, { account: ACC, start: 'last', end: 'first', dryRun: 'true' })).toMatchObject(E.left({ _tag: 'Usage' }))
    expect(await undelete(depsOf(b), noTarget, { account: ACC, start: new Date(at(30)).toISOString(), end: new Date(at(10)).toISOString() })).toEqual(
      E.left({ _tag: 'Usage', message: 'doUndelete: end is before start' }),
    )
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

describe('the purge use case', () => {
  const later = { now: () => instant(at(3 * 1440)) as Instant }

  it('lists what data retention lets go on a dry run without recording an operation, and keeps a held account whole', async () => {
    const b = await storeWith(history)
    const dry = await purge(depsOf(b, later), { purgeDays: '1', dryRun: 'true' })
    expect(E.isRight(dry) && dry.right.report.plan.purge.map((c) => c.itemId).sort()).toEqual([257, 301, 302, 303])
    expect(E.isRight(dry) && dry.right.operationId).toBeUndefined()
    expect(E.isRight(dry) && dry.right.json).toMatchObject({ dryRun: true, policy: { dataDays: 1, accountDays: 30 } })
    await legalHold(depsOf(b), { command: 'set', accounts: ACC })
    const held = await purge(depsOf(b, later), { purgeDays: '1' })
    expect(E.isRight(held) && [held.right.report.plan.purge.length, held.right.report.plan.held.map((h) => h.wouldPurge)]).toEqual([0, [4]])
    expect(E.isRight(held) && typeof held.right.operationId).toBe('string')
    await b.close()
  })

  it('returns bad retention words and a clock ahead of the real one as usage errors, before anything is purged', async () => {
    const b = await storeWith(history)
    expect(await purge(depsOf(b, later), { purgeDays: '-1' })).toMatchObject(E.left({ _tag: 'Usage' }))
    expect(await purge(depsOf(b, later), { retention: { dataDays: 1.5 } })).toMatchObject(E.left({ _tag: 'Usage' }))
    const future = { now: () => instant(Date.now() + 86_400_000) as Instant }
    expect(await purge(depsOf(b, future), { purgeDays: '1' })).toMatchObject(E.left({ _tag: 'Usage' }))
    const dry = await purge(depsOf(b, future), { purgeDays: '1', dryRun: 'true' })
    expect(E.isRight(dry) && dry.right.report.plan.purge.length).toBe(4)
    await b.close()
  })
})
