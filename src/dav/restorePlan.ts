/**
 * Restore plans for contacts, appointments and tasks captured over CardDAV/CalDAV: which objects a
 * restore PUTs, at which paths, into which collections (created when missing), and which items it
 * cannot restore and why. Pure; `restoreTarget.ts` materializes a plan.
 *
 * A DAV plan is a `RestorePlan` (so the operation runner, its journal, its reports and the dry run
 * print work as for mail) with a `dav` part that says where each item goes. Its `items` are the
 * objects, its `folderItems` the collections restored as items (a deleted calendar in an undelete
 * window); `folder` segments are for people: the kind's folder, then the collection's name.
 *
 * Paths: an object goes back to its own path (an item restore, an undelete) or, for another account
 * (a restore on a new account, an external restore), to the same path below that account's home:
 * `/alice/contacts/ann.vcf` → `/alice.new/contacts/ann.vcf`.
 */
import { SYSTEM_FOLDERS } from '../../domain/folders'
import type { ItemId } from '../../domain/ids'
import type { RestoreFolderItem, RestoreItem, RestorePlan, Unrestorable } from '../../domain/restore/plan'
import type { ItemState } from '../../domain/state'
import type { CollectionKind } from './client'

export interface DavRestoreCollection {
  /** Where the collection is on the target. */
  readonly href: string
  readonly kind: CollectionKind
  readonly displayName?: string
  readonly components?: readonly string[]
}

export interface DavRestoreObject {
  readonly itemId: ItemId
  /** Where the object is written on the target. */
  readonly href: string
  /** The collection it goes into (one of `collections`). */
  readonly collection: string
  readonly contentType: string
}

export interface DavPart {
  /** Every collection the restore needs, each once. */
  readonly collections: readonly DavRestoreCollection[]
  readonly objects: readonly DavRestoreObject[]
  /** Collections restored as items: folder item id → collection href on the target. */
  readonly folderItems: readonly { readonly itemId: ItemId; readonly collection: string }[]
}

export type DavRestorePlan = RestorePlan & { readonly dav: DavPart }

export const isDavPlan = (p: RestorePlan): p is DavRestorePlan => 'dav' in p && typeof (p as { dav?: unknown }).dav === 'object'

/** An item with the collection (folder) it was in then; undefined when that folder is not a DAV collection the backup knows. */
export interface DavPlaced {
  readonly state: ItemState
  readonly collection: ItemState | undefined
}

export const contentTypeOf = (s: ItemState): string => (s.itemType === 'contact' ? 'text/vcard; charset=utf-8' : 'text/calendar; charset=utf-8')

/** Whether an item is for a DAV target (a DAV object or collection) rather than a mailbox. */
export const isDavItem = (s: ItemState): boolean => s.dav !== undefined

/** Moves a path from one home to another; undefined when it is not under `from`. */
export const rehome = (href: string, from: string, to: string): string | undefined => (href.startsWith(from) ? `${to}${href.slice(from.length)}` : undefined)

const kindFolder = (c: ItemState): string => SYSTEM_FOLDERS.get(c.folderId) ?? (c.dav?.collection === 'addressbook' ? 'Contacts' : 'Calendar')

const segmentsOf = (c: ItemState): string[] => [kindFolder(c), c.name ?? c.dav?.href ?? `unknown_${c.itemId}`]

const collectionOf = (c: ItemState, href: string): DavRestoreCollection => ({
  href,
  kind: c.dav?.collection ?? 'calendar',
  ...(c.name !== undefined && { displayName: c.name }),
  ...(c.dav?.components !== undefined && { components: c.dav.components }),
})

const an = (type: string) => `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`

/** Why a DAV item cannot be restored, or undefined if it can. */
export const whyNotDav = (p: DavPlaced): string | undefined => {
  const s = p.state
  if (s.status === 'purged') return `purged by retention${s.purgeReason !== undefined ? ` (${s.purgeReason})` : ''}`
  if (s.itemType === 'folder') return s.dav?.collection === undefined ? 'not a CardDAV/CalDAV collection' : undefined
  if (s.dav === undefined) return `${an(s.itemType)} not captured over CardDAV/CalDAV has no collection to go back to (export it instead)`
  if (s.content === undefined) return 'no content was captured'
  if (p.collection?.dav?.collection === undefined) return 'the collection it was in is not known to the backup'
  return undefined
}

/**
 * The plan. `move` maps a source path to the target's (identity for a restore in place); a path it
 * cannot map makes the item unrestorable.
 */
export const planDav = (
  kind: RestorePlan['kind'],
  source: string,
  target: string,
  placed: readonly DavPlaced[],
  move: (href: string) => string | undefined = (h) => h,
): DavRestorePlan => {
  const collections = new Map<string, DavRestoreCollection>()
  const items: RestoreItem[] = []
  const objects: DavRestoreObject[] = []
  const folderItems: RestoreFolderItem[] = []
  const davFolders: { itemId: ItemId; collection: string }[] = []
  const unrestorable: Unrestorable[] = []
  const folderSegments = new Map<string, string[]>()
  const seen = new Set<number>()
  for (const p of placed) {
    const s = p.state
    if (seen.has(s.itemId)) continue
    seen.add(s.itemId)
    const why = whyNotDav(p)
    if (why !== undefined) {
      unrestorable.push({ itemId: s.itemId, itemType: s.itemType, reason: why })
      continue
    }
    const c = s.itemType === 'folder' ? s : (p.collection as ItemState)
    const cHref = move(c.dav?.href ?? '')
    const oHref = s.itemType === 'folder' ? cHref : move(s.dav?.href ?? '')
    if (cHref === undefined || oHref === undefined) {
      unrestorable.push({ itemId: s.itemId, itemType: s.itemType, reason: `${s.dav?.href ?? ''} is not under the source account's home` })
      continue
    }
    if (!collections.has(cHref)) collections.set(cHref, collectionOf(c, cHref))
    const segs = segmentsOf(c)
    folderSegments.set(JSON.stringify(segs), segs)
    if (s.itemType === 'folder') {
      folderItems.push({ itemId: s.itemId, folder: segs })
      davFolders.push({ itemId: s.itemId, collection: cHref })
      continue
    }
    items.push({
      itemId: s.itemId,
      itemType: s.itemType,
      folder: segs,
      flags: [],
      tags: [],
      digest: s.content?.digest ?? '',
      size: s.content?.size ?? 0,
      ...(s.name !== undefined && { subject: s.name }),
    })
    objects.push({ itemId: s.itemId, href: oHref, collection: cHref, contentType: contentTypeOf(s) })
  }
  const byId = (a: { itemId: number }, b: { itemId: number }) => a.itemId - b.itemId
  const folders = [...folderSegments.values()].flatMap((segs) => [segs.slice(0, 1), segs])
  const uniqueFolders = [...new Map(folders.map((f) => [JSON.stringify(f), f])).values()].sort((a, b) => a.length - b.length || (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  return {
    kind,
    sourceAccount: source,
    targetAccount: target,
    folders: uniqueFolders,
    items: items.sort(byId),
    folderItems: folderItems.sort(byId),
    unrestorable: unrestorable.sort(byId),
    dav: { collections: [...collections.values()].sort((a, b) => (a.href < b.href ? -1 : 1)), objects: objects.sort(byId), folderItems: davFolders.sort(byId) },
  }
}

/** `doItemRestore` of a contact, appointment or task (or a collection): back to its own path. */
export const planDavItemRestore = (account: string, item: DavPlaced): DavRestorePlan => planDav('item', account, account, [item])

/** `doUndelete`: every DAV item deleted in the window, back into its collection (recreated if it is gone). */
export const planDavUndelete = (account: string, deleted: readonly DavPlaced[]): DavRestorePlan => planDav('undelete', account, account, deleted)

/**
 * `doRestoreOnNewAccount` (and an external restore): every DAV item alive at the instant, at the
 * same paths below the target account's home.
 */
export const planDavRestoreOnNewAccount = (
  source: string,
  target: string,
  live: readonly DavPlaced[],
  homes: { readonly source: string; readonly target: string },
): DavRestorePlan => planDav('newAccount', source, target, live, (h) => rehome(h, homes.source, homes.target))

/** What a dry run says the plan would write, one line per request. */
export const davPlanLines = (p: DavRestorePlan): string[] => {
  const names = new Map(p.items.map((i) => [i.itemId as number, i]))
  return [
    ...p.dav.collections.map(
      (c) =>
        `${c.kind === 'addressbook' ? 'MKCOL' : 'MKCALENDAR'} ${c.href} if missing (${c.kind === 'addressbook' ? 'address book' : 'calendar'}${c.displayName !== undefined ? ` "${c.displayName}"` : ''})`,
    ),
    ...p.dav.objects.map((o) => {
      const i = names.get(o.itemId)
      return `PUT ${o.href} If-None-Match: * (${i?.itemType ?? 'item'} ${o.itemId}${i?.subject !== undefined ? ` "${i.subject}"` : ''}, ${i?.size ?? 0} bytes)`
    }),
    ...p.unrestorable.map((u) => `not restorable: ${u.itemType} ${u.itemId}: ${u.reason}`),
  ]
}
