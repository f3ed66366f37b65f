/**
 * The Dovecot mail_log importer: pins the exact instants of changes the IMAP scanner can only
 * bound (between two scans): expunges, moves, flag and keyword changes, and folder renames and
 * deletions.
 *
 * Guarantees:
 * 1. Lines are matched to items the backup already holds, by any IMAP location (mailbox and UID)
 *    they ever had, and folders by the scanner's mapping (`accountLog.ts`). A log line has no
 *    message body, so a message the scanner has not recorded yet is counted as "not yet captured";
 *    importing the log again after the next scan applies it (ids are deterministic, so nothing is
 *    recorded twice).
 * 2. A move shows in mail_log as `copy from A` followed by `expunge` in A of the same Message-ID:
 *    the pair is recorded as one move that keeps the item's identity.
 * 3. A change is emitted when it changes the item as the backup had it at the line's instant. A
 *    change a scan already recorded (dated at the scan) is therefore emitted at its exact, earlier
 *    instant, and the scan's copy of it then begins no version of its own: the log refines the
 *    version's instant instead of adding a second one (`projections/versions.ts`).
 * 4. Everything is appended at the end, per account; a dry run shows the same events and appends
 *    nothing.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, type ItemId, parseAccountId } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import type { ItemEvent, SourcePosition } from '../../../domain/events'
import { type Flag, type Tag, normaliseSet } from '../../../domain/flags'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { EventStore } from '../../store/eventStore'
import { ScanCheckpoint, checkpointName } from '../scanCheckpoint'
import { splitFlags } from '../../imap/flags'
import {
  type ImportError,
  type ImportOptions,
  type ImportSummary,
  bump,
  emitter,
  identityOf,
  newSummary,
  noteLine,
  noteMalformed,
  openLines,
  recorderFor,
  rotationOrder,
  unusableFile,
} from '../logImport/common'
import { type AccountLog, type MappedFolder, accountLog } from './accountLog'
import { parseMailLogLine } from './parse'

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

export const importMailLogs = async (store: EventStore, index: TimeTravel, o: ImportOptions): Promise<E.Either<ImportError, ImportSummary>> => {
  const files = rotationOrder(o.files)
  const summary = newSummary(files)
  const rec0 = await recorderFor(store, index, o, files)
  if (E.isLeft(rec0)) return rec0
  const recorder = rec0.right
  const logs = new Map<AccountId, AccountLog>()
  /** What the import knows of an account, read once at its first line. */
  const logOf = async (a: AccountId): Promise<E.Either<ImportError, AccountLog>> => {
    const hit = logs.get(a)
    if (hit !== undefined) return E.right(hit)
    const ready = await recorder.prepare(a)
    if (E.isLeft(ready)) return E.left({ _tag: 'Store', error: ready.left })
    const versions = await index.changesBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
    if (E.isLeft(versions)) return E.left({ _tag: 'Store', error: versions.left })
    const cp = await store.readCheckpoint(checkpointName(a))()
    if (E.isLeft(cp)) return E.left({ _tag: 'Store', error: cp.left })
    const mapped = new Map<string, MappedFolder>()
    if (cp.right !== undefined) {
      const d = ScanCheckpoint.decode(JSON.parse(cp.right))
      if (E.isRight(d)) for (const [p, f] of Object.entries(d.right.folders)) mapped.set(p, { folderId: f.folderId, uidValidity: f.uidValidity })
    }
    if (!mapped.has('INBOX')) mapped.set('INBOX', { folderId: 2, uidValidity: 0 })
    const l = accountLog(versions.right, mapped)
    logs.set(a, l)
    return E.right(l)
  }
  const copies = new Map<AccountId, { from: string; box: string; uid: number; msgid?: string }[]>()
  const accounts = new Set<string>()

  for (const file of files) {
    const name = path.basename(file)
    let identity: string | undefined
    let lineNo = 0
    const rl = openLines(file)
    try {
      for await (const text of rl) {
        lineNo++
        summary.linesRead++
        if (identity === undefined) identity = identityOf(text)
        noteLine(summary, name, text)
        if (text.trim() === '') continue
        const line = parseMailLogLine(text)
        if (line === undefined) {
          if (/^\d{4}-\d{2}-\d{2} /.test(text)) bump(summary.skipped, 'not a mail_log line')
          else noteMalformed(summary, { file: name, line: lineNo, reason: 'unrecognised line layout' }, text)
          continue
        }
        summary.records++
        const c = line.change
        if (c === undefined) {
          bump(summary.skipped, 'no item change')
          continue
        }
        const account = parseAccountId(line.user)
        if (account === undefined) {
          noteMalformed(summary, { file: name, line: lineNo, reason: `bad user ${JSON.stringify(line.user)}` })
          continue
        }
        if (o.account !== undefined && account !== o.account) {
          bump(summary.skipped, 'other account')
          continue
        }
        const local = DateTime.fromFormat(line.timestamp, 'yyyy-MM-dd HH:mm:ss', { zone: o.zone })
        if (!local.isValid) {
          noteMalformed(summary, { file: name, line: lineNo, reason: `bad timestamp ${line.timestamp}` })
          continue
        }
        if (local.toFormat('yyyy-MM-dd HH:mm:ss') !== line.timestamp || local.getPossibleOffsets().length > 1) summary.dstAdjusted++
        const at = instant(local.toMillis())
        const lE = await logOf(account)
        if (E.isLeft(lE)) return lE
        const log = lE.right
        accounts.add(account)
        const source: SourcePosition = { kind: 'mail-log', file: identity ?? '', name, line: lineNo }
        const made = emitter(summary, recorder, { accountId: account, observedVia: 'mail-log', source, recordedAt: o.now }, at, name, o.onDryEvent)
        // Every event also updates what the import knows, so later lines see it.
        const emit: typeof made = (type, payload) => {
          const e = made(type, payload)
          log.record(e as ItemEvent)
          return e
        }
        switch (c.kind) {
          case 'copy':
            ;(copies.get(account) ?? copies.set(account, []).get(account))?.push(c)
            break
          case 'expunge': {
            const f = log.find(c.box, c.uid, at)
            if (!('found' in f)) {
              bump(summary.skipped, f.missing)
              break
            }
            const s = f.found
            const list = copies.get(account) ?? []
            const i = list.findIndex((x) => x.from === c.box && x.msgid === c.msgid)
            const pair = i >= 0 ? list.splice(i, 1)[0] : undefined
            if (pair === undefined) {
              emit('ItemDeleted', { itemId: s.itemId, itemType: s.itemType, folderId: s.folderId })
              break
            }
            const dest = log.folder(pair.box, at)
            // Moved into a folder the backup does not know yet, or records as created later: the
            // scan's move stays as it dated it.
            if (!('found' in dest)) bump(summary.skipped, `move to a folder ${dest.missing}`)
            else {
              const to = dest.found
              emit('ItemMoved', {
                itemId: s.itemId,
                folderId: to.folderId as ItemId,
                fromFolderId: s.folderId,
                itemType: s.itemType,
                imap: { mailbox: pair.box, uidValidity: to.uidValidity, uid: pair.uid },
              })
            }
            break
          }
          case 'flag_change':
          case 'delete':
          case 'undelete': {
            const f = log.find(c.box, c.uid, at)
            if (!('found' in f) || c.flags === undefined) {
              bump(summary.skipped, 'found' in f ? 'no flags field' : f.missing)
              break
            }
            const s = f.found
            // The line gives the whole set of flags and keywords after the change; what differs from
            // the item at that instant is the change.
            const { flags, tags } = splitFlags(c.flags)
            const flagsChanged = !sameSet(normaliseSet(flags), s.flags)
            const tagsChanged = !sameSet(normaliseSet(tags), s.tags)
            if (flagsChanged) emit('ItemFlagsChanged', { itemId: s.itemId, flags: flags as Flag[] })
            if (tagsChanged) emit('ItemTagsChanged', { itemId: s.itemId, tags: tags as Tag[] })
            if (!flagsChanged && !tagsChanged) bump(summary.skipped, 'flags as recorded')
            break
          }
          case 'save':
            bump(summary.skipped, 'arrival (recorded by the scan at INTERNALDATE)')
            break
          case 'mailbox_create': {
            // The scanner keeps a folder's id when it finds the same name with a new UIDVALIDITY;
            // when this import deleted it at its `Mailbox deleted` line, it exists again from here.
            const again = log.recreated(c.box, at)
            if (again === undefined) bump(summary.skipped, 'folder creation (recorded by the scan)')
            else
              emit('ItemCreated', {
                itemId: again.itemId,
                itemType: 'folder',
                folderId: again.folderId,
                flags: again.flags as Flag[],
                tags: [],
                ...(again.name !== undefined && { name: again.name }),
              })
            break
          }
          case 'mailbox_delete': {
            const f = log.folder(c.box, at)
            if (!('found' in f)) bump(summary.skipped, f.missing)
            else emit('ItemDeleted', { itemId: f.found.folderId as ItemId, itemType: 'folder' })
            break
          }
          case 'mailbox_rename': {
            const from = log.folder(c.from, at)
            const f = 'found' in from ? from : log.folder(c.box, at)
            if (!('found' in f)) bump(summary.skipped, f.missing)
            else {
              const leaf = c.box.split(/[./]/).pop() ?? c.box
              emit('ItemRenamed', { itemId: f.found.folderId as ItemId, name: leaf, itemType: 'folder' })
              log.nameFolder(c.box, f.found, at)
            }
            break
          }
        }
      }
    } catch (e) {
      return E.left({ _tag: 'File', file, reason: (e as Error).message })
    } finally {
      rl.close()
    }
    // Nothing is appended from a file that is not a usable log (events wait for the final flush).
    const unusable = unusableFile(summary, name, file)
    if (unusable !== undefined) return E.left(unusable)
  }
  for (const list of copies.values()) for (let i = 0; i < list.length; i++) bump(summary.skipped, 'copy (recorded by the next scan)')
  const r = await recorder.flush()
  if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
  const done = recorder.appended()
  summary.appended += done.appended
  summary.duplicates += done.duplicates
  summary.accounts.push(...[...accounts].sort())
  return E.right(summary)
}
