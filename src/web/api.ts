/**
 * The JSON API as the page calls it: every call carries the token (kept in this tab's session
 * storage only), and a failure becomes an ApiError with the server's one-line message.
 */

const KEY = 'mailtime.token'

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message)
  }
}

export const token = (): string | null => sessionStorage.getItem(KEY)
export const setToken = (t: string | null): void => (t === null ? sessionStorage.removeItem(KEY) : sessionStorage.setItem(KEY, t))

const call = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> => {
  const r = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token() ?? ''}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  })
  const json = (await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }))) as T & { error?: string }
  if (!r.ok && r.status !== 202) throw new ApiError(json.error ?? `${r.status} ${r.statusText}`, r.status)
  return json
}

/** `/api/…` with the query built from the defined parameters. */
export const get = <T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> => {
  const q = new URLSearchParams(Object.entries(query).filter((e): e is [string, string] => e[1] !== undefined))
  return call<T>('GET', `${path}${q.size > 0 ? `?${q.toString()}` : ''}`)
}

export const post = <T>(path: string, body: Record<string, string | undefined>): Promise<T> => call<T>('POST', path, body)

export const accountPath = (account: string, rest = ''): string => `/api/accounts/${encodeURIComponent(account)}${rest}`

import type { DavFieldsView } from '../dav/fieldChanges'

// The documents the page reads (the CLI's --json; docs/cli.md), as far as it uses them.
export interface Item {
  readonly itemId: number
  readonly itemType: string
  readonly status: string
  readonly folderId: number
  readonly folderPath: string
  readonly flags: string[]
  readonly tags: string[]
  readonly subject?: string | null
  readonly from?: string | null
  readonly name?: string | null
  readonly internalDate?: string | null
  readonly createdAt: string | null
  readonly deletedAt: string | null
  readonly digest?: string | null
  /** Contacts, appointments and tasks captured over CardDAV/CalDAV. */
  readonly uid?: string | null
  readonly dav?: { readonly href: string; readonly etag?: string } | null
  readonly davFields?: DavFieldsView | null
}
export interface Folder {
  readonly folderId: number
  readonly path: string
  readonly itemCount: number
  readonly system: boolean
}
export interface AccountState {
  readonly account: string
  readonly exists: boolean
  readonly folders: Folder[]
  readonly items: Item[]
}
export interface Bucket {
  readonly start: string
  readonly end: string
  readonly changes: number
  readonly created: number
  readonly deleted: number
  readonly moved: number
  readonly flagged: number
}
export interface Activity {
  readonly from: string | null
  readonly to: string | null
  readonly zone: string
  readonly peakDeletion: { start: string; deleted: number } | null
  readonly buckets: Bucket[]
}
export interface History {
  readonly versions: { cause: string; validFrom: string; validTo: string | null; state: Item }[]
}
export interface Diff {
  readonly added: Item[]
  readonly removed: Item[]
  readonly moved: { itemId: number; itemType: string; fromPath: string; toPath: string }[]
  readonly reflagged: { itemId: number; flagsBefore: string[]; flagsAfter: string[]; tagsBefore: string[]; tagsAfter: string[] }[]
  /** Absent from documents of earlier versions. */
  readonly changed?: { itemId: number; itemType: string; folderPath: string; name: string; changes: string[] }[]
}
/** Deletions a scan could only bound between two instants (an undelete's `possiblyInWindow`). */
export interface BoundedDeletions {
  readonly from: string
  readonly to: string
  readonly deletions: number
}
/** A dry run's document (one account's plan). */
export interface Plan {
  readonly plan: {
    readonly kind: string
    readonly sourceAccount: string
    readonly targetAccount: string
    readonly counts: { items: number; folderItems: number; folders: number; unrestorable: number }
    readonly items: { itemId: number; folder: string; subject?: string | null; itemType: string }[]
    /** The folders restored as items (recreated even when empty). */
    readonly folderItems: { itemId: number; folder: string }[]
    readonly unrestorable: { itemId: number; itemType: string; reason: string }[]
  }
  /** An undelete's: deletions that may lie in the window though they are dated after it. */
  readonly possiblyInWindow?: BoundedDeletions[]
}
/** The parts of a restore's report the page shows besides its figures. */
export interface RestoreReport {
  readonly restored?: number
  readonly skipped?: number
  readonly unrestored?: unknown[]
  readonly foldersRecreated?: { account: string; itemId: number; path: string }[]
  readonly possiblyInWindow?: BoundedDeletions[]
  readonly warnings?: string[]
}
export interface Job {
  readonly id: string
  readonly verb: string
  readonly state: string
  readonly label: string
  readonly done: number
  readonly total: number
  readonly notes: string[]
  readonly result: unknown
  readonly error: string | null
}
/** A rewind's preview (`doRewind … dry_run true`): the plan grouped by action, with counts. */
export interface RewindPreview {
  readonly instant: string
  readonly plan: {
    readonly counts: Record<string, number>
    readonly groups: { group: string; count: number; actions: { kind: string; description: string }[] }[]
    readonly unachievable: { itemId: number; what: string; reason: string }[]
    readonly keptInPlace: number
    readonly foldersLeft: string[]
  }
  /** Why the rewind itself would be refused (a legal hold). */
  readonly refusedBecause?: string
}
/** The parts of a rewind's report the page shows besides its figures. */
export interface RewindReport {
  readonly state?: string
  readonly failed?: { action: string; reason: string }[]
  readonly differences?: { text: string }[]
  readonly foundApplied?: number
}
