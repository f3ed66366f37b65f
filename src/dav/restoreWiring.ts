/**
 * How the restore verbs restore contacts, appointments and tasks: which of an account's items go
 * to the CardDAV/CalDAV server rather than the mailbox, the DAV plans for each restore mode, and a
 * target that writes each plan where it belongs (a DAV plan to the DAV server, the mail plan to
 * the IMAP server or Maildir tree). The verbs build their mail plans as before from the items
 * `splitDav` leaves them.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import type { ItemState } from '../../domain/state'
import type { StoreError } from '../../projections/errors'
import type { TimeTravel } from '../../projections/timeTravel'
import type { Settings } from '../config'
import type { RestoreTarget } from '../restore/target'
import { beforeDeletion, placeInCollections } from './restoreInputs'
import { type DavRestorePlan, isDavItem, isDavPlan, planDavItemRestore, planDavRestoreOnNewAccount, planDavUndelete } from './restorePlan'
import { davRestoreTarget } from './restoreTarget'
import { DEFAULT_PRINCIPAL, type DavSource, davClientFor, davSourceOf, homesOf } from './source'

/** Items (or anything holding one) split into those for the mailbox and those for the DAV server. */
export const splitDav = <T>(xs: readonly T[], stateOf: (x: T) => ItemState): { mail: T[]; dav: T[] } => ({
  mail: xs.filter((x) => !isDavItem(stateOf(x))),
  dav: xs.filter((x) => isDavItem(stateOf(x))),
})

/** Where a live item's collection is read: at the instant asked; a deleted one's, just before it went. */
const placeAt =
  (at: Instant) =>
  (s: ItemState): Instant =>
    s.status === 'live' ? at : beforeDeletion(s)

/** `doItemRestore` of a contact, appointment, task or collection: back to its own path. */
export const davItemPlan = async (index: TimeTravel, account: AccountId, s: ItemState, at: Instant): Promise<E.Either<StoreError, DavRestorePlan>> => {
  const placed = await placeInCollections(index, account, [s], placeAt(at))
  return E.isLeft(placed) ? placed : E.right(planDavItemRestore(account, placed.right[0] ?? { state: s, collection: undefined }))
}

/** `doUndelete`: the DAV items deleted in the window, back into their collections. */
export const davUndeletePlan = async (index: TimeTravel, account: AccountId, deleted: readonly ItemState[]): Promise<E.Either<StoreError, DavRestorePlan>> => {
  const placed = await placeInCollections(index, account, deleted, beforeDeletion)
  return E.isLeft(placed) ? placed : E.right(planDavUndelete(account, placed.right))
}

/**
 * The home paths a restore on another account moves objects between: the source's and the
 * destination's first home under the configured principal (Radicale's `/{user}/` when none is).
 */
export const homesFor = (src: DavSource | undefined, from: string, to: string): { source: string; target: string } => {
  // No DAV server configured (a dry run, a restore of mail only): Radicale's layout at the root.
  const s: DavSource = src ?? { url: 'http://localhost', passwords: {}, principal: DEFAULT_PRINCIPAL, description: '' }
  return { source: homesOf(s, from)[0] ?? `/${from}/`, target: homesOf(s, to)[0] ?? `/${to}/` }
}

/** `doRestoreOnNewAccount` and `doExternalRestore`: the DAV items (alive at `at`, or deleted since), at the same paths below the destination's home. */
export const davNewAccountPlan = async (
  index: TimeTravel,
  source: AccountId,
  destination: string,
  states: readonly ItemState[],
  at: Instant,
  homes: { source: string; target: string },
): Promise<E.Either<StoreError, DavRestorePlan>> => {
  const placed = await placeInCollections(index, source, states, placeAt(at))
  return E.isLeft(placed) ? placed : E.right(planDavRestoreOnNewAccount(source, destination, placed.right, homes))
}

/** A plan worth running: one with anything in it (a DAV plan for an account without DAV items is not). */
export const nonEmpty = (p: DavRestorePlan): boolean => p.items.length + p.folderItems.length + p.unrestorable.length > 0

/**
 * The DAV server restores write to: the one configured for capture, or `dav_target` (same
 * credentials). Undefined when none is configured.
 */
export const davRestoreSource = (settings: Settings, url: string | undefined): E.Either<string, DavSource | undefined> => {
  const r = davSourceOf(url === undefined ? settings.config.dav : { ...settings.config.dav, url })
  return E.isLeft(r) ? E.left(r.left.reason) : E.right(r.right)
}

/**
 * A target for plans of both kinds: DAV plans to the DAV server (a client acting for the plan's
 * destination account), the others to `mail`. Its description starts with the mail target's, so
 * capture's recognition of restored messages (by the IMAP server) and of restored objects (by
 * `dav:<server>`) both find it.
 */
export const combinedTarget = (mail: RestoreTarget | undefined, dav: DavSource | undefined): E.Either<string, RestoreTarget> => {
  const davDescription = dav === undefined ? undefined : `dav:${dav.url} as ${dav.admin?.user ?? 'each account'}`
  const description = [mail?.description, davDescription].filter((d) => d !== undefined).join(' + ')
  if (description === '') return E.left('no restore target')
  return E.right({
    description,
    materialize: async (plan, blobs, journal, onProgress) => {
      if (isDavPlan(plan)) {
        if (dav === undefined)
          return E.left({
            _tag: 'TargetFailure',
            target: description,
            reason: 'no CardDAV/CalDAV server configured for contacts, appointments and tasks: set MAILTIME_DAV_URL (or dav.url)',
          })
        const client = davClientFor(dav, plan.targetAccount)
        if (E.isLeft(client)) return E.left({ _tag: 'NoSuchAccount', target: description, account: plan.targetAccount, reason: client.left.reason })
        return davRestoreTarget(client.right).materialize(plan, blobs, journal, onProgress)
      }
      if (mail === undefined) return E.left({ _tag: 'TargetFailure', target: description, reason: 'no mail target for messages' })
      return mail.materialize(plan, blobs, journal, onProgress)
    },
  })
}
