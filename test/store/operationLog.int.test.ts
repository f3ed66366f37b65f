/**
 * The operations-stream port on SQLite and on a real PostgreSQL: each runs the operations-log
 * contract (test/contract/operationLogContract.ts).
 */
import * as path from 'path'
import { openStoreBackend } from '../../src/wiring/backend'
import { operationLogContract } from '../contract/operationLogContract'
import { postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { servicesRequired } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

const stores: [string, () => Promise<string>][] = [
  ['SQLite', async () => `sqlite:${path.join(tmpDir(), 'ops.db')}`],
  ...(postgresAvailable() || servicesRequired() ? [['PostgreSQL', async () => (await sharedPostgres()).freshDatabase()] as [string, () => Promise<string>]] : []),
]

afterAll(async () => {
  await stopSharedPostgres()
  cleanupTmp()
})

for (const [name, location] of stores)
  operationLogContract(name, async () => {
    const r = await openStoreBackend(await location(), path.join(tmpDir(), 'blobs'))
    if (r._tag === 'Left') throw new Error(JSON.stringify(r.left))
    return { log: r.right.operations, close: () => r.right.close() }
  })
