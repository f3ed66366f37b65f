/**
 * The IMAP scanner's checkpoint against the account's stream (`capture/imap/scanner.ts`).
 *
 * What "ahead" means for it: the checkpoint claims progress the events do not hold. The scanner
 * writes two forms, in the same transaction as each batch of events:
 * - while a scan is partly recorded, a form that maps folders to item ids but marks none as read
 *   (`messages: -1`): nothing in it can be ahead of the events (the next scan reads every folder);
 * - after a scan's last batch, the final form, which marks folders as read (the next scan skips a
 *   folder whose UIDVALIDITY, UIDNEXT, message count and HIGHESTMODSEQ are unchanged) and says
 *   which item id to hand out next.
 * A final form is ahead when it hands out ids past every id the stream used or the mapping holds
 * (ids of items never recorded), or marks as read a user folder that the stream did not hold as a
 * folder at the scan's instant: the next scan would skip messages never recorded.
 *
 * Not compared: message counts. The scanner takes them from STATUS before it lists the messages,
 * so a message expunged during a scan leaves the count one above what was recorded, harmlessly
 * (the server no longer matches the checkpoint, so the folder is read again).
 */
import * as E from 'fp-ts/Either'
import type { ItemEvent } from '../../domain/events'
import { FIRST_USER_ITEM_ID } from '../../domain/ids'
import { describeErrors } from '../../domain/decode'
import { type RecordedEvent, compareRecorded } from '../../projections/order'
import { itemVersions } from '../../projections/versions'
import { ScanCheckpoint } from '../capture/scanCheckpoint'

export type DecodedCheckpoint = { readonly _tag: 'None' } | { readonly _tag: 'Bad'; readonly reason: string } | { readonly _tag: 'Ok'; readonly value: ScanCheckpoint }

export const decodeScanCheckpoint = (raw: string | undefined): DecodedCheckpoint => {
  if (raw === undefined) return { _tag: 'None' }
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch (e) {
    return { _tag: 'Bad', reason: `not JSON (${(e as Error).message})` }
  }
  const d = ScanCheckpoint.decode(json)
  return E.isLeft(d) ? { _tag: 'Bad', reason: describeErrors(d.left) } : { _tag: 'Ok', value: d.right }
}

/** Whether the scanner wrote this checkpoint after a scan's last batch (see above). */
export const isFinalForm = (cp: ScanCheckpoint): boolean => cp.pendingFirstScan !== true && Object.values(cp.folders).some((f) => f.messages >= 0)

/** What the stream says that the checkpoint is compared with. */
export interface StreamFacts {
  /** The highest item id of any event of the stream (0 when none). */
  readonly maxItemId: number
  /** Every event of the stream's folders (items created as folders, or events that say they are about a folder). */
  readonly folderEvents: ReadonlyMap<number, readonly RecordedEvent<ItemEvent>[]>
  /** When the last scan recorded something (the latest system time of an event a scan recorded), if any did. */
  readonly lastScanAt: number | undefined
}

/** Why the checkpoint is ahead of the stream, one sentence per finding; empty when it is not. */
export const checkpointAhead = (cp: ScanCheckpoint, facts: StreamFacts): string[] => {
  if (!isFinalForm(cp)) return []
  const out: string[] = []
  const mapped = Object.values(cp.folders).map((f) => f.folderId)
  const handedOut = Math.max(FIRST_USER_ITEM_ID, facts.maxItemId + 1, ...mapped.map((id) => id + 1))
  if (cp.nextItemId > handedOut) out.push(`it hands out item ids from ${cp.nextItemId}, but the highest id the stream or the folder mapping uses is ${handedOut - 1}`)
  for (const [path, f] of Object.entries(cp.folders).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (f.messages < 0 || f.folderId < FIRST_USER_ITEM_ID) continue
    // The checkpoint's lastScanAt is when its scan began (the next scan's window starts there), so
    // the events that scan recorded come after it: the state compared is the one as of the last
    // event a scan recorded, when that is later.
    const at = Math.max(cp.lastScanAt, facts.lastScanAt ?? 0)
    const known = (facts.folderEvents.get(f.folderId) ?? []).filter((r) => r.event.recordedAt <= at)
    const last = itemVersions(known).at(-1)?.state
    if (last === undefined || last.itemType !== 'folder' || last.status !== 'live')
      out.push(
        `it marks folder ${JSON.stringify(path)} (item ${f.folderId}) as read, but the stream ${last === undefined ? 'never recorded that folder' : `holds item ${f.folderId} as a ${last.status} ${last.itemType}`} at the scan's instant (${new Date(at).toISOString()})`,
      )
  }
  return out
}

/**
 * The checkpoint with every folder marked as not read, as the scanner itself writes it while a
 * scan is partly recorded: the next scan keeps each folder's item id, reads every folder in full,
 * and records what the stream lacks (it compares with the stream, not the checkpoint).
 */
export const rereadEverything = (cp: ScanCheckpoint): ScanCheckpoint => ({
  ...cp,
  folders: Object.fromEntries(Object.entries(cp.folders).map(([p, f]) => [p, { folderId: f.folderId, uidValidity: f.uidValidity, uidNext: 0, messages: -1 }])),
})

/**
 * A checkpoint made again from the stream, for one that does not decode: each live user folder
 * under the mailbox and UIDVALIDITY its latest scan event names, none marked as read, ids handed
 * out after the highest one used. The next scan reads every folder in full and keeps every folder's
 * item id (without a mapping it would record the folders and their messages a second time).
 */
export const checkpointFromStream = (facts: StreamFacts): ScanCheckpoint => {
  const folders: ScanCheckpoint['folders'] = {}
  for (const [id, events] of [...facts.folderEvents].sort(([a], [b]) => a - b)) {
    if (id < FIRST_USER_ITEM_ID) continue
    const last = itemVersions(events).at(-1)?.state
    if (last === undefined || last.itemType !== 'folder' || last.status !== 'live') continue
    const named = [...events]
      .sort(compareRecorded)
      .reverse()
      .find((r) => r.event.source.kind === 'imap-folder' && r.event.source.mailbox !== undefined && r.event.source.uidValidity !== undefined)
    const src = named?.event.source
    if (src?.mailbox === undefined || src.uidValidity === undefined) continue
    folders[src.mailbox] = { folderId: id, uidValidity: src.uidValidity, uidNext: 0, messages: -1 }
  }
  return { version: 1, nextItemId: Math.max(FIRST_USER_ITEM_ID, facts.maxItemId + 1), lastScanAt: facts.lastScanAt ?? 0, folders }
}
