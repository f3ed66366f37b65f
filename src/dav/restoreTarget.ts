/**
 * The DAV restore target: materializes a DAV restore plan (`restorePlan.ts`) on a CardDAV/CalDAV
 * server. A `RestoreTarget`, so `runRestore` records it as an operation like the IMAP and Maildir
 * targets: each item restored, skipped or unrestored, with where it went.
 *
 * Guarantees:
 * 1. Objects are written with the bytes the backup holds, unchanged, and `If-None-Match: *`: an
 *    object already at that path (or a UID the collection already has) is reported as Skipped and
 *    never overwritten.
 * 2. A missing collection is created (MKCOL with the CardDAV resource type, or MKCALENDAR with its
 *    display name and component set), and a missing home first.
 * 3. A re-run skips what an earlier run of the same restore recorded, and what it wrote without
 *    recording (a crash between the PUT and the record) is found by `If-None-Match` and skipped.
 * 4. A server that is down, or refuses the login, stops the operation (resumable); an object the
 *    server refuses is unrestored with the server's reason, and the others go on.
 */
import * as E from 'fp-ts/Either'
import type { ItemOutcome } from '../../domain/operations'
import { describeBlobError } from '../blobs/blobStore'
import type { Journal, MaterializeReport, RestoreTarget, TargetError } from '../restore/target'
import { type DavClient, type DavError, describeDavError } from './client'
import { type DavRestoreCollection, isDavPlan } from './restorePlan'

/** Outcomes are recorded in the operations stream every this many objects. */
const RECORD_EVERY = 50

export const davLocation = (href: string): string => `dav:${href}`

/** The home a collection path is in: its parent (`/alice/contacts/` → `/alice/`). */
const homeOf = (collection: string): string => collection.replace(/[^/]+\/$/, '')

export const davRestoreTarget = (client: DavClient): RestoreTarget => {
  const description = `dav:${client.description}`
  const fatal = (e: DavError): TargetError => ({ _tag: 'TargetFailure', target: description, reason: describeDavError(e) })
  const isFatal = (e: DavError) => e._tag === 'DavUnavailable' || e._tag === 'DavAuthFailed'
  return {
    description,
    materialize: async (plan, blobs, journal: Journal, onProgress): Promise<E.Either<TargetError, MaterializeReport>> => {
      if (!isDavPlan(plan)) return E.left({ _tag: 'TargetFailure', target: description, reason: 'not a DAV restore plan (messages go to an IMAP or Maildir target)' })
      const account = plan.targetAccount
      const pending: ItemOutcome[] = []
      const flush = async () => {
        if (pending.length > 0) await journal.record(pending.splice(0))
      }
      // Collections first: each ensured once; one that cannot be created makes its objects unrestored.
      const created = new Set<string>()
      const existed = new Set<string>()
      const broken = new Map<string, string>()
      const homes = new Set<string>()
      const ensure = async (c: DavRestoreCollection): Promise<E.Either<TargetError, void>> => {
        const found = await client.collection(c.href)
        if (E.isLeft(found)) return isFatal(found.left) ? E.left(fatal(found.left)) : E.right(void broken.set(c.href, describeDavError(found.left)))
        if (found.right !== undefined) {
          if (found.right.kind !== c.kind) broken.set(c.href, `${c.href} exists on the target as ${found.right.kind === 'addressbook' ? 'an address book' : 'a calendar'}`)
          else existed.add(c.href)
          return E.right(undefined)
        }
        const home = homeOf(c.href)
        if (!homes.has(home)) {
          const h = await client.ensureHome(home)
          if (E.isLeft(h)) {
            if (isFatal(h.left)) return E.left(fatal(h.left))
            return E.left({
              _tag: 'NoSuchAccount',
              target: description,
              account,
              reason: `the home ${home} does not exist on the target and cannot be created: ${describeDavError(h.left)}`,
            })
          }
          homes.add(home)
        }
        const m = await client.makeCollection(c.href, {
          kind: c.kind,
          ...(c.displayName !== undefined && { displayName: c.displayName }),
          ...(c.components !== undefined && { components: c.components }),
        })
        if (E.isLeft(m)) return isFatal(m.left) ? E.left(fatal(m.left)) : E.right(void broken.set(c.href, describeDavError(m.left)))
        created.add(c.href)
        return E.right(undefined)
      }
      for (const c of plan.dav.collections) {
        const r = await ensure(c)
        if (E.isLeft(r)) return r
      }
      for (const f of plan.dav.folderItems) {
        const earlier = journal.doneAt(account, f.itemId)
        const why = broken.get(f.collection)
        pending.push(
          earlier !== undefined
            ? { account, itemId: f.itemId, outcome: 'skipped', location: earlier }
            : why !== undefined
              ? { account, itemId: f.itemId, outcome: 'unrestored', reason: why }
              : existed.has(f.collection)
                ? { account, itemId: f.itemId, outcome: 'skipped', location: davLocation(f.collection), reason: 'the collection exists on the target' }
                : { account, itemId: f.itemId, outcome: 'restored', location: davLocation(f.collection) },
        )
      }
      await flush()

      const size = new Map(plan.items.map((i) => [i.itemId as number, i]))
      let done = 0
      for (const o of plan.dav.objects) {
        if (done % RECORD_EVERY === 0 && done > 0) {
          await flush()
          if (await journal.stopRequested()) return E.right({ renamedFolders: [], warnings: [], stopped: true })
        }
        done++
        onProgress?.(done, plan.dav.objects.length)
        const earlier = journal.doneAt(account, o.itemId)
        if (earlier !== undefined) {
          pending.push({ account, itemId: o.itemId, outcome: 'skipped', location: earlier })
          continue
        }
        const why = broken.get(o.collection)
        if (why !== undefined) {
          pending.push({ account, itemId: o.itemId, outcome: 'unrestored', reason: `its collection cannot be used: ${why}` })
          continue
        }
        const item = size.get(o.itemId)
        const bytes = blobs.get(item?.digest ?? '', item?.size)
        if (E.isLeft(bytes)) {
          pending.push({ account, itemId: o.itemId, outcome: 'unrestored', reason: describeBlobError(bytes.left) })
          continue
        }
        const r = await client.create(o.href, bytes.right, o.contentType)
        if (E.isLeft(r)) {
          if (isFatal(r.left)) {
            await flush()
            return E.left(fatal(r.left))
          }
          pending.push({ account, itemId: o.itemId, outcome: 'unrestored', reason: describeDavError(r.left) })
          continue
        }
        switch (r.right._tag) {
          case 'Created':
            pending.push({ account, itemId: o.itemId, outcome: 'restored', location: davLocation(o.href) })
            break
          case 'Exists':
            pending.push({
              account,
              itemId: o.itemId,
              outcome: 'skipped',
              location: davLocation(o.href),
              reason: `an object exists at ${o.href} on the target; it was not overwritten`,
            })
            break
          case 'Rejected':
            // CalDAV/CardDAV answer 409 (or 403) with no-uid-conflict when the collection already
            // has the UID under another name: the same object is there, so it counts as skipped.
            pending.push(
              r.right.status === 409 || /uid-conflict/i.test(r.right.reason)
                ? {
                    account,
                    itemId: o.itemId,
                    outcome: 'skipped',
                    location: davLocation(o.href),
                    reason: `the collection already holds an object with this UID; it was not overwritten (HTTP ${r.right.status})`,
                  }
                : { account, itemId: o.itemId, outcome: 'unrestored', reason: `the server refused ${o.href}: HTTP ${r.right.status} ${r.right.reason}`.trim() },
            )
            break
        }
      }
      await flush()
      return E.right({ renamedFolders: [], warnings: [], stopped: false })
    },
  }
}
