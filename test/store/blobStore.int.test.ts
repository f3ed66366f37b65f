import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import * as E from 'fp-ts/Either'
import { fsBlobStore, sha256, storedBlobFile } from '../../src/blobs/blobStore'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

describe('filesystem blob store', () => {
  it('stores content under its SHA-256, compressed, and reads back the same bytes', () => {
    const b = fsBlobStore(tmpDir())
    const body = Buffer.from('Subject: hi\r\n\r\n' + 'hello world '.repeat(1000))
    const r = b.put(body)
    expect(r).toEqual(E.right({ digest: sha256(body), size: body.length, written: true }))
    const file = path.join(b.root, sha256(body).slice(0, 2), `${sha256(body)}.gz`)
    expect(fs.statSync(file).size).toBeLessThan(body.length / 10)
    expect(b.get(sha256(body))).toEqual(E.right(body))
  })

  it('stores a body that gzip would not shrink by a 4 KB block as it is, and reads it back', () => {
    const b = fsBlobStore(tmpDir())
    const body = Buffer.from('Subject: short\r\n\r\nA short message body.\r\n')
    const digest = sha256(body)
    b.put(body)
    expect(storedBlobFile(b.root, digest)).toEqual({ file: path.join(b.root, digest.slice(0, 2), digest), gzip: false })
    expect(fs.readFileSync(path.join(b.root, digest.slice(0, 2), digest))).toEqual(body)
    expect(b.get(digest)).toEqual(E.right(body))
    expect(b.stat(digest)?.size).toBe(body.length)
  })

  it('reads blobs that an earlier version stored compressed whatever their size, and lists and removes them', () => {
    const b = fsBlobStore(tmpDir())
    const body = Buffer.from('tiny')
    const digest = sha256(body)
    fs.mkdirSync(path.join(b.root, digest.slice(0, 2)), { recursive: true })
    fs.writeFileSync(path.join(b.root, digest.slice(0, 2), `${digest}.gz`), zlib.gzipSync(body))
    expect(b.get(digest)).toEqual(E.right(body))
    expect(b.put(body)).toEqual(E.right({ digest, size: body.length, written: false }))
    expect(b.list()).toEqual([digest])
    expect(b.remove(digest)).toEqual(E.right(true))
    expect(b.has(digest)).toBe(false)
  })

  it('stores identical content once', () => {
    const b = fsBlobStore(tmpDir())
    const body = Buffer.from('same bytes')
    b.put(body)
    expect(b.put(Buffer.from('same bytes'))).toEqual(E.right({ digest: sha256(body), size: body.length, written: false }))
    expect(b.list()).toEqual([sha256(body)])
  })

  it('reports a blob whose content no longer matches its hash, naming digest and file', () => {
    const b = fsBlobStore(tmpDir())
    const { digest } = (b.put(Buffer.from('original')) as E.Right<{ digest: string }>).right
    const file = path.join(b.root, digest.slice(0, 2), digest)
    fs.writeFileSync(file, Buffer.from('tampered'))
    expect(b.get(digest)).toEqual(E.left({ _tag: 'BlobCorrupt', digest, path: file, reason: `content hashes to ${sha256(Buffer.from('tampered'))}` }))
  })

  it('reports a truncated blob as corrupt, and a missing one as missing', () => {
    const b = fsBlobStore(tmpDir())
    const { digest } = (b.put(Buffer.from('x'.repeat(5000))) as E.Right<{ digest: string }>).right
    const file = path.join(b.root, digest.slice(0, 2), `${digest}.gz`)
    expect(storedBlobFile(b.root, digest)).toEqual({ file, gzip: true })
    fs.truncateSync(file, 10)
    expect(b.get(digest)).toMatchObject(E.left({ _tag: 'BlobCorrupt', digest }))
    const absent = sha256(Buffer.from('never stored'))
    expect(b.get(absent)).toMatchObject(E.left({ _tag: 'BlobMissing', digest: absent }))
    expect(b.get('../../etc/passwd')).toEqual(E.left({ _tag: 'BadDigest', digest: '../../etc/passwd' }))
  })

  it('removes blobs, and removing an absent one is not an error', () => {
    const b = fsBlobStore(tmpDir())
    const { digest } = (b.put(Buffer.from('bye')) as E.Right<{ digest: string }>).right
    expect(b.remove(digest)).toEqual(E.right(true))
    expect(b.remove(digest)).toEqual(E.right(false))
    expect(b.has(digest)).toBe(false)
  })

  it('flushes the folders its writes touched, and names a folder it could not flush', () => {
    const b = fsBlobStore(path.join(tmpDir(), 'new', 'blobs'))
    const { digest } = (b.put(Buffer.from('durable')) as E.Right<{ digest: string }>).right
    expect(b.sync()).toEqual(E.right(undefined))
    // Nothing left to flush: a second sync touches no folder, so a vanished one is no error.
    fs.rmSync(b.root, { recursive: true })
    expect(b.sync()).toEqual(E.right(undefined))
    b.put(Buffer.from('durable'))
    fs.rmSync(path.join(b.root, digest.slice(0, 2)), { recursive: true })
    expect(b.sync()).toEqual(E.left({ _tag: 'BlobSyncFailed', path: path.join(b.root, digest.slice(0, 2)), reason: expect.stringContaining('ENOENT') }))
  })

  it('stores many blobs at once, in order, each once, readable when it resolves', async () => {
    const b = fsBlobStore(tmpDir())
    const old = Buffer.from('already there')
    b.put(old)
    const bodies = [Buffer.from('one'), Buffer.from('two ' + 'x'.repeat(9000)), old, Buffer.from('one')]
    const r = await b.putAll(bodies)
    expect(r).toEqual(E.right(bodies.map((x, i) => ({ digest: sha256(x), size: x.length, written: i < 2 }))))
    for (const x of bodies) expect(b.get(sha256(x))).toEqual(E.right(x))
    expect(b.list()).toEqual([...new Set(bodies.map(sha256))].sort())
    expect(b.sync()).toEqual(E.right(undefined))
  })
})
