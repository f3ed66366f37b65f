/**
 * The use cases that look into the backup without changing it: an item as of an instant or its
 * history, an account as of an instant, the search, the diff between two instants, the accounts and
 * an account's summary. Each returns its `--json` document (`json`), built here once for the CLI and
 * the HTTP API, with what the CLI's text needs beside it.
 */
import type * as E from 'fp-ts/Either'
import { type AccountId, parseItemId, streamOfAccount } from '../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import { type AccountDiff, type AccountView, accountAsOf, diff as diffOf } from '../../projections/accountView'
import type { ItemVersion } from '../../projections/versions'
import { type AccountSummary, accountSummary, listAccountIds } from './accounts'
import { type AppError, attempt, fail, notFoundError, usageError } from './errors'
import { davChanges, davSearchFields } from '../dav/fields'
import { itemJson, itemLabel, viewJson, when } from './json'
import type { AppDeps } from './ports'
import { folderTreesOf, instantArg, must, noteDates, resolveAccount } from './support'

export interface GetItemRequest {
  readonly account: string
  readonly itemId: string
  /** An instant in the user's words, `last` (default) or `all` (every version). */
  readonly date?: string
}

export type GetItemResult =
  | {
      readonly kind: 'history'
      readonly json: Record<string, unknown>
      readonly account: AccountId
      readonly itemId: number
      readonly versions: readonly (ItemVersion & { readonly path: string })[]
      /** For contacts, appointments and tasks: what each version changed, field by field (undefined for mail). */
      readonly changes?: readonly (readonly string[])[]
    }
  | {
      readonly kind: 'asOf'
      readonly json: Record<string, unknown>
      readonly account: AccountId
      readonly itemId: number
      readonly at: Instant
      readonly version?: ItemVersion & { readonly path: string }
      readonly firstSeen?: number
    }

export const getItem = (deps: AppDeps, req: GetItemRequest): Promise<E.Either<AppError, GetItemResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const item = parseItemId(req.itemId)
    if (item === undefined) return fail(usageError(`getItem: item id must be a positive integer, got ${JSON.stringify(req.itemId)}`))
    const history = await must(b.index.itemHistory(a, item))
    if (history.length === 0) return fail(notFoundError(`item ${item} never existed in account ${a}`))
    const { zone } = deps
    if ((req.date ?? '').toLowerCase() === 'all') {
      const versions = []
      const trees = folderTreesOf(b, a)
      // Each version's folder as of the instant the version began (for a deletion: when it was deleted).
      for (const v of history) versions.push({ ...v, path: (await trees(v.validFrom, [v.state.folderId])).pathOf(v.state.folderId) })
      // Contacts, appointments and tasks: what each version changed, field by field.
      const dav = history.some((v) => v.state.dav !== undefined)
      const changes = history.map((v, i) => {
        const before = history[i - 1]?.state
        const name = before !== undefined && before.name !== v.state.name ? [`name ${before.name ?? '(none)'} → ${v.state.name ?? '(none)'}`] : []
        return [...name, ...davChanges(before, v.state)]
      })
      return {
        kind: 'history',
        account: a,
        itemId: item,
        versions,
        ...(dav && { changes }),
        json: {
          account: a,
          itemId: item,
          versions: versions.map((v, i) => ({
            validFrom: when(v.validFrom, zone),
            validTo: when(v.validTo, zone),
            cause: v.cause,
            eventId: v.eventId,
            state: itemJson(v.state, v.path, zone),
            ...(dav && { changes: changes[i] ?? [] }),
          })),
        },
      }
    }
    const at = req.date === undefined ? (MAX_INSTANT as Instant) : instantArg(req.date, zone, 'date', { last: true })
    await noteDates(deps, a, [{ what: 'date', at, asOf: true }])
    const v = history.find((h) => h.validFrom <= at && (h.validTo === null || h.validTo > at))
    if (v === undefined) {
      const firstSeen = history[0]?.validFrom
      return {
        kind: 'asOf',
        account: a,
        itemId: item,
        at,
        ...(firstSeen !== undefined && { firstSeen }),
        json: { account: a, itemId: item, asOf: when(at, zone) ?? 'last', version: null },
      }
    }
    const path = (await folderTreesOf(b, a)(at, [v.state.folderId])).pathOf(v.state.folderId)
    return {
      kind: 'asOf',
      account: a,
      itemId: item,
      at,
      version: { ...v, path },
      json: {
        account: a,
        itemId: item,
        asOf: when(at, zone) ?? 'last',
        version: { validFrom: when(v.validFrom, zone), validTo: when(v.validTo, zone), cause: v.cause, eventId: v.eventId, state: itemJson(v.state, path, zone) },
      },
    }
  })

export interface AccountStateRequest {
  readonly account: string
  /** Valid time, in the user's words (default `last`). */
  readonly date?: string
  /** System time: as the backup knew it then (default now). */
  readonly knownAt?: string
}

export interface AccountStateResult {
  readonly json: unknown
  readonly view: AccountView
  readonly validAt: Instant
  readonly knownAt?: Instant
}

export const getAccountState = (deps: AppDeps, req: AccountStateRequest): Promise<E.Either<AppError, AccountStateResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const validAt = req.date === undefined ? (MAX_INSTANT as Instant) : instantArg(req.date, deps.zone, 'date', { last: true })
    const knownAt = req.knownAt === undefined ? undefined : instantArg(req.knownAt, deps.zone, 'known_at')
    await noteDates(deps, a, [{ what: 'date', at: validAt, asOf: true }, ...(knownAt !== undefined ? [{ what: 'known_at', at: knownAt, asOf: false }] : [])])
    const view = await must(accountAsOf(b.index, a, { validAt, ...(knownAt !== undefined && { knownAt }) }))
    return { json: viewJson(view, deps.zone), view, validAt, ...(knownAt !== undefined && { knownAt }) }
  })

export type SearchFilter = 'deleted' | 'not_deleted' | 'all'

export interface SearchRequest {
  readonly account: string
  /** Case-sensitive text matched against subject, from, to, Message-ID, names and UIDs. */
  readonly text?: string
  /** An item type, or `all` (default `message`). */
  readonly type?: string
  /** Only items deleted (filter deleted) or created (otherwise) before this instant. */
  readonly before?: string
  /** … at or after this instant. */
  readonly after?: string
  /** Default `deleted`, as Carbonio's search. */
  readonly filter?: SearchFilter
}

export interface SearchResult {
  readonly json: Record<string, unknown>
  readonly filter: SearchFilter
  readonly type: string
  readonly rows: readonly { readonly s: ItemState; readonly path: string }[]
}

const matches = (s: ItemState, needle: string | undefined): boolean =>
  needle === undefined ||
  [s.headers?.subject, s.headers?.from, s.headers?.to, s.headers?.messageId, s.name, s.uid, ...davSearchFields(s)].some((f) => f !== undefined && f.includes(needle))

/**
 * The search's rule: the pool is the live items (not_deleted), the items deleted and still gone,
 * each in its latest deletion or its purge (deleted), or both (all); filtered by type and text; a
 * live item is dated by its creation, a deleted one by its deletion, for before/after.
 */
export const search = (deps: AppDeps, req: SearchRequest): Promise<E.Either<AppError, SearchResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const { zone } = deps
    const filter = req.filter ?? 'deleted'
    const type = req.type ?? 'message'
    const before = req.before === undefined ? undefined : instantArg(req.before, zone, 'before', { last: true })
    const after = req.after === undefined ? undefined : instantArg(req.after, zone, 'after', { first: true })
    const ix = b.index
    const last = { validAt: MAX_INSTANT as Instant }
    const live = await must(ix.liveItemsAsOf(a, last))
    const liveIds = new Set(live.map((s) => s.itemId))
    const deletedVersions = filter === 'not_deleted' ? [] : await must(ix.deletedBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant }))
    // The latest deletion of each item that is still gone (an item deleted and re-created is live).
    const deleted = new Map<number, ItemState>()
    for (const v of deletedVersions) if (!liveIds.has(v.itemId)) deleted.set(v.itemId, v.state)
    for (const [id] of deleted) {
      const now = await must(ix.itemAsOf(a, id as never, last))
      if (now?.state.status === 'purged') deleted.set(id, now.state)
    }
    const pool = [...(filter === 'deleted' ? [] : live), ...(filter === 'not_deleted' ? [] : deleted.values())]
    const hits = pool
      .filter((s) => type === 'all' || s.itemType === type)
      .filter((s) => matches(s, req.text))
      .filter((s) => {
        const t = s.status === 'live' ? s.createdAt : s.deletedAt
        return (before === undefined || (t !== undefined && t < before)) && (after === undefined || (t !== undefined && t >= after))
      })
      .sort((x, y) => x.itemId - y.itemId)
    const rows = []
    const trees = folderTreesOf(b, a)
    for (const s of hits) {
      // A deleted item's folder as of its deletion, as getItem's deletion version names it.
      const at = s.status === 'live' ? MAX_INSTANT : (s.deletedAt ?? s.purgedAt ?? MAX_INSTANT)
      rows.push({ s, path: (await trees(at, [s.folderId])).pathOf(s.folderId) })
    }
    return { filter, type, rows, json: { account: a, filter, type, count: rows.length, items: rows.map(({ s, path }) => itemJson(s, path, zone)) } }
  })

export interface DiffRequest {
  readonly account: string
  readonly from: string
  readonly to: string
}

export interface DiffResult {
  readonly json: Record<string, unknown>
  readonly account: AccountId
  readonly from: Instant
  readonly to: Instant
  readonly diff: AccountDiff
  /** Content changes: a contact or event edited, with what changed field by field. */
  readonly changed: readonly DiffChange[]
}

export interface DiffChange {
  readonly itemId: number
  readonly itemType: string
  readonly folderPath: string
  readonly name: string
  readonly changes: readonly string[]
}

export const diff = (deps: AppDeps, req: DiffRequest): Promise<E.Either<AppError, DiffResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const { zone } = deps
    const t1 = instantArg(req.from, zone, 'date1', { first: true, last: true })
    const t2 = instantArg(req.to, zone, 'date2', { first: true, last: true })
    if (t2 < t1) fail(usageError('diff: date2 is before date1'))
    await noteDates(deps, a, [
      { what: 'date1', at: t1, asOf: true },
      { what: 'date2', at: t2, asOf: true },
    ])
    const d = await must(diffOf(b.index, a, t1, t2))
    const changed = d.changed.map((c) => ({
      itemId: c.itemId,
      itemType: c.itemType,
      folderPath: c.folderPath,
      name: itemLabel(c.after),
      changes: [
        ...(c.before.name !== c.after.name && c.itemType !== 'message' ? [`name ${c.before.name ?? '(none)'} → ${c.after.name ?? '(none)'}`] : []),
        ...davChanges(c.before, c.after),
      ],
    }))
    return {
      account: a,
      from: t1,
      to: t2,
      diff: d,
      changed,
      json: {
        account: a,
        from: when(t1, zone) ?? 'last',
        to: when(t2, zone) ?? 'last',
        added: d.added.map((i) => itemJson(i.state, i.folderPath, zone)),
        removed: d.removed.map((i) => itemJson(i.state, i.folderPath, zone)),
        moved: d.moved,
        reflagged: d.reflagged,
        changed,
      },
    }
  })

export interface AccountsResult {
  readonly json: Record<string, unknown>
  readonly accounts: readonly AccountSummary[]
}

export const listAccounts = (deps: AppDeps): Promise<E.Either<AppError, AccountsResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const ids = await must(listAccountIds(b))
    const sums = []
    for (const id of ids) sums.push(await must(accountSummary(b, id)))
    return {
      accounts: sums,
      json: {
        accounts: sums.map((s) => ({
          account: s.state.accountId,
          name: s.state.name,
          deleted: s.state.deletedAt !== undefined,
          legalHold: s.state.legalHold !== undefined,
          events: s.revision + 1,
        })),
      },
    }
  })

export interface AccountInfo {
  readonly account: AccountId
  readonly name: string
  readonly createdAt: string | null
  readonly deletedAt: string | null
  readonly legalHold: { readonly by: string; readonly since: string | null } | null
  readonly liveItems: number
  readonly liveFolders: number
  readonly deletions: number
  readonly events: number
  readonly firstRecordedAt: string | null
  readonly lastRecordedAt: string | null
}

export interface AccountInfoResult {
  readonly json: AccountInfo
  readonly summary: AccountSummary
  readonly firstRecordedAt: number | undefined
  readonly lastRecordedAt: number | undefined
}

/** What the backup knows of an account: names, creation, deletion, legal hold, counts. */
export const getAccountInfo = (deps: AppDeps, req: { readonly account: string }): Promise<E.Either<AppError, AccountInfoResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const a = await resolveAccount(b, req.account)
    const { zone } = deps
    const s = await must(accountSummary(b, a))
    const last = { validAt: MAX_INSTANT as Instant }
    const live = await must(b.index.liveItemsAsOf(a, last))
    const deleted = await must(b.index.deletedBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant }))
    const first = (await must(b.store.readStream(streamOfAccount(a), { maxCount: 1 })))[0]?.event.recordedAt
    const latest = (await must(b.store.readStream(streamOfAccount(a), { direction: 'backwards', maxCount: 1 })))[0]?.event.recordedAt
    return {
      summary: s,
      firstRecordedAt: first,
      lastRecordedAt: latest,
      json: {
        account: a,
        name: s.state.name,
        createdAt: when(s.state.createdAt, zone),
        deletedAt: when(s.state.deletedAt, zone),
        legalHold: s.state.legalHold === undefined ? null : { by: s.state.legalHold.by, since: when(s.state.legalHold.since, zone) },
        liveItems: live.filter((x) => x.itemType !== 'folder').length,
        liveFolders: live.filter((x) => x.itemType === 'folder').length,
        deletions: deleted.length,
        events: s.revision + 1,
        firstRecordedAt: when(first, zone),
        lastRecordedAt: when(latest, zone),
      },
    }
  })
