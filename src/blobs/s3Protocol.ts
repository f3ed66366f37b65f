/** The messages between the S3 blob store and its worker thread (`s3Worker.ts`). */

export type S3Request =
  | { readonly op: 'store'; readonly bodies: readonly Uint8Array[] }
  | { readonly op: 'get'; readonly digest: string }
  | { readonly op: 'head'; readonly digest: string }
  | { readonly op: 'remove'; readonly digest: string }
  | { readonly op: 'list' }

export interface StoredBlob {
  readonly digest: string
  readonly size: number
  readonly written: boolean
}

export type S3Reply =
  | { readonly _tag: 'Stored'; readonly results: readonly StoredBlob[] }
  | { readonly _tag: 'Bytes'; readonly bytes: Uint8Array }
  | { readonly _tag: 'Head'; readonly size: number; readonly mtimeMs: number }
  | { readonly _tag: 'Removed'; readonly removed: boolean }
  | { readonly _tag: 'Listed'; readonly digests: readonly string[] }
  | { readonly _tag: 'Missing'; readonly key: string }
  | { readonly _tag: 'Corrupt'; readonly key: string; readonly reason: string }
  | { readonly _tag: 'Failed'; readonly key: string; readonly reason: string }
