/**
 * How items, versions and account views look: as stable JSON for scripts (instants in ISO-8601
 * with the chosen zone's offset) and as aligned text for people.
 */
import * as TE from 'fp-ts/TaskEither'
import * as E from 'fp-ts/Either'
import type { ItemState } from '../../domain/state'
import type { AccountView } from '../../projections/accountView'
import type { StoreError } from '../../projections/errors'
import { MAX_INSTANT } from '../../domain/instant'
import { formatInstant, isoInZone } from '../time/dates'
import { fromStoreError, notFound } from './failure'
import type { AccountLookup } from '../app/accounts'
import type { AccountId } from '../../domain/ids'
import { davJson } from '../dav/fields'

/** Runs a store query and turns a Left into the CLI failure that describes it. */
export const must = async <A>(te: TE.TaskEither<StoreError, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw fromStoreError(r.left)
  return r.right
}

export const foundOrFail = (raw: string, l: AccountLookup): AccountId => {
  if (l._tag === 'Found') return l.id
  const known = l.known.slice(0, 8).join(', ')
  throw notFound(
    `unknown account ${JSON.stringify(raw)}${l.known.length > 0 ? ` (accounts in this store: ${known}${l.known.length > 8 ? ', …' : ''})` : ' (the store holds no account; run mailtime demo or a scan first)'}`,
  )
}

export const when = (i: number | null | undefined, zone: string): string | null =>
  i === null || i === undefined ? null : i >= MAX_INSTANT ? null : isoInZone(i, zone)

export const human = (i: number | null | undefined, zone: string): string =>
  i === null || i === undefined || i >= MAX_INSTANT ? '…' : formatInstant(i, zone)

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

export const itemLabel = (s: ItemState): string =>
  s.itemType === 'folder' ? (s.name ?? '') : (s.headers?.subject ?? s.name ?? s.uid ?? '')

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

/** Left-aligned columns, for tables people read. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n')
}

export const clip = (s: string, n = 60): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
