/**
 * A purge with blobs in S3 (s3rver on loopback): it lists the bucket, keeps every blob a retained
 * item references and every blob younger than the grace period, and deletes the rest from the bucket.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { openBackend } from '../../src/wiring/backend'
import { purge } from '../../src/retention/purge'
import { streamOfAccount } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { s3BlobStore } from '../../src/blobs/s3BlobStore'
import { ev } from '../support/build'
import { ok } from '../support/run'
import { type S3rver, startS3rver } from '../support/s3rver'
import { cleanupTmp, tmpDir } from '../support/tmp'

const DAY = 86_400_000

describe('purge with blobs in S3', () => {
  let s3: S3rver
  beforeAll(async () => {
    s3 = await startS3rver(tmpDir())
  })
  afterAll(async () => {
    await s3?.stop()
    cleanupTmp()
  })

  it('keeps blobs that retained items reference and blobs within the grace period, and deletes the rest from the bucket', async () => {
    const now = Date.now() as Instant
    const at = (daysAgo: number) => now - daysAgo * DAY
    const msg = (item: number, daysAgo: number, digest: string) =>
      ev('ItemCreated', 'a', at(daysAgo), { itemId: item as never, itemType: 'message', folderId: 2 as never, flags: [], tags: [], content: { digest, size: 10 } })
    const opened = openBackend(`sqlite:${path.join(tmpDir(), 'm.db')}`, s3.spec('purge'))
    if (E.isLeft(opened)) throw new Error('open')
    const b = opened.right
    const put = (text: string) => {
      const r = b.blobs.put(Buffer.from(text))
      if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
      return r.right.digest
    }
    const shared = put('same bytes')
    const only = put('only in the deleted item')
    const orphan = put('referenced by nothing')
    await ok(
      b.store.appendToStream(streamOfAccount('a' as never), [
        msg(300, 90, shared),
        msg(301, 90, only),
        msg(302, 90, shared),
        ev('ItemDeleted', 'a', at(60), { itemId: 300 as never }),
        ev('ItemDeleted', 'a', at(60), { itemId: 301 as never }),
        ev('ItemDeleted', 'a', at(10), { itemId: 302 as never }),
      ]),
    )
    const opts = { policy: { dataDays: 30, accountDays: 30 }, now, dryRun: false, by: 'test', operationId: 'op-test', graceMs: 3_600_000 }
    // Now: 300 and 301 go, but their blobs were stored a moment ago, within the grace period.
    const young = await purge(b, opts)
    expect(young.plan.purge.map((c) => c.itemId)).toEqual([300, 301])
    expect([young.orphanBlobs, young.recentBlobs, young.blobsDeleted]).toEqual([0, 2, 0])
    expect(s3BlobStore(s3.spec('purge')).list()).toEqual([shared, only, orphan].sort())
    // Two days later: past the grace period; 302 (deleted 10 days before) still needs the shared blob.
    const later = await purge(b, { ...opts, now: (now + 2 * DAY) as Instant })
    expect([later.orphanBlobs, later.blobsDeleted]).toEqual([2, 2])
    expect(s3BlobStore(s3.spec('purge')).list()).toEqual([shared])
    // Forty days later 302 goes too, and with it the last blob.
    const last = await purge(b, { ...opts, now: (now + 40 * DAY) as Instant })
    expect(last.plan.purge.map((c) => c.itemId)).toEqual([302])
    expect(last.blobsDeleted).toBe(1)
    expect(s3BlobStore(s3.spec('purge')).list()).toEqual([])
    await b.close()
  })
})
