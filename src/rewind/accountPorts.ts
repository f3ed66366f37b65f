/**
 * The rewind's ports onto the rest of Mailtime: the account as the store says it was at an instant
 * (a `Snapshot` for the plan), its legal hold, and a fresh capture by the scanner (messages the
 * rewind wrote back are recognised as written by it, as a restore's are).
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, instant, type Instant } from '../../domain/instant'
import type { RewindFolder, RewindMessage, Snapshot } from '../../domain/rewind/plan'
import type { LegalHold } from '../../domain/state'
import { accountAsOf, accountStateAt } from '../../projections/accountView'
import { describeStoreError, orRaise } from '../../projections/errors'
import type { Backend, ReadBackend } from '../wiring/backend'
import { scanAccount } from '../capture/imap/scanner'
import { restoredInto } from '../capture/restoredInto'
import type { ScanError } from '../capture/imap/report'

/** The account at `at`: its live folders (system ones with their names) and messages, with where the capture saw them. */
export const snapshotAt = async (b: ReadBackend, account: AccountId, at: number): Promise<Snapshot> => {
  const view = await orRaise(accountAsOf(b.index, account, { validAt: instant(Math.min(at, MAX_INSTANT)) }))
  const folders: RewindFolder[] = view.folders.map((f) => ({ folderId: f.folderId, parentId: f.parentId, name: f.name, system: f.system }))
  const messages: RewindMessage[] = view.items
    .filter((i) => i.itemType === 'message')
    .map((i) => {
      const s = i.state
      return {
        itemId: i.itemId,
        folderId: i.folderId,
        flags: s.flags,
        tags: s.tags,
        ...(s.content !== undefined && { digest: s.content.digest, size: s.content.size }),
        ...(s.internalDate !== undefined && { internalDate: s.internalDate }),
        ...(s.headers?.subject !== undefined && { subject: s.headers.subject }),
        ...(s.imap !== undefined && { location: { mailbox: s.imap.mailbox, uidValidity: s.imap.uidValidity, uid: s.imap.uid } }),
      }
    })
  return { folders, messages }
}

/** Whether the backup knew the account at `at`: a rewind to before its first capture would move all its mail aside. */
export const knownAt = async (b: ReadBackend, account: AccountId, at: number): Promise<boolean> =>
  (await orRaise(accountAsOf(b.index, account, { validAt: instant(Math.min(at, MAX_INSTANT)) }))).exists

export const legalHoldOf = async (b: ReadBackend, account: AccountId): Promise<LegalHold | undefined> =>
  accountStateAt(account, await orRaise(b.index.accountEvents(account)), { validAt: MAX_INSTANT as Instant }).legalHold

const describeScanError = (e: ScanError): string => {
  switch (e._tag) {
    case 'Store':
      return describeStoreError(e.error)
    case 'Blob':
      return `blob store: ${e.message}`
    case 'Imap':
      return `IMAP error while scanning ${e.account}: ${e.reason}`
    case 'BadCheckpoint':
      return `the scan checkpoint of ${e.account} cannot be read (${e.reason})`
    case 'Concurrent':
      return `another scan of ${e.account} recorded events while this one ran; run the rewind again once it has finished`
  }
}

/**
 * A capture of the account by the scanner. Messages that restores and rewinds wrote into it on this
 * server are read from the operations streams afresh, so those this rewind wrote are recorded as
 * written back, not as new mail.
 */
export const captureAccount = async (
  b: Backend,
  client: ImapFlow,
  account: AccountId,
  server: string,
  now: () => Instant,
  shouldStop: () => boolean,
): Promise<E.Either<string, void>> => {
  const r = await scanAccount(client, account, {
    store: b.store,
    index: b.index,
    blobs: b.blobs,
    now,
    shouldStop,
    restored: restoredInto(b.operations, account, server),
  })
  if (E.isLeft(r)) return E.left(describeScanError(r.left))
  if (r.right.interrupted) return E.left('the capture was interrupted')
  if (!r.right.complete) return E.left(`${r.right.unreadFolders.length} folder(s) could not be read: ${r.right.unreadFolders.map((f) => `${f.path} (${f.reason})`).join(', ')}`)
  return E.right(undefined)
}
