/**
 * Checks one content reference of an event against the blob store, through its public port: that
 * the blob exists, or (`read_data true`) that its bytes hash to the digest and have the size the
 * event recorded.
 *
 * A digest read and found good is remembered among the last `RECENT` ones, so a body referenced
 * by many items (copies, restored messages) is read once in a while rather than once per
 * reference; a set of every digest of a large store is what this avoids holding.
 */
import * as E from 'fp-ts/Either'
import type { Content } from '../../domain/events'
import { type BlobStore, isDigest } from '../blobs/blobStore'

export type BlobFinding =
  | { readonly _tag: 'Ok' }
  | { readonly _tag: 'Missing'; readonly path: string }
  | { readonly _tag: 'Corrupt'; readonly reason: string; readonly path: string }
  | { readonly _tag: 'Unreadable'; readonly reason: string; readonly path: string }
  | { readonly _tag: 'BadDigest' }
  | { readonly _tag: 'SizeDiffers'; readonly actual: number }

const RECENT = 10_000
const OK: BlobFinding = { _tag: 'Ok' }

export interface BlobChecker {
  check(content: Content): BlobFinding
  /** Blobs read and verified so far. */
  readonly read: () => number
}

export const blobChecker = (blobs: BlobStore, readData: boolean): BlobChecker => {
  const recent = new Map<string, number>()
  let read = 0
  const remember = (digest: string, size: number) => {
    recent.set(digest, size)
    if (recent.size > RECENT) {
      const oldest = recent.keys().next().value
      if (oldest !== undefined) recent.delete(oldest)
    }
  }
  return {
    read: () => read,
    check: ({ digest, size }) => {
      if (!isDigest(digest)) return { _tag: 'BadDigest' }
      if (!readData) return blobs.has(digest) ? OK : { _tag: 'Missing', path: blobs.root }
      const known = recent.get(digest)
      if (known !== undefined) return known === size ? OK : { _tag: 'SizeDiffers', actual: known }
      read++
      const r = blobs.get(digest, size)
      if (E.isLeft(r)) {
        const e = r.left
        switch (e._tag) {
          case 'BlobMissing':
            return { _tag: 'Missing', path: blobs.root }
          case 'BlobCorrupt':
            return { _tag: 'Corrupt', reason: e.reason, path: e.path }
          case 'BlobIOError':
          case 'BlobSyncFailed':
            return { _tag: 'Unreadable', reason: e.reason, path: e.path }
          case 'BadDigest':
            return { _tag: 'BadDigest' }
          case 'BlobSyncFailed':
            return { _tag: 'Unreadable', reason: e.reason, path: e.path }
        }
      }
      remember(digest, r.right.length)
      return r.right.length === size ? OK : { _tag: 'SizeDiffers', actual: r.right.length }
    },
  }
}
