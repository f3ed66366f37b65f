/**
 * The behaviour every event store adapter must have (see `src/store/eventStore.ts`). Each adapter's
 * test file calls `eventStoreContract` with a factory that returns a fresh, empty store.
 */
import * as E from 'fp-ts/Either'
import { decodeMailEvent } from '../../domain/decodeEvent'
import type { EventStore } from '../../src/store/eventStore'
import { ev } from '../support/build'
import { fail, ok } from '../support/run'

export interface ContractFixture {
  readonly store: EventStore
  readonly dispose: () => Promise<void>
  /** The adapter keeps each event's JSON text and must give it when asked (`withText`). */
  readonly keepsText?: boolean
}

const created = (account: string, item: number, at: number, extra: { recordedAt?: number; seq?: number } = {}) =>
  ev('ItemCreated', account, at, { itemId: item as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [] }, extra)

export const eventStoreContract = (name: string, fresh: () => Promise<ContractFixture>): void => {
  describe(`event store contract: ${name}`, () => {
    let fx: ContractFixture
    beforeEach(async () => {
      fx = await fresh()
    })
    afterEach(async () => {
      await fx.dispose()
    })

    it('appends to a new stream and reads the events back in order with revisions from 0', async () => {
      const es = [created('a', 300, 1000), created('a', 301, 2000), created('a', 302, 3000)]
      const r = await ok(fx.store.appendToStream('account-a', es, { expectedRevision: -1 }))
      expect(r).toEqual({ lastRevision: 2, appended: 3, duplicates: 0 })
      const back = await ok(fx.store.readStream('account-a'))
      expect(back.map((s) => s.revision)).toEqual([0, 1, 2])
      expect(back.map((s) => s.event)).toEqual(es)
    })

    it('gives the stored JSON text of each event when asked, and it decodes to the event', async () => {
      const es = [created('a', 300, 1000), created('a', 301, 2000)]
      await ok(fx.store.appendToStream('account-a', es))
      const plain = await ok(fx.store.readStream('account-a'))
      expect(plain.map((s) => s.text)).toEqual([undefined, undefined])
      const back = await ok(fx.store.readStream('account-a', { withText: true }))
      expect(back.map((s) => s.event)).toEqual(es)
      // An adapter that keeps no text gives none; one that does gives text that decodes to the event.
      if (fx.keepsText === true) expect(back.every((s) => s.text !== undefined)).toBe(true)
      for (const s of back) if (s.text !== undefined) expect(decodeMailEvent(JSON.parse(s.text))).toEqual(E.right(s.event))
    })

    it('reads forwards from a revision and backwards from a revision', async () => {
      const es = [1, 2, 3, 4, 5].map((i) => created('a', 300 + i, i * 1000))
      await ok(fx.store.appendToStream('account-a', es))
      const fwd = await ok(fx.store.readStream('account-a', { from: 2, maxCount: 2 }))
      expect(fwd.map((s) => s.revision)).toEqual([2, 3])
      const bwd = await ok(fx.store.readStream('account-a', { from: 3, direction: 'backwards' }))
      expect(bwd.map((s) => s.revision)).toEqual([3, 2, 1, 0])
      const last = await ok(fx.store.readStream('account-a', { direction: 'backwards', maxCount: 1 }))
      expect(last.map((s) => s.revision)).toEqual([4])
    })

    it('reads a stream up to an instant of valid time', async () => {
      const es = [created('a', 301, 3000), created('a', 302, 1000), created('a', 303, 2000)]
      await ok(fx.store.appendToStream('account-a', es))
      const upTo = await ok(fx.store.readStreamUntil('account-a', 2000 as never))
      expect(upTo.map((s) => s.event.eventId)).toEqual([es[1]!.eventId, es[2]!.eventId])
    })

    it('rejects an append whose expected revision is stale, writing nothing', async () => {
      await ok(fx.store.appendToStream('account-a', [created('a', 300, 1)], { expectedRevision: -1 }))
      const err = await fail(fx.store.appendToStream('account-a', [created('a', 301, 2)], { expectedRevision: -1 }))
      expect(err).toEqual({ _tag: 'ConcurrencyConflict', stream: 'account-a', expected: -1, actual: 0 })
      expect(await ok(fx.store.streamRevision('account-a'))).toBe(0)
      await ok(fx.store.appendToStream('account-a', [created('a', 301, 2)], { expectedRevision: 0 }))
      expect(await ok(fx.store.streamRevision('account-a'))).toBe(1)
    })

    it('appends nothing new when the same events are appended again, whatever the expected revision', async () => {
      const es = [created('a', 300, 1, { seq: 1 }), created('a', 301, 2, { seq: 2 })]
      await ok(fx.store.appendToStream('account-a', es, { expectedRevision: -1 }))
      const again = await ok(fx.store.appendToStream('account-a', es, { expectedRevision: -1 }))
      expect(again).toEqual({ lastRevision: 1, appended: 0, duplicates: 2 })
      const mixed = await ok(fx.store.appendToStream('account-a', [es[1]!, created('a', 302, 3, { seq: 3 })], { expectedRevision: 1 }))
      expect(mixed).toEqual({ lastRevision: 2, appended: 1, duplicates: 1 })
      expect((await ok(fx.store.readStream('account-a'))).length).toBe(3)
    })

    it('keeps streams apart and lists them by prefix', async () => {
      await ok(fx.store.appendToStream('account-a', [created('a', 300, 1)]))
      await ok(fx.store.appendToStream('account-b', [created('b', 300, 1)]))
      await ok(fx.store.appendToStream('ops', [created('a', 900, 1)]))
      expect(await ok(fx.store.listStreams('account-'))).toEqual(['account-a', 'account-b'])
      expect((await ok(fx.store.readStream('account-b'))).map((s) => s.event.accountId)).toEqual(['b'])
      expect(await ok(fx.store.streamRevision('account-zzz'))).toBe(-1)
      expect(await ok(fx.store.readStream('account-zzz'))).toEqual([])
    })

    it('reads all streams after a global position, in append order', async () => {
      await ok(fx.store.appendToStream('account-a', [created('a', 300, 1)]))
      await ok(fx.store.appendToStream('account-b', [created('b', 300, 1), created('b', 301, 1)]))
      const all = await ok(fx.store.readAll({}))
      expect(all.map((s) => [s.stream, s.revision])).toEqual([
        ['account-a', 0],
        ['account-b', 0],
        ['account-b', 1],
      ])
      const after = await ok(fx.store.readAll({ after: all[0]!.globalPosition }))
      expect(after.map((s) => s.stream)).toEqual(['account-b', 'account-b'])
      const positions = all.map((s) => s.globalPosition)
      expect([...positions].sort((x, y) => x - y)).toEqual(positions)
    })

    it('writes a checkpoint with the events, and not when the append conflicts', async () => {
      await ok(fx.store.appendToStream('account-a', [created('a', 300, 1)], { checkpoint: { name: 'scan:a', value: 'v1' } }))
      expect(await ok(fx.store.readCheckpoint('scan:a'))).toBe('v1')
      await fail(fx.store.appendToStream('account-a', [created('a', 301, 1)], { expectedRevision: 5, checkpoint: { name: 'scan:a', value: 'v2' } }))
      expect(await ok(fx.store.readCheckpoint('scan:a'))).toBe('v1')
      expect(await ok(fx.store.readCheckpoint('nothing'))).toBeUndefined()
    })

    it('serialises concurrent appenders on one stream: exactly one of two racing writers wins', async () => {
      await ok(fx.store.appendToStream('account-a', [created('a', 300, 1)]))
      const results = await Promise.all([
        fx.store.appendToStream('account-a', [created('a', 301, 2)], { expectedRevision: 0 })(),
        fx.store.appendToStream('account-a', [created('a', 302, 2)], { expectedRevision: 0 })(),
      ])
      expect(results.filter((r) => r._tag === 'Right')).toHaveLength(1)
      expect(results.filter((r) => r._tag === 'Left')).toHaveLength(1)
      expect((await ok(fx.store.readStream('account-a'))).map((s) => s.revision)).toEqual([0, 1])
    })
  })
}
