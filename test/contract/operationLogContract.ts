/**
 * The operations-log contract (src/store/operationLog.ts): what every adapter of the port must do,
 * run by each (SQLite and PostgreSQL, test/store/operationLog.int.test.ts): streams kept in order,
 * listed by start, found by resume key, stop requests, and `restores()` listing only the operations
 * with a resume key; an unknown operation reads as an empty stream.
 */
import type { OperationEvent } from '../../domain/operations'
import type { OperationLog } from '../../src/store/operationLog'

export const started = (operationId: string, at: number, resumeKey?: string): OperationEvent => ({
  type: 'OperationStarted',
  operationId,
  at,
  kind: resumeKey === undefined ? 'scan' : 'restore',
  verb: resumeKey === undefined ? 'doAccountScan' : 'doUndelete',
  params: {},
  initiator: 'ops@example.com',
  host: 'h',
  pid: 1,
  ...(resumeKey !== undefined && { resumeKey, target: 'imap://mail:143' }),
})

const must = async <A>(te: () => Promise<{ _tag: 'Left'; left: unknown } | { _tag: 'Right'; right: A }>): Promise<A> => {
  const r = await te()
  if (r._tag === 'Left') throw new Error(JSON.stringify(r.left))
  return r.right
}

/** Runs the contract on the log `open` gives (a fresh, empty one per suite); `close` releases it. */
export const operationLogContract = (name: string, open: () => Promise<{ log: OperationLog; close: () => Promise<void> }>) => {
  describe(`the operations log contract on ${name}`, () => {
    let ops: OperationLog
    let close: () => Promise<void> = async () => undefined
    beforeAll(async () => {
      const o = await open()
      ops = o.log
      close = o.close
    })
    afterAll(async () => close())

    it('keeps each stream in order, lists by start, finds by resume key, and lists only the restores', async () => {
      await must(ops.append('op-b', [started('op-b', 2000, 'key-1')]))
      await must(ops.append('op-a', [started('op-a', 1000)]))
      await must(ops.append('op-c', [started('op-c', 3000, 'key-1')]))
      await must(
        ops.append('op-b', [
          { type: 'StopRequested', operationId: 'op-b', at: 2500, by: 'x' },
          { type: 'OperationEnded', operationId: 'op-b', at: 2600, status: 'stopped', restored: 0, skipped: 0, unrestored: 0 },
        ]),
      )
      expect(await must(ops.list())).toEqual(['op-a', 'op-b', 'op-c'])
      expect(await must(ops.restores())).toEqual(['op-b', 'op-c'])
      expect(await must(ops.byResumeKey('key-1'))).toEqual(['op-b', 'op-c'])
      expect((await must(ops.read('op-b'))).map((e) => e.type)).toEqual(['OperationStarted', 'StopRequested', 'OperationEnded'])
      expect(await must(ops.stopRequested('op-b'))).toBe(true)
      expect(await must(ops.stopRequested('op-c'))).toBe(false)
    })

    it('reads an unknown operation as an empty stream, not asked to stop, and finds nothing by an unknown resume key', async () => {
      expect(await must(ops.read('op-never'))).toEqual([])
      expect(await must(ops.stopRequested('op-never'))).toBe(false)
      expect(await must(ops.byResumeKey('key-never'))).toEqual([])
    })
  })
}
