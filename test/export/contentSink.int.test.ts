/**
 * The content writer's sink with more folders than it keeps MBOX files open: messages of 40
 * folders interleaved, so files are closed and opened again to append. Each MBOX must hold its
 * folder's messages in the order given, and its manifest entry must hash what is on disk.
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { fsBlobStore } from '../../src/blobs/blobStore'
import { type ContentJob, contentSink } from '../../src/export/contentFiles'
import { mboxEntry } from '../../src/export/mbox'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

describe('content sink', () => {
  it('writes every folder MBOX in order across reopenings, content files once, and hashes match the files', () => {
    const dir = tmpDir()
    const blobs = fsBlobStore(path.join(dir, 'blobs'))
    const dest = path.join(dir, 'out')
    fs.mkdirSync(path.join(dest, 'messages'), { recursive: true })
    const expected = new Map<string, Buffer[]>()
    const jobs: ContentJob[] = []
    for (let i = 0; i < 400; i++) {
      const body = Buffer.from(`Subject: m${i}\r\n\r\n${i % 7 === 0 ? 'From here on\r\n' : ''}body ${i} ${'x'.repeat(i % 5000)}\r\n`)
      const put = blobs.put(body)
      if (E.isLeft(put)) throw new Error('put')
      const rel = `mbox/folder-${i % 40}.mbox`
      const date = Date.UTC(2026, 2, 1 + (i % 28), i % 24)
      expected.set(rel, [...(expected.get(rel) ?? []), ...mboxEntry(body, date).map((p) => (typeof p === 'string' ? Buffer.from(p) : p))])
      jobs.push({ digest: put.right.digest, size: body.length, rel: `messages/${put.right.digest}.eml`, mbox: { rel, date } })
    }
    const sink = contentSink(blobs, dest)
    for (let i = 0; i < jobs.length; i += 37) expect(sink.write(jobs.slice(i, i + 37)).missing).toEqual([])
    const files = sink.end()
    expect(files.map((f) => f.path).sort()).toEqual([...expected.keys()].sort())
    for (const f of files) {
      const onDisk = fs.readFileSync(path.join(dest, f.path))
      expect(onDisk.equals(Buffer.concat(expected.get(f.path) ?? []))).toBe(true)
      expect(f).toEqual({ path: f.path, sha256: createHash('sha256').update(onDisk).digest('hex'), size: onDisk.length })
    }
    expect(fs.readdirSync(path.join(dest, 'messages'))).toHaveLength(400)
  })
})
