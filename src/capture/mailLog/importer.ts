/**
 * The Dovecot mail_log importer: pins the exact instants of changes the IMAP scanner can only
 * bound (between two scans): expunges, moves, flag changes, and folder renames and deletions.
 *
 * Guarantees:
 * 1. Lines are matched to items the backup already holds, by IMAP location (mailbox and UID), and
 *    folders by the scanner's mapping. A log line has no message body, so a message the scanner has
 *    not recorded yet is counted as "not yet captured"; importing the log again after the next scan
 *    applies it (ids are deterministic, so nothing is recorded twice).
 * 2. A move shows in mail_log as `copy from A` followed by `expunge` in A of the same Message-ID:
 *    the pair is recorded as one move that keeps the item's identity.
 * 3. A deletion or move recorded both here and by a scan keeps the earlier, exact instant.
 */
import { createHash } from 'crypto'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { DateTime } from 'luxon'
import { type AccountId, type ItemId, parseAccountId, streamOfAccount } from '../../../domain/ids'
import { type Instant, MAX_INSTANT, instant } from '../../../domain/instant'
import type { MailEvent, SourcePosition } from '../../../domain/events'
import type { Flag, Tag } from '../../../domain/flags'
import type { ItemState } from '../../../domain/state'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { EventStore } from '../../store/eventStore'
import { ScanCheckpoint, checkpointName, splitFlags } from '../imap/scanner'
import { type ImportError, type ImportOptions, type ImportSummary, bump, emitter, newSummary, noteMalformed, openLines, rotationOrder } from '../logImport/common'
import { parseMailLogLine } from './parse'


interface AccountView {
  readonly byLocation: Map<string, ItemState>
  readonly folders: Map<string, number>
  readonly uidValidity: Map<string, number>
}

const loc = (box: string, uid: number) => `${box}\u0000${uid}`

export const importMailLogs = async (store: EventStore, index: TimeTravel, o: ImportOptions): Promise<E.Either<ImportError, ImportSummary>> => {
  const files = rotationOrder(o.files)
  const summary = newSummary(files)
  const views = new Map<AccountId, AccountView>()
  const view = async (a: AccountId): Promise<E.Either<ImportError, AccountView>> => {
    const hit = views.get(a)
    if (hit !== undefined) return E.right(hit)
    const live = await index.liveItemsAsOf(a, { validAt: MAX_INSTANT as Instant })()
    if (E.isLeft(live)) return E.left({ _tag: 'Store', error: live.left })
    const gone = await index.deletedBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant })()
    if (E.isLeft(gone)) return E.left({ _tag: 'Store', error: gone.left })
    const byLocation = new Map<string, ItemState>()
    for (const s of [...gone.right.map((g) => g.state), ...live.right]) if (s.imap !== undefined) byLocation.set(loc(s.imap.mailbox, s.imap.uid), s)
    const cp = await store.readCheckpoint(checkpointName(a))()
    const folders = new Map<string, number>()
    const uidValidity = new Map<string, number>()
    if (E.isRight(cp) && cp.right !== undefined) {
      const d = ScanCheckpoint.decode(JSON.parse(cp.right))
      if (E.isRight(d))
        for (const [p, f] of Object.entries(d.right.folders)) {
          folders.set(p, f.folderId)
          uidValidity.set(p, f.uidValidity)
        }
    }
    folders.set('INBOX', 2)
    const v = { byLocation, folders, uidValidity }
    views.set(a, v)
    return E.right(v)
  }
  const pending = new Map<AccountId, MailEvent[]>()
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
        if (identity === undefined) identity = createHash('sha256').update(text).digest('hex').slice(0, 24)
        if (text.trim() === '') continue
        const line = parseMailLogLine(text)
        if (line === undefined) {
          if (/^\d{4}-\d{2}-\d{2} /.test(text)) bump(summary.skipped, 'not a mail_log line')
          else noteMalformed(summary, { file: name, line: lineNo, reason: 'unrecognised line layout' })
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
        const vE = await view(account)
        if (E.isLeft(vE)) return vE
        const v = vE.right
        accounts.add(account)
        const source: SourcePosition = { kind: 'mail-log', file: identity ?? '', name, line: lineNo }
        const out = pending.get(account) ?? []
        pending.set(account, out)
        const emit = emitter(summary, out, { accountId: account, observedVia: 'mail-log', source, recordedAt: o.now }, at, name, o.onDryEvent)
        switch (c.kind) {
          case 'copy':
            ;(copies.get(account) ?? copies.set(account, []).get(account))?.push(c)
            break
          case 'expunge': {
            const s = v.byLocation.get(loc(c.box, c.uid))
            if (s === undefined) {
              bump(summary.skipped, 'not yet captured')
              break
            }
            const list = copies.get(account) ?? []
            const i = list.findIndex((x) => x.from === c.box && x.msgid === c.msgid)
            const pair = i >= 0 ? list.splice(i, 1)[0] : undefined
            const to = pair === undefined ? undefined : v.folders.get(pair.box)
            if (pair !== undefined && to !== undefined) {
              emit('ItemMoved', { itemId: s.itemId, folderId: to as ItemId, fromFolderId: s.folderId, itemType: s.itemType, imap: { mailbox: pair.box, uidValidity: v.uidValidity.get(pair.box) ?? 0, uid: pair.uid } })
              v.byLocation.set(loc(pair.box, pair.uid), { ...s, folderId: to as ItemId, imap: { mailbox: pair.box, uidValidity: v.uidValidity.get(pair.box) ?? 0, uid: pair.uid } })
            } else emit('ItemDeleted', { itemId: s.itemId, itemType: s.itemType, folderId: s.folderId })
            v.byLocation.delete(loc(c.box, c.uid))
            break
          }
          case 'flag_change':
          case 'delete':
          case 'undelete': {
            const s = v.byLocation.get(loc(c.box, c.uid))
            if (s === undefined || c.flags === undefined) {
              bump(summary.skipped, 'not yet captured')
              break
            }
            const { flags, tags } = splitFlags(c.flags)
            emit('ItemFlagsChanged', { itemId: s.itemId, flags: flags as Flag[] })
            if (tags.join('\u0000') !== s.tags.join('\u0000')) emit('ItemTagsChanged', { itemId: s.itemId, tags: tags as Tag[] })
            break
          }
          case 'save':
            bump(summary.skipped, v.byLocation.has(loc(c.box, c.uid)) ? 'arrival (recorded by the scan at INTERNALDATE)' : 'not yet captured')
            break
          case 'mailbox_create':
            bump(summary.skipped, 'folder creation (recorded by the scan)')
            break
          case 'mailbox_delete': {
            const id = v.folders.get(c.box)
            if (id === undefined) bump(summary.skipped, 'not yet captured')
            else emit('ItemDeleted', { itemId: id as ItemId, itemType: 'folder' })
            break
          }
          case 'mailbox_rename': {
            const id = v.folders.get(c.from) ?? v.folders.get(c.box)
            if (id === undefined) bump(summary.skipped, 'not yet captured')
            else {
              const leaf = c.box.split(/[./]/).pop() ?? c.box
              emit('ItemRenamed', { itemId: id as ItemId, name: leaf, itemType: 'folder' })
              v.folders.set(c.box, id)
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
  }
  for (const list of copies.values()) for (let i = 0; i < list.length; i++) bump(summary.skipped, 'copy (recorded by the next scan)')
  if (!o.dryRun)
    for (const [a, evs] of pending) {
      if (evs.length === 0) continue
      const r = await store.appendToStream(streamOfAccount(a), evs)()
      if (E.isLeft(r)) return E.left({ _tag: 'Store', error: r.left })
      summary.appended += r.right.appended
      summary.duplicates += r.right.duplicates
    }
  summary.accounts.push(...[...accounts].sort())
  return E.right(summary)
}
