/**
 * The operations-stream port on SQLite and on a real PostgreSQL: streams in order, start order,
 * resume keys, stop requests, and `restores()` listing only the operations with a resume key.
 */
import * as path from 'path'
import type { OperationEvent } from '../../domain/operations'
import { type Backend, openStoreBackend } from '../../src/wiring/backend'
import { postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { servicesRequired } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

const started = (operationId: string, at: number, resumeKey?: string): OperationEvent => ({
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

const stores: [string, () => Promise<string>][] = [
  ['SQLite', async () => `sqlite:${path.join(tmpDir(), 'ops.db')}`],
  ...(postgresAvailable() || servicesRequired() ? [['PostgreSQL', async () => (await sharedPostgres()).freshDatabase()] as [string, () => Promise<string>]] : []),
]

afterAll(async () => {
  await stopSharedPostgres()
  cleanupTmp()
})

describe.each(stores)('the operations log on %s', (_name, location) => {
  let b: Backend
  beforeAll(async () => {
    const r = await openStoreBackend(await location(), path.join(tmpDir(), 'blobs'))
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left))
    b = r.right
  })
  afterAll(async () => b?.close())

  it('keeps each stream in order, lists by start, finds by resume key, and lists only the restores', async () => {
    const ops = b.operations
    await must(ops.append('op-b', [started('op-b', 2000, 'key-1')]))
    await must(ops.append('op-a', [started('op-a', 1000)]))
    await must(ops.append('op-c', [started('op-c', 3000, 'key-1')]))
    await must(ops.append('op-b', [{ type: 'StopRequested', operationId: 'op-b', at: 2500, by: 'x' }, { type: 'OperationEnded', operationId: 'op-b', at: 2600, status: 'stopped', restored: 0, skipped: 0, unrestored: 0 }]))
    expect(await must(ops.list())).toEqual(['op-a', 'op-b', 'op-c'])
    expect(await must(ops.restores())).toEqual(['op-b', 'op-c'])
    expect(await must(ops.byResumeKey('key-1'))).toEqual(['op-b', 'op-c'])
    expect((await must(ops.read('op-b'))).map((e) => e.type)).toEqual(['OperationStarted', 'StopRequested', 'OperationEnded'])
    expect(await must(ops.stopRequested('op-b'))).toBe(true)
    expect(await must(ops.stopRequested('op-c'))).toBe(false)
  })
})
