/**
 * `migrateBlobs <from> <to>` with the built CLI: a folder to S3 (s3rver on loopback) and back, every
 * blob read back and verified; a re-run copies nothing; a damaged source blob or target copy is named
 * and makes the command fail (or is mended, for the target), and nothing is reported copied that
 * the target cannot give back.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { fsBlobStore, sha256 } from '../../src/blobs/blobStore'
import { s3BlobStore } from '../../src/blobs/s3BlobStore'
import { mailtimeAsync } from '../support/cli'
import { type S3rver, S3_BUCKET, startS3rver } from '../support/s3rver'
import { cleanupTmp, tmpDir } from '../support/tmp'

const mailtime = (args: string[], env: Record<string, string> = {}) => mailtimeAsync(args, env).done

describe('migrateBlobs', () => {
  let s3: S3rver
  beforeAll(async () => {
    s3 = await startS3rver(tmpDir())
  })
  afterAll(async () => {
    await s3?.stop()
    cleanupTmp()
  })

  const folderWith = (n: number) => {
    const dir = tmpDir()
    const b = fsBlobStore(dir)
    const bodies = Array.from({ length: n }, (_, i) => Buffer.from(`Subject: m${i}\r\n\r\n${'line\r\n'.repeat(i * 300)}`))
    for (const body of bodies) b.put(body)
    b.sync()
    return { dir, digests: bodies.map(sha256).sort(), bodies }
  }

  it('copies a folder to S3 and back, verifying every blob, and a re-run copies nothing', async () => {
    const src = folderWith(12)
    const bucket = `s3://${S3_BUCKET}/copy1`
    const up = await mailtime(['--json', 'migrateBlobs', src.dir, bucket], s3.env)
    expect([up.code, up.stderr]).toEqual([0, ''])
    expect(JSON.parse(up.stdout)).toMatchObject({ from: src.dir, to: bucket, total: 12, copied: 12, alreadyThere: 0, repaired: 0, verified: 12, failed: [], interrupted: false })
    expect(s3BlobStore(s3.spec('copy1')).list()).toEqual(src.digests)

    const again = await mailtime(['--json', 'migrateBlobs', src.dir, bucket], s3.env)
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 12, copied: 0, alreadyThere: 12, verified: 12, bytesCopied: 0, failed: [] })

    const back = path.join(tmpDir(), 'back')
    const down = await mailtime(['migrateBlobs', bucket, back], s3.env)
    expect([down.code, down.stderr]).toEqual([0, ''])
    expect(down.stdout).toMatch(
      new RegExp(
        `^12 of 12 blob\\(s\\) in ${back} verified \\(SHA-256 of each read back\\): 12 copied \\(\\d+\\.\\d MB\\), 0 already there, 0 damaged and copied again; from ${bucket} in \\d+\\.\\d s\\n$`,
      ),
    )
    const copy = fsBlobStore(back)
    expect(copy.list()).toEqual(src.digests)
    for (const body of src.bodies) expect(copy.get(sha256(body))).toEqual(E.right(body))
  })

  it('names a source blob that is damaged, copies the rest, and exits 7; a damaged target copy is written again', async () => {
    const src = folderWith(5)
    const bad = src.digests[2] as string
    const raw = path.join(src.dir, bad.slice(0, 2), bad)
    const file = fs.existsSync(raw) ? raw : `${raw}.gz`
    fs.writeFileSync(file, 'damaged')
    const target = path.join(tmpDir(), 'target')
    const r = await mailtime(['--json', 'migrateBlobs', src.dir, target])
    expect(r.code).toBe(7)
    const rep = JSON.parse(r.stdout)
    expect(rep).toMatchObject({ total: 5, copied: 4, verified: 4 })
    expect(rep.failed).toEqual([{ digest: bad, stage: 'read', reason: expect.stringContaining(`blob ${bad} is corrupt (${file})`) }])

    // The target's copy of another blob is damaged behind its back: the next run mends it.
    const victim = src.digests[0] as string
    const tRaw = path.join(target, victim.slice(0, 2), victim)
    fs.writeFileSync(fs.existsSync(tRaw) ? tRaw : `${tRaw}.gz`, 'rotten')
    const text = await mailtime(['migrateBlobs', src.dir, target])
    expect(text.code).toBe(7)
    expect(text.stdout).toContain('4 of 5 blob(s)')
    expect(text.stdout).toContain('1 damaged and copied again')
    expect(text.stdout).toContain(`FAILED read ${bad}: blob ${bad} is corrupt`)
    expect(fsBlobStore(target).get(victim)).toMatchObject({ _tag: 'Right' })
  })

  it('fails with a clear error, and no success, when the target S3 server is gone', async () => {
    const src = folderWith(3)
    const gone = await startS3rver(tmpDir())
    const env = gone.env
    await gone.stop()
    const r = await mailtime(['--json', 'migrateBlobs', src.dir, `s3://${S3_BUCKET}/x`], env)
    expect(r.code).toBe(7)
    const rep = JSON.parse(r.stdout)
    expect(rep).toMatchObject({ total: 3, copied: 0, verified: 0 })
    expect(rep.failed).toHaveLength(3)
    expect(rep.failed[0].reason).toMatch(/ECONNREFUSED/)
  })

  it('refuses the same store twice, a missing source folder, and a location that is neither a folder nor s3://', async () => {
    const src = folderWith(1)
    expect((await mailtime(['migrateBlobs', src.dir, `${src.dir}/`])).code).toBe(2)
    const missing = await mailtime(['migrateBlobs', path.join(src.dir, 'nope'), tmpDir()])
    expect([missing.code, missing.stderr]).toEqual([3, expect.stringContaining('does not exist')])
    const bad = await mailtime(['migrateBlobs', src.dir, 'gs://bucket/x'])
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('a blob store is a folder or s3://bucket/prefix')])
  })
})
