/**
 * Capture into S3 (s3rver on loopback) from a real Dovecot, run as the built CLI: bodies land in the
 * bucket and read back verified; the S3 server dying mid-capture stops the capture with a clear error
 * and a non-zero exit, leaves no event without its blob, and a re-run once the server is back ends
 * with exactly the state of a clean capture.
 */
import * as fs from 'fs'
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtimeAsync } from '../support/cli'
import { type S3rver, S3_BUCKET, startS3rver } from '../support/s3rver'
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { blobKey } from '../../src/blobs/blobLocation'
import { s3BlobStore } from '../../src/blobs/s3BlobStore'
import { cleanupTmp, tmpDir } from '../support/tmp'

const MESSAGES = 120
// Each case runs the CLI seven or eight times.
jest.setTimeout(240_000)

describeWithService(dovecotAvailable(), 'Dovecot')('capture with blobs in S3', () => {
  let d: Dovecot
  const servers: S3rver[] = []
  const s3 = async (dir: string, o: Parameters<typeof startS3rver>[1] = {}) => {
    const s = await startS3rver(dir, o)
    servers.push(s)
    return s
  }
  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw' })
    const c = clientAs(d, 'erin')
    await c.connect()
    for (const box of ['Work', 'Trash']) await c.mailboxCreate(box)
    const boxes = ['INBOX', 'Work', 'Trash']
    for (let i = 0; i < MESSAGES; i++)
      await c.append(
        boxes[i % 3] as string,
        Buffer.from(`Subject: m${i}\r\nMessage-ID: <m${i}@s3>\r\n\r\n${'body line\r\n'.repeat(20 + i * 40)}\r\n`),
        i % 2 ? ['\\Seen'] : [],
        new Date(Date.UTC(2026, 1, 1, 0, i)),
      )
    await c.logout()
  })
  afterAll(async () => {
    for (const s of servers) await s.stop()
    await removeDovecot(d)
    cleanupTmp()
  })

  const imap = () => ({ MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw', MAILTIME_SCAN_BATCH_SIZE: '20' })
  // Run without blocking this process, which must keep reading the S3 server's output meanwhile.
  const mailtime = (args: string[], env: Record<string, string>) => mailtimeAsync(args, env).done
  const view = async (store: string, env: Record<string, string>, blobs: string) =>
    (await mailtime(['--store', store, '--blobs', blobs, '--json', 'getAccountState', 'erin'], env)).stdout
  const events = async (store: string, env: Record<string, string>, blobs: string) =>
    JSON.parse((await mailtime(['--store', store, '--blobs', blobs, '--json', 'getAccountInfo', 'erin'], env)).stdout).events

  let captured: { server: S3rver; store: string; blobs: string; env: Record<string, string> } | undefined
  it('stores every body in the bucket under its digest; the coherency check and an export read each back verified', async () => {
    const server = await s3(tmpDir())
    const store = `sqlite:${path.join(tmpDir(), 'm.db')}`
    const blobs = `s3://${S3_BUCKET}/site-a/blobs`
    const env = { ...imap(), ...server.env }
    const scan = await mailtime(['--store', store, '--blobs', blobs, 'doAccountScan', 'erin'], env)
    expect([scan.code, scan.stderr]).toEqual([0, ''])
    expect(JSON.parse(await view(store, env, blobs)).items).toHaveLength(MESSAGES)
    const check = await mailtime(['--store', store, '--blobs', blobs, '--json', 'doCoherencyCheck', 'all', 'read_data', 'true'], env)
    expect(check.code).toBe(0)
    expect(JSON.parse(check.stdout).accounts[0]).toMatchObject({ account: 'erin', blobReferences: MESSAGES, blobsRead: MESSAGES })
    // An export reads the bodies on its worker threads, each with its own S3 client.
    const dest = path.join(tmpDir(), 'export')
    const exp = await mailtime(['--store', store, '--blobs', blobs, '--json', 'exportHistory', 'erin', 'dest', dest], env)
    expect([exp.code, exp.stderr]).toEqual([0, ''])
    expect(JSON.parse(exp.stdout).missing).toEqual([])
    expect(fs.readdirSync(path.join(dest, 'messages'))).toHaveLength(MESSAGES)
    expect((await mailtime(['verifyExport', dest], {})).code).toBe(0)
    for (const out of [scan.stdout, scan.stderr, check.stdout, check.stderr, exp.stdout, exp.stderr]) expect(out).not.toContain('S3RVER')
    captured = { server, store, blobs, env }
  })

  it('finds bodies deleted or damaged in the bucket behind its back, and fetches them again from Dovecot into it', async () => {
    if (captured === undefined) throw new Error('the capture above failed')
    const { server, store, blobs, env } = captured
    // A body deleted and another damaged behind the store's back: found, then fetched again from Dovecot into the bucket.
    const listed = s3BlobStore(server.spec('site-a/blobs')).list()
    expect(listed).toHaveLength(MESSAGES)
    const [gone, flipped] = listed as [string, string]
    const raw = new S3Client({ endpoint: server.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
    await raw.send(new DeleteObjectCommand({ Bucket: S3_BUCKET, Key: blobKey('site-a/blobs', gone) }))
    await raw.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: blobKey('site-a/blobs', flipped), Body: Buffer.from('rotten'), Metadata: { 'mailtime-encoding': 'identity' } }))
    raw.destroy()
    const damaged = await mailtime(['--store', store, '--blobs', blobs, '--json', 'doCoherencyCheck', 'all', 'read_data', 'true'], env)
    expect(damaged.code).toBe(8)
    const kinds = (out: string) =>
      JSON.parse(out)
        .problems.map((p: { kind: string; digest: string; repair: { repaired: boolean } | null }) => [p.kind, p.digest, p.repair?.repaired ?? false])
        .sort()
    expect(kinds(damaged.stdout)).toEqual(
      [
        ['blob-corrupt', flipped, false],
        ['blob-missing', gone, false],
      ].sort(),
    )
    const repaired = await mailtime(['--store', store, '--blobs', blobs, '--json', 'doCoherencyCheck', 'all', 'read_data', 'true', 'repair', 'true'], env)
    expect({ code: repaired.code, out: repaired.code === 0 ? '' : repaired.stdout + repaired.stderr }).toEqual({ code: 0, out: '' })
    expect(kinds(repaired.stdout)).toEqual(
      [
        ['blob-corrupt', flipped, true],
        ['blob-missing', gone, true],
      ].sort(),
    )
    expect((await mailtime(['--store', store, '--blobs', blobs, 'doCoherencyCheck', 'all', 'read_data', 'true'], env)).code).toBe(0)
    // Nothing about the credentials in any output.
    for (const out of [damaged.stdout, damaged.stderr, repaired.stdout, repaired.stderr]) expect(out).not.toContain('S3RVER')
    await server.stop()
    // Every body once, and the two fetched again (the damaged one by the test itself, too).
    expect(server.puts()).toBe(MESSAGES + 3)
  })

  it("stops with a clear error when the S3 server dies mid-capture, commits no event without its blob, and resumes to a clean capture's state", async () => {
    const clean = `sqlite:${path.join(tmpDir(), 'clean.db')}`
    const cleanBlobs = path.join(tmpDir(), 'blobs')
    expect((await mailtime(['--store', clean, '--blobs', cleanBlobs, 'doAccountScan', 'erin'], imap())).code).toBe(0)
    const expected = await view(clean, {}, cleanBlobs)
    expect(JSON.parse(expected).items).toHaveLength(MESSAGES)

    const dir = tmpDir()
    const dying = await s3(dir, { dieAfterPuts: 40 })
    const store = `sqlite:${path.join(tmpDir(), 'm.db')}`
    const blobs = `s3://${S3_BUCKET}/blobs`
    const env = { ...imap(), ...dying.env }
    const failed = await mailtime(['--store', store, '--blobs', blobs, 'doAccountScan', 'erin'], env)
    await dying.exited
    expect(failed.code).toBe(4)
    expect(failed.stderr).toMatch(
      new RegExp(`blob store: blob [0-9a-f]{64} could not be read or written \\(s3://${S3_BUCKET}/blobs/[0-9a-f]{2}/[0-9a-f]{64}\\): .*(ECONNREFUSED|ECONNRESET|socket hang up)`),
    )
    // It died at its 41st PUT; the capture stores bodies several at a time, so a few of the 40 before
    // may have been cut short too.
    expect(dying.puts()).toBeGreaterThan(0)
    expect(dying.puts()).toBeLessThanOrEqual(40)

    // The server comes back on the same port with the same data.
    const back = await s3(dir, { port: dying.port })
    const storedBefore = s3BlobStore(back.spec('blobs')).list().length
    expect(storedBefore).toBeGreaterThanOrEqual(dying.puts())
    expect(storedBefore).toBeLessThan(MESSAGES)
    const between = await mailtime(['--store', store, '--blobs', blobs, '--json', 'doCoherencyCheck', 'all', 'read_data', 'true'], env)
    expect([between.code, between.stderr]).toEqual([0, ''])
    const again = await mailtime(['--store', store, '--blobs', blobs, 'doAccountScan', 'erin'], env)
    expect([again.code, again.stderr]).toEqual([0, ''])
    expect(await view(store, env, blobs)).toBe(expected)
    expect(await events(store, env, blobs)).toBe(await events(clean, {}, cleanBlobs))
    const check = await mailtime(['--store', store, '--blobs', blobs, 'doCoherencyCheck', 'all', 'read_data', 'true', 'full', 'true'], env)
    expect([check.code, check.stderr]).toEqual([0, ''])
    // The bodies stored before the failure were found, not stored again.
    await back.stop()
    expect(back.puts()).toBe(MESSAGES - storedBefore)
  })
})
