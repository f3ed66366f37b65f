/**
 * Composite time-travel queries built on the `TimeTravel` primitives, once for every
 * implementation: the account as of an instant (folder tree with counts, and items with their
 * folder path, flags, tags and digest), the account's own state, and the diff of two instants.
 */
import * as TE from 'fp-ts/TaskEither'
import { pipe } from 'fp-ts/function'
import type { AccountEvent } from '../domain/events'
import type { AccountId, ItemId } from '../domain/ids'
import type { Instant } from '../domain/instant'
import { evolveAccount } from '../domain/evolve'
import { ALWAYS_SHOWN_FOLDERS, SYSTEM_FOLDERS, isSystemFolder, FolderIds } from '../domain/folders'
import { type AccountState, type ItemState, initialAccountState } from '../domain/state'
import type { StoreError } from './errors'
import { accountSource, type AccountSource } from './accountSource'
import { completeFolderTree } from './folderNaming'
import type { FolderTree } from './folderTree'
import { type RecordedEvent, sortRecorded } from './order'
import type { AsOf, LiveItemRef, LiveRefs, TimeTravel } from './timeTravel'

export interface FolderView {
  readonly folderId: number
  readonly name: string
  readonly path: string
  readonly parentId: number
  readonly itemCount: number
  readonly system: boolean
}

export interface ItemView {
  readonly itemId: ItemId
  readonly itemType: ItemState['itemType']
  readonly folderId: number
  readonly folderPath: string
  readonly state: ItemState
}

export interface AccountView {
  readonly account: AccountState
  /** False when the account did not exist yet, or had been deleted, at `validAt`. */
  readonly exists: boolean
  readonly validAt: Instant
  readonly knownAt?: Instant
  readonly folders: FolderView[]
  readonly items: ItemView[]
}

/** The account-level state at an instant, from its account events. */
export const accountStateAt = (accountId: AccountId, events: readonly RecordedEvent<AccountEvent>[], at: AsOf): AccountState =>
  sortRecorded(events)
    .filter((r) => r.event.occurredAt <= at.validAt && (at.knownAt === undefined || r.event.recordedAt <= at.knownAt))
    .reduce((s, r) => evolveAccount(s, r.event), initialAccountState(accountId))

/**
 * The folder list of a view: every live folder, every folder an item is in (with its count), their
 * parents, so that paths have no holes, and, while the account exists, the system folders it always
 * has: Inbox, Trash, Junk, Sent and Drafts in a Carbonio account, INBOX alone in an IMAP one (its
 * other system folders are live folders, recorded by the scan that saw them on the server).
 */
export const folderViewsOf = (tree: FolderTree, counts: ReadonlyMap<number, number>, source: AccountSource, exists: boolean): FolderView[] => {
  // An account that does not exist (yet, or any more) has no folders, not even the ones every account has.
  const always = !exists ? [] : source.imap ? [FolderIds.INBOX] : ALWAYS_SHOWN_FOLDERS
  const shown = new Set<number>([...always, ...tree.liveIds(), ...counts.keys()])
  for (const id of [...shown]) {
    let p = tree.parentOf(id)
    for (let guard = 0; p !== FolderIds.USER_ROOT && guard < 64; guard++, p = tree.parentOf(p)) shown.add(p)
  }
  shown.delete(FolderIds.USER_ROOT)
  return [...shown]
    .map((id) => ({
      folderId: id,
      name: tree.nameOf(id),
      path: tree.pathOf(id),
      parentId: tree.parentOf(id),
      itemCount: counts.get(id) ?? 0,
      system: isSystemFolder(id) && SYSTEM_FOLDERS.has(id),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.folderId - b.folderId))
}

/** Whether the account existed at the instant (before any account event, having items is the evidence). */
export const accountExists = (account: AccountState, validAt: Instant, hasItems: boolean): boolean =>
  (account.createdAt === undefined ? hasItems : account.createdAt <= validAt) && account.deletedAt === undefined

/**
 * An item of a view whose state is read from its reference on first use. A class, not an object
 * literal with a getter: V8 builds those 15 times slower, which was half of an account as-of. The
 * state is a prototype getter, so `toJSON` puts it back into JSON.
 */
class LiveItemView implements ItemView {
  readonly #ref: LiveItemRef
  readonly itemId: ItemId
  readonly itemType: ItemState['itemType']
  readonly folderId: number
  readonly folderPath: string
  constructor(ref: LiveItemRef, folderPath: string) {
    this.#ref = ref
    this.itemId = ref.itemId
    this.itemType = ref.itemType
    this.folderId = ref.folderId
    this.folderPath = folderPath
  }
  get state(): ItemState {
    return this.#ref.state()
  }
  toJSON(): Omit<ItemView, 'state'> & { state: ItemState } {
    return { itemId: this.itemId, itemType: this.itemType, folderId: this.folderId, folderPath: this.folderPath, state: this.state }
  }
}

/**
 * Builds the view from the live folders and items of one instant and the tree that names their
 * folders (pure). Item states are decoded when a consumer reads them (rendering, JSON, a restore
 * plan), each once: a view of 50,000 items costs no state decoding until then.
 */
export const buildAccountView = (account: AccountState, live: LiveRefs, at: AsOf, tree: FolderTree, source: AccountSource): AccountView => {
  const counts = new Map<number, number>()
  const items = live.items.map((r): ItemView => {
    counts.set(r.folderId, (counts.get(r.folderId) ?? 0) + 1)
    return new LiveItemView(r, tree.pathOf(r.folderId))
  })
  const exists = accountExists(account, at.validAt, live.folders.length + live.items.length > 0)
  return {
    account,
    exists,
    validAt: at.validAt,
    ...(at.knownAt !== undefined && { knownAt: at.knownAt }),
    folders: folderViewsOf(tree, counts, source, exists),
    items,
  }
}

/** The folder ids items are in, each once. */
const folderIdsOf = (items: readonly { folderId: number }[]): Set<number> => {
  const ids = new Set<number>()
  for (const i of items) ids.add(i.folderId)
  return ids
}

export const accountAsOf = (tt: TimeTravel, account: AccountId, at: AsOf): TE.TaskEither<StoreError, AccountView> =>
  pipe(
    TE.Do,
    TE.bind('events', () => tt.accountEvents(account)),
    TE.bind('live', () => tt.liveRefsAsOf(account, at)),
    TE.bind('tree', ({ live }) => completeFolderTree(tt, account, at, live.folders, folderIdsOf(live.items))),
    TE.map(({ events, live, tree }) => buildAccountView(accountStateAt(account, events, at), live, at, tree, accountSource(events))),
  )

export interface MovedItem {
  readonly itemId: ItemId
  readonly itemType: ItemState['itemType']
  readonly fromPath: string
  readonly toPath: string
}

export interface ReflaggedItem {
  readonly itemId: ItemId
  readonly itemType: ItemState['itemType']
  readonly flagsBefore: readonly string[]
  readonly flagsAfter: readonly string[]
  readonly tagsBefore: readonly string[]
  readonly tagsAfter: readonly string[]
}

export interface AccountDiff {
  readonly from: Instant
  readonly to: Instant
  readonly added: ItemView[]
  readonly removed: ItemView[]
  readonly moved: MovedItem[]
  readonly reflagged: ReflaggedItem[]
  /** Items whose content or name changed (a contact or event edited, a draft saved again), with both states. */
  readonly changed: ChangedItem[]
}

export interface ChangedItem {
  readonly itemId: ItemId
  readonly itemType: ItemView['itemType']
  readonly folderPath: string
  readonly before: ItemState
  readonly after: ItemState
}

const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** What changed between two account views: items added, removed, moved to another path, re-flagged or re-tagged. */
export const diffViews = (before: AccountView, after: AccountView): AccountDiff => {
  const b = new Map(before.items.map((i) => [i.itemId, i]))
  const a = new Map(after.items.map((i) => [i.itemId, i]))
  const added = after.items.filter((i) => !b.has(i.itemId))
  const removed = before.items.filter((i) => !a.has(i.itemId))
  const moved: MovedItem[] = []
  const reflagged: ReflaggedItem[] = []
  const changed: ChangedItem[] = []
  for (const x of after.items) {
    const y = b.get(x.itemId)
    if (y === undefined) continue
    if (y.state.content?.digest !== x.state.content?.digest || (x.itemType !== 'folder' && y.state.name !== x.state.name))
      changed.push({ itemId: x.itemId, itemType: x.itemType, folderPath: x.folderPath, before: y.state, after: x.state })
    if (y.folderPath !== x.folderPath) moved.push({ itemId: x.itemId, itemType: x.itemType, fromPath: y.folderPath, toPath: x.folderPath })
    if (!same(y.state.flags, x.state.flags) || !same(y.state.tags, x.state.tags))
      reflagged.push({
        itemId: x.itemId,
        itemType: x.itemType,
        flagsBefore: y.state.flags,
        flagsAfter: x.state.flags,
        tagsBefore: y.state.tags,
        tagsAfter: x.state.tags,
      })
  }
  return { from: before.validAt, to: after.validAt, added, removed, moved, reflagged, changed }
}

export const diff = (tt: TimeTravel, account: AccountId, t1: Instant, t2: Instant, knownAt?: Instant): TE.TaskEither<StoreError, AccountDiff> => {
  const k = knownAt === undefined ? {} : { knownAt }
  return pipe(
    TE.Do,
    TE.bind('before', () => accountAsOf(tt, account, { validAt: t1, ...k })),
    TE.bind('after', () => accountAsOf(tt, account, { validAt: t2, ...k })),
    TE.map(({ before, after }) => diffViews(before, after)),
  )
}
