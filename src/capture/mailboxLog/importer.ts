/**
 * The mailbox.log importer: reads Zimbra/Carbonio logs (plain or gzipped, rotated files in date
 * order) and records the item changes they describe as events.
 *
 * Guarantees:
 * 1. Idempotent: an event's id comes from the file's identity (a hash of its first line, so a
 *    rotated or gzipped copy of a file has the same identity) and the line number. Importing a file
 *    twice, or one that overlaps a file already imported, appends nothing new.
 * 2. A malformed line is reported with file and line and never stops the import.
 * 3. Lines that record no item change are counted and skipped.
 * 4. `Emptying N items from <folder>` becomes one deletion per item the projection says was in that
 *    folder at that instant, with the events of the import's earlier lines (a real run appends them
 *    first; a dry run folds them in, `logImport/recorder.ts`), so both find the same items.
 * 5. A change logged twice (old builds log `Emptying` and then `Deleting MESSAGES:` for the same
 *    items) is recorded twice, and has one version (`projections/versions.ts`).
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, type ItemId, parseAccountId } from '../../../domain/ids'
import { type Instant, instant } from '../../../domain/instant'
import type { SourcePosition } from '../../../domain/events'
import type { Flag, Tag } from '../../../domain/flags'
import { emptiedItems } from './empty'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { EventStore } from '../../store/eventStore'
import {
  type Emit,
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
import { type LogChange, CHANGE_LOGGERS, classify } from './changes'
import { type LogRecord, parseContext, parseRecordLine, soapRequestOf, startsRecord } from './record'

export const importMailboxLogs = async (store: EventStore, index: TimeTravel, o: ImportOptions): Promise<E.Either<ImportError, ImportSummary>> => {
  const files = rotationOrder(o.files)
  const summary = newSummary(files)
  for (const f of files) {
    try {
      fs.accessSync(f, fs.constants.R_OK)
    } catch (e) {
      return E.left({ _tag: 'File', file: f, reason: (e as Error).message })
    }
  }
  const totalBytes = files.reduce((n, f) => n + fs.statSync(f).size, 0)
  let bytesDone = 0
  const rec0 = await recorderFor(store, index, o, files)
  if (E.isLeft(rec0)) return rec0
  const recorder = rec0.right
  const accounts = new Set<string>()
  let failure: ImportError | undefined

  /** Appends what is queued (for one account, or all); false when the store failed (`failure` says how). */
  const flush = async (account?: AccountId): Promise<boolean> => {
    const r = await recorder.flush(account)
    if (E.isLeft(r)) {
      failure = { _tag: 'Store', error: r.left }
      return false
    }
    return true
  }
  const malformed = (file: string, line: number, reason: string, text?: string) => noteMalformed(summary, { file, line, reason }, text)

  for (const file of files) {
    const name = path.basename(file)
    let identity: string | undefined
    let lineNo = 0
    let current: { rec: LogRecord; line: number } | undefined

    const handle = async (rec: LogRecord, line: number): Promise<void> => {
      summary.records++
      if (!CHANGE_LOGGERS.has(rec.logger)) return bump(summary.skipped, `logger ${rec.logger}`)
      const change = classify(rec.message)
      if (change === undefined) return bump(summary.skipped, 'no item change')
      const context = parseContext(rec.contextRaw)
      const rawAccount = context.name
      if (rawAccount === undefined) return malformed(name, line, 'item change without name= in its context')
      const account = parseAccountId(rawAccount)
      if (account === undefined) return malformed(name, line, `bad account name ${JSON.stringify(rawAccount)}`)
      if (o.account !== undefined && account !== o.account) return bump(summary.skipped, 'other account')
      const local = DateTime.fromFormat(
        rec.timestamp.replace(/,(\d{1,2})$/, (_m, d: string) => `,${d.padEnd(3, '0')}`),
        'yyyy-MM-dd HH:mm:ss,SSS',
        { zone: o.zone },
      )
      if (!local.isValid) return malformed(name, line, `bad timestamp ${rec.timestamp}`)
      if (local.toFormat('yyyy-MM-dd HH:mm:ss') !== rec.timestamp.slice(0, 19) || local.getPossibleOffsets().length > 1) summary.dstAdjusted++
      const at = instant(local.toMillis())
      const ready = await recorder.prepare(account)
      if (E.isLeft(ready)) {
        failure = { _tag: 'Store', error: ready.left }
        return
      }
      accounts.add(account)
      const source: SourcePosition = {
        kind: 'mailbox-log',
        file: identity ?? '',
        name,
        line,
        ...(context.mid !== undefined && { mid: context.mid }),
        ...(soapRequestOf(rec.thread) !== undefined && { request: soapRequestOf(rec.thread) as string }),
      }
      const emit = emitter(summary, recorder, { accountId: account, observedVia: 'mailbox-log', source, recordedAt: o.now }, at, name, o.onDryEvent)
      await emitChange(change, account, at, emit, line)
    }

    const emitChange = async (c: LogChange, account: AccountId, at: Instant, emit: Emit, line: number): Promise<void> => {
      switch (c.kind) {
        case 'created': {
          const headers = {
            ...(c.messageId !== undefined && { messageId: c.messageId }),
            ...(c.subject !== undefined && { subject: c.subject }),
            ...(c.email !== undefined && { from: c.email }),
          }
          emit('ItemCreated', {
            itemId: c.itemId as ItemId,
            itemType: c.itemType,
            folderId: Math.max(1, c.folderId) as ItemId,
            flags: [],
            tags: [],
            ...(c.name !== undefined && { name: c.name }),
            ...(Object.keys(headers).length > 0 && { headers }),
            ...(c.uid !== undefined && { uid: c.uid }),
          })
          return
        }
        case 'moved':
          for (const id of c.itemIds) emit('ItemMoved', { itemId: id as ItemId, folderId: Math.max(1, c.folderId) as ItemId, itemType: c.itemType })
          return
        case 'deleted':
          for (const id of c.itemIds) emit('ItemDeleted', { itemId: id as ItemId, itemType: c.itemType })
          return
        case 'renamed':
          emit('ItemRenamed', { itemId: c.itemId as ItemId, name: c.name, itemType: c.itemType })
          return
        case 'copied': {
          // A copy has the original's content, as far as the backup knows it (with this import's
          // own events before this line).
          const original = await recorder.itemAsOf(account, c.originalId as ItemId, at)
          if (E.isLeft(original)) {
            failure = { _tag: 'Store', error: original.left }
            return
          }
          const s = original.right
          emit('ItemCreated', {
            itemId: c.itemId as ItemId,
            itemType: c.itemType,
            folderId: Math.max(1, c.folderId) as ItemId,
            flags: (s?.flags ?? []) as Flag[],
            tags: (s?.tags ?? []) as Tag[],
            ...(s?.content !== undefined && { content: s.content }),
            ...(s?.headers !== undefined && { headers: s.headers }),
          })
          return
        }
        case 'emptied': {
          const liveE = await recorder.liveItemsAsOf(account, at)
          if (E.isLeft(liveE)) {
            failure = { _tag: 'Store', error: liveE.left }
            return
          }
          const gone = emptiedItems(liveE.right, c.folderPath, c.removeSubfolders)
          for (const s of gone) emit('ItemDeleted', { itemId: s.itemId, itemType: s.itemType, folderId: s.folderId })
          // The backup may not know everything the folder held (items from before the first scan
          // or log): say so rather than pass over it.
          if (gone.length !== c.count)
            summary.notes.push({
              file: name,
              line,
              note: `the log says ${c.count} items were emptied from ${c.folderPath}; the backup held ${gone.length} there at that instant${c.removeSubfolders ? ' (its subfolders and what they held included)' : ''}`,
            })
          return
        }
      }
    }

    const rl = openLines(file)
    try {
      for await (const text of rl) {
        lineNo++
        summary.linesRead++
        bytesDone += text.length + 1
        if (identity === undefined) identity = identityOf(text)
        noteLine(summary, name, text)
        if (startsRecord(text)) {
          if (current !== undefined) await handle(current.rec, current.line)
          if (failure !== undefined) break
          const rec = parseRecordLine(text)
          if (rec === undefined) {
            malformed(name, lineNo, text.length > 200 ? 'unrecognised record layout (long line)' : `unrecognised record layout: ${JSON.stringify(text.slice(0, 120))}`, text)
            current = undefined
          } else current = { rec, line: lineNo }
        } else if (current !== undefined) {
          current = { rec: { ...current.rec, continuation: [...current.rec.continuation.slice(0, 50), text.slice(0, 500)] }, line: current.line }
        } else if (text.trim().length > 0) malformed(name, lineNo, 'a continuation line with no record before it', text)
        if (lineNo % 10_000 === 0) {
          o.onProgress?.(bytesDone, totalBytes)
          // Bounded memory: what is pending across all accounts is appended every few thousand events.
          if (recorder.waiting() >= 5000 && !(await flush())) break
        }
      }
      if (current !== undefined && failure === undefined) await handle(current.rec, current.line)
    } catch (e) {
      if (failure === undefined) failure = { _tag: 'File', file, reason: (e as Error).message }
    } finally {
      rl.close()
    }
    if (failure !== undefined) return E.left(failure)
    const unusable = unusableFile(summary, name, file)
    if (unusable !== undefined) return E.left(unusable)
  }
  if (!(await flush())) return E.left(failure as unknown as ImportError)
  const done = recorder.appended()
  summary.appended += done.appended
  summary.duplicates += done.duplicates
  summary.accounts.push(...[...accounts].sort())
  return E.right(summary)
}
