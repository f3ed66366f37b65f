/**
 * What the DAV restore plans are made from, read from the projections: each item with the collection
 * it was in at the instant that matters (for a deleted item, just before its deletion), and the
 * objects earlier restores wrote (so that capture records them as restored, not as new).
 */
import * as E from 'fp-ts/Either'
import type { AccountId, ItemId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { OperationEvent } from '../../domain/operations'
import type { ItemState } from '../../domain/state'
import type { StoreError } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import type { RestoredObject } from './diff'
import type { DavPlaced } from './restorePlan'

/**
 * Places items in their collections: `at(s)` is the instant to read the collection at (for a
 * deleted item, a millisecond before it went, when its collection was still there).
 */
export const placeInCollections = async (
  index: TimeTravel,
  account: AccountId,
  states: readonly ItemState[],
  at: (s: ItemState) => Instant,
): Promise<E.Either<StoreError, DavPlaced[]>> => {
  const cache = new Map<string, ItemState | undefined>()
  const out: DavPlaced[] = []
  for (const s of states) {
    if (s.itemType === 'folder') {
      out.push({ state: s, collection: s })
      continue
    }
    const when = at(s)
    const k = `${s.folderId}@${when}`
    if (!cache.has(k)) {
      const v = await index.itemAsOf(account, s.folderId as ItemId, { validAt: when })()
      if (E.isLeft(v)) return v
      cache.set(k, v.right?.state)
    }
    out.push({ state: s, collection: cache.get(k) })
  }
  return E.right(out)
}

/** The instant a deleted item's collection is read at: just before the deletion. */
export const beforeDeletion = (s: ItemState): Instant => instant(Math.max(0, (s.deletedAt ?? 1) - 1))

/**
 * The objects restores wrote into `account` on the DAV server `server` (`http://host:port[/path]`;
 * the restore's target description is `dav:<server> as <user>`), by path: capture records such an object as restored, by the restore's
 * initiator, at the instant the restore recorded it.
 */
export const restoredDavObjects = (
  ops: readonly (readonly OperationEvent[])[],
  account: string,
  server: string,
): ((href: string, digest: string) => RestoredObject | undefined) => {
  const byHref = new Map<string, RestoredObject>()
  for (const run of ops) {
    const start = run.find((e) => e.type === 'OperationStarted')
    // A restore of mail and DAV items together writes to `<mail target> + dav:<server> as <user>`.
    if (start?.type !== 'OperationStarted' || start.target === undefined || !start.target.split(' + ').some((t) => t === `dav:${server}` || t.startsWith(`dav:${server} `)))
      continue
    for (const e of run)
      if (e.type === 'ItemsRecorded')
        for (const i of e.items)
          if (i.account === account && i.outcome === 'restored' && i.location?.startsWith('dav:') === true)
            byHref.set(i.location.slice('dav:'.length), { operationId: e.operationId, itemId: i.itemId, at: e.at, initiator: start.initiator })
  }
  return (href) => byHref.get(href)
}
