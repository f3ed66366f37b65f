/**
 * DAV restore against a real Radicale, as operations (`runRestore` with the DAV target): one contact
 * restored, deleted events (and a deleted calendar) undeleted into their collections, a whole
 * account's address books and calendars restored into a new account's home, byte for byte; an
 * object already there is Skipped and never overwritten; a dry run's plan names every request and
 * writes nothing. Changes on the server are made with plain HTTP requests.
 */
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import { type Backend, openBackend } from '../../src/wiring/backend'
import { davClient } from '../../src/dav/client'
import { captureDavAccount } from '../../src/dav/capture'
import { beforeDeletion, placeInCollections, restoredDavObjects } from '../../src/dav/restoreInputs'
import { type DavRestorePlan, davPlanLines, planDavItemRestore, planDavRestoreOnNewAccount, planDavUndelete } from '../../src/dav/restorePlan'
import { davRestoreTarget } from '../../src/dav/restoreTarget'
import { type RestoreOutcome, runRestore } from '../../src/restore/runRestore'
import { type Radicale, radicaleAvailable, startRadicale } from '../support/radicale'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import * as S from './samples'

const alice = 'alice' as AccountId
const VCARD = 'text/vcard; charset=utf-8'
const ICS = 'text/calendar; charset=utf-8'

describeWithService(radicaleAvailable(), 'Radicale')('DAV restore against Radicale', () => {
  let rad: Radicale
  let b: Backend
  let clock = Date.parse('2026-03-01T12:00:00Z')
  const now = (): Instant => instant(clock)
  const tick = () => (clock += 60_000)
  const client = () => davClient({ url: rad.url, user: rad.admin.user, password: rad.admin.password })
  const capture = async () => {
    const r = await captureDavAccount(client(), alice, ['/alice/'], {
      store: b.store,
      index: b.index,
      blobs: b.blobs,
      now,
      restored: async () => {
        const ids = await b.operations.restores()()
        if (E.isLeft(ids)) return ids
        const runs = []
        for (const id of ids.right) {
          const ev = await b.operations.read(id)()
          if (E.isLeft(ev)) return ev
          runs.push(ev.right)
        }
        return E.right(restoredDavObjects(runs, 'alice', rad.url))
      },
    })
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right
  }
  const restore = (plan: DavRestorePlan, verb: string): Promise<RestoreOutcome> =>
    runRestore(
      {
        operations: b.operations,
        blobs: b.blobs,
        now: () => clock,
        host: os.hostname(),
        pid: process.pid,
        isAlive: () => true,
        show: (ms) => new Date(ms).toISOString(),
        signalled: () => false,
      },
      { verb, params: {}, resumeKey: `${verb}:${plan.targetAccount}:${clock}`, plans: [plan], target: davRestoreTarget(client()), initiator: 'admin@example.com', recipients: [] },
    )
  const live = async (): Promise<ItemState[]> => {
    const r = await b.index.liveItemsAsOf(alice, { validAt: MAX_INSTANT as Instant })()
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right
  }
  const deletedSince = async (from: number): Promise<ItemState[]> => {
    const r = await b.index.deletedBetween(alice, { from: instant(from), to: MAX_INSTANT as Instant })()
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right.map((c) => c.state)
  }
  const placed = async (states: ItemState[], at: (s: ItemState) => Instant) => {
    const r = await placeInCollections(b.index, alice, states, at)
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right
  }
  /** What the server holds under a home: every object's path and bytes. */
  const served = async (home: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>()
    const cs = await client().collections(home)
    if (E.isLeft(cs)) throw new Error(JSON.stringify(cs.left))
    for (const c of cs.right) {
      const l = await client().etags(c.href)
      if (E.isLeft(l)) throw new Error(JSON.stringify(l.left))
      for (const m of l.right.changed) out.set(m.href.slice(home.length), (await rad.get(encodeURI(m.href))).toString('latin1'))
    }
    return out
  }
  const original = new Map<string, string>()

  beforeAll(async () => {
    rad = await startRadicale(tmpDir('mailtime-radicale-'))
    const dir = tmpDir('mailtime-dav-restore-')
    const opened = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(opened)) throw new Error(JSON.stringify(opened.left))
    b = opened.right
    await rad.makeAddressBook('alice', 'contacts', 'Personal')
    await rad.makeCalendar('alice', 'work', 'Work')
    await rad.makeCalendar('alice', 'trip', 'Trip 2026 ✈')
    await rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Lee'), VCARD)
    await rad.put('/alice/contacts/zoe.vcf', S.contactWithPhoto(), VCARD)
    await rad.put('/alice/work/weekly.ics', S.recurringWithExceptions(), ICS)
    await rad.put('/alice/work/holiday.ics', S.allDay(), ICS)
    await rad.put('/alice/work/passport.ics', S.task(), ICS)
    await rad.put('/alice/trip/flight.ics', S.simpleEvent('flight', 'Flight to Tokyo'), ICS)
    await rad.put('/alice/trip/budget.ics', S.eventWithAttachment(), ICS)
    await capture()
    for (const [k, v] of await served('/alice/')) original.set(k, v)
    expect(original.size).toBe(7)
  }, 60_000)
  afterAll(async () => {
    await b?.close()
    await rad?.stop()
    cleanupTmp()
  })

  it('restores one deleted contact to its path, byte for byte, as an operation; a second restore of it is Skipped', async () => {
    tick()
    await rad.remove('/alice/contacts/ann.vcf')
    const t0 = clock
    await capture()
    const [ann] = (await deletedSince(t0)).filter((s) => s.name === 'Ann Lee')
    expect(ann).toBeDefined()
    const plan = planDavItemRestore('alice', (await placed([ann as ItemState], beforeDeletion))[0] as never)
    expect(davPlanLines(plan)).toEqual([
      'MKCOL /alice/contacts/ if missing (address book "Personal")',
      `PUT /alice/contacts/ann.vcf If-None-Match: * (contact ${ann?.itemId} "Ann Lee", ${ann?.content?.size} bytes)`,
    ])
    tick()
    const r = await restore(plan, 'doItemRestore')
    expect([r.summary.state, r.summary.restored, r.summary.skipped, r.summary.unrestored]).toEqual(['done', 1, 0, []])
    expect(r.idMap).toEqual([{ account: 'alice', itemId: ann?.itemId, outcome: 'restored', location: 'dav:/alice/contacts/ann.vcf' }])
    expect((await rad.get('/alice/contacts/ann.vcf')).toString('latin1')).toBe(original.get('contacts/ann.vcf'))

    // The next capture records it as restored by the operation, not as a new contact.
    tick()
    const c = await capture()
    expect(c.collections.find((x) => x.href === '/alice/contacts/')).toMatchObject({ created: 0, restored: 1 })
    const back = (await live()).find((s) => s.name === 'Ann Lee')
    expect(back?.itemId).not.toBe(ann?.itemId)

    // Restoring it again while it is there: Skipped, the server's object untouched.
    await rad.put('/alice/contacts/ann.vcf', S.simpleContact('ann', 'Ann Edited Since'), VCARD)
    const again = await restore(plan, 'doItemRestore')
    expect([again.summary.restored, again.summary.skipped]).toEqual([0, 1])
    expect((await rad.get('/alice/contacts/ann.vcf')).toString()).toContain('FN:Ann Edited Since')
  })

  it('skips an object whose UID the collection already holds under another path', async () => {
    const zoe = (await live()).find((s) => s.uid === 'B1E4F0A2-6C3D-4E5F-8A9B-0C1D2E3F4A5B') as ItemState
    const moved = { ...zoe, dav: { href: '/alice/contacts/zoe-copy.vcf' } }
    const plan = planDavItemRestore('alice', (await placed([moved], () => now()))[0] as never)
    const r = await restore(plan, 'doItemRestore')
    expect([r.summary.restored, r.summary.skipped, r.summary.unrestored]).toEqual([0, 1, []])
    expect((await rad.http('GET', '/alice/contacts/zoe-copy.vcf')).status).toBe(404)
  })

  it('undeletes deleted events and a deleted calendar into their collections', async () => {
    tick()
    const t0 = clock
    await rad.remove('/alice/work/weekly.ics')
    await rad.remove('/alice/work/passport.ics')
    await rad.remove('/alice/trip/')
    tick()
    await capture()
    const deleted = await deletedSince(t0)
    expect(deleted.map((s) => s.name).sort()).toEqual(['Budget review (slides attached)', 'Flight to Tokyo', 'Rinnovare il passaporto', 'Trip 2026 ✈', 'Weekly sync ☕ Ünïcødé'])
    const plan = planDavUndelete('alice', await placed(deleted, beforeDeletion))
    expect(plan.dav.collections.map((c) => [c.href, c.kind, c.displayName])).toEqual([
      ['/alice/trip/', 'calendar', 'Trip 2026 ✈'],
      ['/alice/work/', 'calendar', 'Work'],
    ])
    tick()
    const r = await restore(plan, 'doUndelete')
    expect([r.summary.state, r.summary.restored, r.summary.skipped, r.summary.unrestored]).toEqual(['done', 5, 0, []])
    const now2 = await served('/alice/')
    for (const k of ['work/weekly.ics', 'work/passport.ics', 'trip/flight.ics', 'trip/budget.ics']) expect([k, now2.get(k)]).toEqual([k, original.get(k)])
    const trip = await client().collection('/alice/trip/')
    expect(E.isRight(trip) && trip.right).toMatchObject({ kind: 'calendar', displayName: 'Trip 2026 ✈' })
  })

  it('restores every address book and calendar of the account as it was into a new account, at the same paths', async () => {
    const before = instant(Date.parse('2026-03-01T12:00:30Z'))
    const states = (
      await (async () => {
        const r = await b.index.liveItemsAsOf(alice, { validAt: before })()
        if (E.isLeft(r)) throw new Error('as of')
        return r.right
      })()
    ).filter((s) => s.dav !== undefined)
    const plan = planDavRestoreOnNewAccount('alice', 'alice.new', await placed(states, () => before), { source: '/alice/', target: '/alice.new/' })
    expect(plan.unrestorable).toEqual([])
    // A dry run: the plan names every request, and nothing is written.
    const lines = davPlanLines(plan)
    expect(lines.filter((l) => l.startsWith('MKCOL') || l.startsWith('MKCALENDAR'))).toEqual([
      'MKCOL /alice.new/contacts/ if missing (address book "Personal")',
      'MKCALENDAR /alice.new/trip/ if missing (calendar "Trip 2026 ✈")',
      'MKCALENDAR /alice.new/work/ if missing (calendar "Work")',
    ])
    expect(lines.filter((l) => l.startsWith('PUT'))).toHaveLength(7)
    expect((await rad.http('PROPFIND', '/alice.new/', { headers: { Depth: '0' } })).status).toBe(404)

    const r = await restore(plan, 'doRestoreOnNewAccount')
    // 3 collections (restored as folder items, as a new account's folders are) and 7 objects.
    expect([r.summary.state, r.summary.restored, r.summary.skipped, r.summary.unrestored]).toEqual(['done', 10, 0, []])
    expect(await served('/alice.new/')).toEqual(original)
    const names = await client().collections('/alice.new/')
    expect(E.isRight(names) && names.right.map((c) => c.displayName)).toEqual(['Personal', 'Trip 2026 ✈', 'Work'])
  })
})
