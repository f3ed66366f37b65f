/**
 * The `--json` documents' common parts, built here once for the CLI and the HTTP API alike: instants
 * in ISO-8601 with the chosen zone's offset (null for none or "last"), items and account views.
 */
import { MAX_INSTANT } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import type { AccountView } from '../../projections/accountView'
import { isoInZone } from '../time/dates'
import { davJson } from '../dav/fields'

export const when = (i: number | null | undefined, zone: string): string | null => (i === null || i === undefined ? null : i >= MAX_INSTANT ? null : isoInZone(i, zone))

export const itemJson = (s: ItemState, folderPath: string, zone: string): Record<string, unknown> => ({
  itemId: s.itemId,
  itemType: s.itemType,
  status: s.status,
  known: s.known,
  folderId: s.folderId,
  folderPath,
  name: s.name,
  flags: s.flags,
  tags: s.tags,
  digest: s.content?.digest,
  size: s.content?.size,
  subject: s.headers?.subject,
  from: s.headers?.from,
  to: s.headers?.to,
  messageId: s.headers?.messageId,
  internalDate: when(s.internalDate, zone),
  createdAt: when(s.createdAt, zone),
  deletedAt: when(s.deletedAt, zone),
  purgedAt: when(s.purgedAt, zone),
  purgeReason: s.purgeReason,
  ...davJson(s),
})

/** How an item is named to people: a folder by its name, a message by its subject, else its name or UID. */
export const itemLabel = (s: ItemState): string => (s.itemType === 'folder' ? (s.name ?? '') : (s.headers?.subject ?? s.name ?? s.uid ?? ''))

export const viewJson = (v: AccountView, zone: string): unknown => ({
  account: v.account.accountId,
  name: v.account.name,
  exists: v.exists,
  asOf: when(v.validAt, zone) ?? 'last',
  knownAt: v.knownAt === undefined ? undefined : when(v.knownAt, zone),
  legalHold: v.account.legalHold !== undefined,
  folders: v.folders.map((f) => ({ folderId: f.folderId, path: f.path, itemCount: f.itemCount, system: f.system })),
  items: v.items.map((i) => itemJson(i.state, i.folderPath, zone)),
})
