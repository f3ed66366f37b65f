/**
 * DAV capture as the capture verbs run it: the source from the settings, a client acting for the
 * account, its homes, the objects earlier restores wrote, and the round's report in words and in
 * --json. The verbs only choose when to call it and how to exit.
 */
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import type { OperationEvent } from '../../domain/operations'
import type { StoreError } from '../../projections/errors'
import type { Backend } from '../wiring/backend'
import type { Settings } from '../config'
import { type DavCaptureDeps, type DavCaptureError, type DavCaptureReport, captureDavAccount, describeDavCaptureError } from './capture'
import { restoredDavObjects } from './restoreInputs'
import { type DavSource, type DavSourceError, davClientFor, davSourceOf, homesOf } from './source'

/** The DAV server configured for capture, undefined when none is (capture is then mail only). */
export const davSourceOfSettings = (s: Settings): E.Either<DavSourceError, DavSource | undefined> => davSourceOf(s.config.dav)

/** Whether an IMAP server is configured at all (a DAV-only installation has none). */
export const imapConfigured = (s: Settings): boolean => s.config.imap?.url !== undefined

export type DavScanError = DavCaptureError | DavSourceError

export const describeDavScanError = (e: DavScanError, src: DavSource): string =>
  e._tag === 'BadDavSource'
    ? e.reason
    : `DAV capture of ${e._tag === 'Dav' || e._tag === 'BadCheckpoint' ? e.account : 'the account'} at ${src.description} failed: ${describeDavCaptureError(e)}`

/** The objects restores wrote into the account on this server, read afresh for every round. */
const restoredOn =
  (b: Backend, account: AccountId, server: string): NonNullable<DavCaptureDeps['restored']> =>
  async () => {
    const ids = await b.operations.restores()()
    if (E.isLeft(ids)) return ids
    const runs: OperationEvent[][] = []
    for (const id of ids.right) {
      const ev = await b.operations.read(id)()
      if (E.isLeft(ev)) return E.left<StoreError, never>(ev.left)
      runs.push(ev.right)
    }
    return E.right(restoredDavObjects(runs, account, server))
  }

/** One DAV round for the account, into the backend's store. */
export const scanDav = async (
  src: DavSource,
  account: AccountId,
  b: Backend,
  deps: Omit<DavCaptureDeps, 'store' | 'index' | 'blobs' | 'restored'>,
): Promise<E.Either<DavScanError, DavCaptureReport>> => {
  const client = davClientFor(src, account)
  if (E.isLeft(client)) return client
  return captureDavAccount(client.right, account, homesOf(src, account), { ...deps, store: b.store, index: b.index, blobs: b.blobs, restored: restoredOn(b, account, src.url) })
}

export const davReportJson = (r: DavCaptureReport) => ({
  account: r.account,
  firstRound: r.firstRound,
  eventsAppended: r.eventsAppended,
  bytesStored: r.bytesStored,
  objectsRead: r.objectsRead,
  collectionsCreated: r.collectionsCreated,
  collectionsRenamed: r.collectionsRenamed,
  collectionsDeleted: r.collectionsDeleted,
  interrupted: r.interrupted,
  collections: r.collections,
  problems: r.problems,
  failed: r.failed,
})

/** The lines an admin reads; the failed collections last, each with the server's reason. */
export const davReportText = (r: DavCaptureReport): string[] => {
  const rows = [
    ['collection', 'name', 'kind', 'read', 'new', 'restored', 'changed', 'moved in', 'deleted'],
    ...r.collections.map((c) => [
      c.href,
      c.name,
      c.kind === 'addressbook' ? 'address book' : 'calendar',
      c.read,
      String(c.created),
      String(c.restored),
      String(c.changed),
      String(c.movedIn),
      String(c.deleted),
    ]),
  ]
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? []
  return [
    `${r.account} (CardDAV/CalDAV): ${r.firstRound ? 'first round, ' : ''}${r.eventsAppended} events recorded, ${r.objectsRead} objects read, ${(r.bytesStored / 1e6).toFixed(1)} MB of new content` +
      (r.interrupted ? ' (stopped early; run again to finish)' : ''),
    ...(r.collections.length > 0 ? rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')) : []),
    ...r.problems.map((p) => `recorded ${p.href} although it could not be read in full: ${p.problem}`),
    ...r.failed.map((f) => `FAILED ${f.href}: ${f.reason}; its objects are kept as recorded, run again once the server answers`),
  ]
}

/** A round that could not read every home and collection did not do all its work. */
export const davRoundIncomplete = (r: DavCaptureReport): string | undefined =>
  r.failed.length === 0 ? undefined : `DAV capture of ${r.account} could not read ${r.failed.map((f) => f.href).join(', ')}`
