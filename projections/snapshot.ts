/**
 * What an export records of an account at an instant (`states/*.json`): the folder tree and the item
 * list. The export writes it from the temporal index; `verifyExport` rebuilds it by replaying the
 * timeline, and the two must be equal, field for field.
 */
import type { ItemState } from '../domain/state'
import type { AccountView } from './accountView'

export type SnapshotItem = Snapshot['items'][number]

/** One item's line of a state file. */
export const snapshotItem = (folderPath: string, s: ItemState): SnapshotItem => ({
  itemId: s.itemId,
  itemType: s.itemType,
  folder: folderPath,
  flags: [...s.flags].sort(),
  tags: [...s.tags].sort(),
  digest: s.content?.digest ?? null,
  subject: s.headers?.subject ?? null,
})

/**
 * The same line as JSON text, keys in sorted order: exactly `stableStringify(snapshotItem(…), 0)`
 * (property-tested), without sorting keys for each of an export's 100,000 lines.
 */
export const snapshotItemJson = (folderPath: string, s: ItemState): string => {
  const digest = s.content?.digest
  const subject = s.headers?.subject
  return `{"digest":${digest === undefined ? 'null' : JSON.stringify(digest)},"flags":${sortedJson(s.flags)},"folder":${JSON.stringify(folderPath)},"itemId":${JSON.stringify(s.itemId)},"itemType":${JSON.stringify(s.itemType)},"subject":${subject === undefined ? 'null' : JSON.stringify(subject)},"tags":${sortedJson(s.tags)}}`
}

const sortedJson = (xs: readonly string[]): string => (xs.length === 0 ? '[]' : JSON.stringify([...xs].sort()))

export interface Snapshot {
  readonly at: string
  readonly exists: boolean
  readonly folders: readonly { folderId: number; path: string }[]
  readonly items: readonly {
    itemId: number
    itemType: string
    folder: string
    flags: readonly string[]
    tags: readonly string[]
    digest: string | null
    subject: string | null
  }[]
}

export const snapshotOf = (v: AccountView): Snapshot => ({
  at: new Date(v.validAt).toISOString(),
  exists: v.exists,
  folders: v.folders.map((f) => ({ folderId: f.folderId, path: f.path })),
  items: v.items.map((i) => snapshotItem(i.folderPath, i.state)),
})
