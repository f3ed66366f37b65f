/**
 * Messages a restore wrote, as a scan of the same server later finds them: so that capture records
 * them as restored (by which operation, from which item), not as new mail the user received.
 *
 * A restore writes an `AppendIntent` (folder, UIDVALIDITY, UIDNEXT, digests) before each batch and
 * the items' locations (`folder;uidValidity;uid`) after it. A message is the restore's when its
 * location was recorded, or, for a batch whose outcome is not recorded yet (the restore is still
 * running, or died), when it is in an intent's folder with the same UIDVALIDITY, at or above the
 * intent's UIDNEXT, with one of the intent's digests. Each intent item is matched once.
 */
import type { OperationEvent } from '../operations'

export interface RestoredBy {
  readonly operationId: string
  /** The item of the backup it was restored from. */
  readonly itemId: number
  readonly initiator: string
  /** When the restore wrote it: the batch's intent, or its recorded outcome. */
  readonly at: number
}

export interface RestoredMessages {
  /** The restore that wrote this message, if one did. */
  find(m: { folder: string; uidValidity: number; uid: number; digest: string }): RestoredBy | undefined
}

/** The `scheme://host:port` of a server description ("imap://mail:143 as admin"), for comparing servers. */
export const serverOf = (description: string): string => (/^(imaps?:\/\/[^\s/]+)/i.exec(description)?.[1] ?? description).toLowerCase()

/**
 * From the operations' streams, the messages restores wrote into `account` on `server`
 * (`scheme://host:port`); operations into other servers or Maildir trees are ignored.
 */
export const restoredMessages = (operations: readonly (readonly OperationEvent[])[], account: string, server: string): RestoredMessages => {
  const byLocation = new Map<string, RestoredBy>()
  const recorded = new Set<string>()
  const intents: { folder: string; uidValidity: number; uidNext: number; left: Map<string, RestoredBy[]> }[] = []
  for (const events of operations) {
    const start = events.find((e) => e.type === 'OperationStarted')
    if (start?.type !== 'OperationStarted' || start.target === undefined || serverOf(start.target) !== server) continue
    const by = (itemId: number, at: number): RestoredBy => ({ operationId: start.operationId, itemId, initiator: start.initiator, at })
    for (const e of events) {
      if (e.type === 'ItemsRecorded')
        for (const i of e.items)
          if (i.account === account && i.outcome !== 'unrestored' && i.location !== undefined) {
            byLocation.set(i.location, by(i.itemId, e.at))
            recorded.add(`${start.operationId}:${i.itemId}`)
          }
      if (e.type === 'AppendIntent' && e.account === account) {
        const left = new Map<string, RestoredBy[]>()
        for (const i of e.items) left.set(i.digest, [...(left.get(i.digest) ?? []), by(i.itemId, e.at)])
        intents.push({ folder: e.folder, uidValidity: e.uidValidity, uidNext: e.uidNext, left })
      }
    }
  }
  return {
    find: (m) => {
      const exact = byLocation.get(`${m.folder};${m.uidValidity};${m.uid}`)
      if (exact !== undefined) return exact
      for (const i of intents) {
        if (i.folder !== m.folder || i.uidValidity !== m.uidValidity || m.uid < i.uidNext) continue
        const candidates = i.left.get(m.digest) ?? []
        // An item whose location was recorded is found by it: its intent entry must not claim another message.
        let hit = candidates.shift()
        while (hit !== undefined && recorded.has(`${hit.operationId}:${hit.itemId}`)) hit = candidates.shift()
        if (hit !== undefined) return hit
      }
      return undefined
    },
  }
}
