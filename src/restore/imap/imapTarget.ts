/**
 * The IMAP target: writes a restore plan into an account on an IMAP server, logged in as the user
 * or as an admin on the user's behalf. Folders are created as needed (names mapped to what the
 * server's hierarchy separator allows, and reported); messages go in with their original bytes,
 * flags, keywords and INTERNALDATE, many per MULTIAPPEND command.
 *
 * Resuming without duplicates: before each batch the target records an `AppendIntent` (folder,
 * UIDVALIDITY, UIDNEXT, digests); after it, the UIDs the server gave. A run that finds an intent
 * never settled (the process died mid-batch) reads the messages at or above that UIDNEXT, hashes
 * them, and counts the ones whose digests match as already restored. The message bytes are never
 * altered, so a restored message is byte-identical to the original.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import type { ItemOutcome } from '../../../domain/operations'
import type { RestoreItem, RestorePlan } from '../../../domain/restore/plan'
import { type BlobStore, describeBlobError, sha256 } from '../../blobs/blobStore'
import { encodeModifiedUtf7, mapFolder } from '../folderNames'
import { REPAIR_TEXT, type Repair, applyRepairs, repairFor } from '../messageRepair'
import { keywordsOf } from '../keywords'
import { type Journal, type MaterializeReport, type RestoreTarget, type TargetError, folderItemOutcomes, refusedFolders } from '../target'
import { type AppendEndpoint, type AppendMessage, type AppendSession, ImapCommandError, openAppendSession } from '../../imap/multiAppend'
import { groupBy } from '../../../domain/groupBy'

export interface ImapLogin {
  readonly user: string
  readonly pass: string
  readonly authzid?: string
}

export interface ImapTargetServer {
  readonly host: string
  readonly port: number
  readonly secure: boolean
  /** Display form without secrets. */
  readonly description: string
  /** How to log in for an account (its own password, or an admin on its behalf). */
  loginFor(account: string): ImapLogin | undefined
  /** An imapflow client logged in for the account (folders, STATUS, reading back). */
  connect(account: string): Promise<E.Either<ConnectFailure, ImapFlow>>
}

/** Why no client could be had: the server has no such account, or anything else (down, refused). */
export type ConnectFailure = { readonly _tag: 'NoSuchAccount' | 'Failure'; readonly reason: string }

export interface ImapTargetOptions {
  /** Messages per MULTIAPPEND command. */
  readonly batchSize?: number
  /** Bytes per MULTIAPPEND command (a batch closes early when it would exceed this). */
  readonly batchBytes?: number
  /** Parallel APPEND connections (Dovecot saves on two connections faster than on one; measured). */
  readonly connections?: number
  /** Called after each batch's APPEND, before its record (fault injection in tests: MAILTIME_FAULT). */
  readonly afterAppend?: (batchNo: number, stopRequested: () => Promise<boolean>) => Promise<void>
  /** Repairs asked for (`repair bare_lf`): applied to the messages that need them, each reported. */
  readonly repairs?: ReadonlySet<Repair>
}

const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'])

const flagsOf = (item: RestoreItem): string[] => [...new Set([...item.flags.filter((f) => SYSTEM_FLAGS.has(f)), ...keywordsOf(item.tags)])]

const failure = (target: string, reason: string): E.Either<TargetError, never> => E.left({ _tag: 'TargetFailure', target, reason })

/** A server's answer without Dovecot's timing ("Mailbox name too long (0.001 + 0.000 secs)."). */
const withoutTiming = (text: string): string => text.replace(/\s*\([\d.+ ]+secs\)\.?$/, '')

/** A folder's identity on the server: its path, except INBOX, which is the same in any case. */
const folderKey = (path: string): string => (path.toUpperCase() === 'INBOX' ? 'INBOX' : path)

export const imapTarget = (server: ImapTargetServer, options: ImapTargetOptions = {}): RestoreTarget => {
  const batchSize = options.batchSize ?? 50
  const batchBytes = options.batchBytes ?? 16 * 1024 * 1024
  const repairs: ReadonlySet<Repair> = options.repairs ?? new Set()
  const connections = Math.max(1, options.connections ?? 2)
  const description = server.description
  return {
    description,
    materialize: async (
      plan: RestorePlan,
      blobs: BlobStore,
      journal: Journal,
      onProgress?: (done: number, total: number) => void,
    ): Promise<E.Either<TargetError, MaterializeReport>> => {
      const account = plan.targetAccount
      const where = `${description} (account ${account})`
      const login = server.loginFor(account)
      if (login === undefined) return failure(where, `no IMAP credentials for ${account}: configure an admin (MAILTIME_IMAP_USER) or imap.passwords`)
      const connected = await server.connect(account)
      if (E.isLeft(connected))
        return connected.left._tag === 'NoSuchAccount'
          ? E.left({ _tag: 'NoSuchAccount', target: description, account, reason: connected.left.reason })
          : failure(where, connected.left.reason)
      const client = connected.right
      const sessions: AppendSession[] = []
      const renamedFolders: MaterializeReport['renamedFolders'] = []
      let stopped = false
      const repairedWarnings: string[] = []
      try {
        const listed = await client.list()
        const delimiter = listed.find((b) => b.delimiter)?.delimiter ?? '/'
        // Folders that hold messages. Only INBOX is case-insensitive (RFC 3501): "Archive" and
        // "archive" are two folders. A parent only implied by its child (\Noselect, \NonExistent:
        // "Projects" when only "Projects.Alpha" was made) holds none, so it is created like any other.
        const existing = new Set(listed.filter((b) => ![...b.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f))).map((b) => folderKey(b.path)))
        const paths = new Map<string, string>()
        const pathOf = (segments: readonly string[]): string => {
          const key = JSON.stringify(segments)
          const hit = paths.get(key)
          if (hit !== undefined) return hit
          const m = mapFolder(segments, [delimiter])
          if (m.renamed !== undefined) renamedFolders.push(m.renamed)
          // A folder below the Inbox is below the server's INBOX: named "Inbox/Receipts" it would
          // be another folder on a server that keeps INBOX's name as is (Cyrus answers CREATE
          // "Inbox/Receipts" with "Mailbox already exists" when INBOX/Receipts is there).
          const [first = '', ...rest] = m.segments
          const p = m.isInbox ? 'INBOX' : [first.toUpperCase() === 'INBOX' ? 'INBOX' : first, ...rest].join(delimiter)
          paths.set(key, p)
          return p
        }
        const refused = refusedFolders()
        for (const seg of plan.folders) {
          const p = pathOf(seg)
          if (existing.has(folderKey(p)) || refused.reasonFor(seg) !== undefined) continue
          try {
            await client.mailboxCreate(p)
          } catch (e) {
            // A folder the server refuses (NO, BAD: a name too long, not allowed) is that folder's
            // problem, not the target's: its items are unrestored, the others go on.
            const r = e as { responseStatus?: string; responseText?: string; message?: string }
            if (r.responseStatus !== 'NO' && r.responseStatus !== 'BAD') throw e
            refused.refuse(seg, `the server refused to create ${p}: ${withoutTiming(r.responseText ?? r.message ?? 'refused')}`)
            continue
          }
          await client.mailboxSubscribe(p).catch(() => undefined)
          existing.add(folderKey(p))
        }
        await journal.record(folderItemOutcomes(plan, journal, pathOf, refused))

        // Batches an earlier run announced but never settled: what landed is skipped below, with its UID.
        const settled = new Map<number, string>()
        // Messages whose place is recorded belong to their items; never match them to another item.
        const known = new Set(plan.items.map((i) => journal.doneAt(account, i.itemId)).filter((l): l is string => l !== undefined))
        for (const intent of journal.pendingIntents.filter((i) => i.account === account)) {
          const st = await client.status(intent.folder, { uidValidity: true, uidNext: true }).catch(() => undefined)
          if (st === undefined || st === false || Number(st.uidValidity) !== intent.uidValidity || (st.uidNext ?? 0) <= intent.uidNext) continue
          const wanted = new Map(
            [
              ...groupBy(
                intent.items.filter((i) => journal.doneAt(account, i.itemId) === undefined),
                (i) => i.digest,
              ),
            ].map(([d, is]) => [d, is.map((i) => i.itemId)]),
          )
          const lock = await client.getMailboxLock(intent.folder, { readOnly: true })
          try {
            for await (const m of client.fetch(`${intent.uidNext}:*`, { uid: true, source: true }, { uid: true })) {
              const here = `${intent.folder};${intent.uidValidity};${m.uid}`
              if (m.uid < intent.uidNext || m.source === undefined || known.has(here)) continue
              const ids = wanted.get(sha256(m.source))
              const id = ids?.shift()
              if (id !== undefined) {
                settled.set(id, here)
                known.add(here)
              }
            }
          } finally {
            lock.release()
          }
        }

        // What earlier runs wrote and is gone from the server since (deleted before any scan told the
        // backup): written again. A copy filed into another folder is still there, and is not; nor is
        // one whose content this run writes anyway: a scan recorded the copy as an item of its own,
        // and its deletion is in this plan (writing both would put the message back twice).
        const fresh = new Set(plan.items.filter((i) => journal.doneAt(account, i.itemId) === undefined && !settled.has(i.itemId)).map((i) => i.digest))
        const gone = await goneSince(
          client,
          blobs,
          plan.items.flatMap((i) => {
            const at = journal.doneAt(account, i.itemId)
            return at === undefined || fresh.has(i.digest) ? [] : [{ itemId: i.itemId, location: at, digest: i.digest }]
          }),
        )

        for (let k = 0; k < connections; k++)
          sessions.push(await openAppendSession({ host: server.host, port: server.port, secure: server.secure, ...login } satisfies AppendEndpoint))
        let done = 0
        let batches = 0
        const progress = (n: number) => {
          done += n
          onProgress?.(done, plan.items.length)
        }

        // Items in plan order, grouped by folder, in batches bounded by count and bytes; each batch's
        // bytes are read from the blob store when a connection asks for it, so one connection reads
        // while the other's batch is on the server.
        const byFolder = groupBy(plan.items, (item) => pathOf(item.folder))
        function* prepared(): Generator<{ folder: string; outcomes: ItemOutcome[]; batch: Sending[] }> {
          for (const [folder, items] of byFolder) {
            let i = 0
            while (i < items.length) {
              const outcomes: ItemOutcome[] = []
              const batch: Sending[] = []
              let bytes = 0
              while (i < items.length && batch.length < batchSize) {
                const item = items[i] as RestoreItem
                const earlier = gone.has(item.itemId) ? undefined : (journal.doneAt(account, item.itemId) ?? settled.get(item.itemId))
                if (earlier !== undefined) {
                  outcomes.push({ account, itemId: item.itemId, outcome: 'skipped', location: earlier })
                  i++
                  continue
                }
                const noFolder = refused.reasonFor(item.folder)
                if (noFolder !== undefined) {
                  outcomes.push({ account, itemId: item.itemId, outcome: 'unrestored', reason: noFolder })
                  i++
                  continue
                }
                const blob = blobs.get(item.digest)
                if (E.isLeft(blob)) {
                  outcomes.push({ account, itemId: item.itemId, outcome: 'unrestored', reason: describeBlobError(blob.left) })
                  i++
                  continue
                }
                const sent = applyRepairs(blob.right, repairs)
                if (batch.length > 0 && bytes + sent.bytes.length > batchBytes) break
                bytes += sent.bytes.length
                batch.push({
                  item,
                  message: { bytes: sent.bytes, flags: flagsOf(item), ...(item.internalDate !== undefined && { internalDate: item.internalDate }) },
                  // A resume finds a repaired message by the digest of what was sent.
                  digest: sent.applied.length === 0 ? item.digest : sha256(sent.bytes),
                  repaired: sent.applied,
                })
                i++
              }
              yield { folder, outcomes, batch }
            }
          }
        }
        // A lower bound of the next UID is all an intent needs (a resume searches from it, by digest),
        // so STATUS is asked once per folder and then advanced from the UIDs the server returns.
        const folderState = new Map<string, Promise<{ uidValidity: number; uidNext: number }>>()
        const stateOf = (folder: string) => {
          let hit = folderState.get(folder)
          if (hit === undefined) {
            hit = client.status(folder, { uidValidity: true, uidNext: true }).then((st) => {
              if (st === false) throw new Error(`cannot read the status of folder ${folder}`)
              return { uidValidity: Number(st.uidValidity ?? 0), uidNext: st.uidNext ?? 1 }
            })
            folderState.set(folder, hit)
          }
          return hit
        }
        const work = prepared()
        let failed = false
        const worker = async (s: AppendSession): Promise<void> => {
          for (;;) {
            if (failed || stopped) return
            if (await journal.stopRequested()) {
              stopped = true
              return
            }
            const next = work.next()
            if (next.done === true) return
            const { folder, outcomes, batch } = next.value
            if (batch.length > 0) {
              const st = await stateOf(folder)
              await journal.intent({ account, folder, uidValidity: st.uidValidity, uidNext: st.uidNext, items: batch.map((b) => ({ itemId: b.item.itemId, digest: b.digest })) })
              const appended = await appendBatch(s, encodeModifiedUtf7(folder), folder, st.uidValidity, account, batch)
              for (const o of appended) {
                const uid = Number(o.location?.split(';')[2])
                if (Number.isInteger(uid) && uid + 1 > st.uidNext) st.uidNext = uid + 1
              }
              await options.afterAppend?.(++batches, journal.stopRequested)
              outcomes.push(...appended)
              for (const b of batch)
                if (b.repaired.length > 0 && appended.some((o) => o.itemId === b.item.itemId && o.outcome === 'restored'))
                  repairedWarnings.push(`item ${b.item.itemId} in /${b.item.folder.join('/')}: ${b.repaired.map((r) => REPAIR_TEXT[r]).join(', ')}`)
            }
            await journal.record(outcomes)
            progress(outcomes.length)
          }
        }
        const results = await Promise.allSettled(
          sessions.map((x) =>
            worker(x).catch((e: unknown) => {
              failed = true
              throw e
            }),
          ),
        )
        const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
        if (rejected !== undefined) throw rejected.reason
      } catch (e) {
        return failure(where, (e as Error).message)
      } finally {
        await Promise.all(sessions.map((x) => x.close().catch(() => undefined)))
        await client.logout().catch(() => undefined)
      }
      return E.right({ renamedFolders, warnings: repairedWarnings, stopped })
    },
  }
}

/** `folder;uidValidity;uid`, as the restore records where it wrote a message. */
const parseLocation = (location: string): { folder: string; uidValidity: number; uid: number } | undefined => {
  const m = /^(.*);(\d+);(\d+)$/.exec(location)
  return m === null ? undefined : { folder: m[1] ?? '', uidValidity: Number(m[2]), uid: Number(m[3]) }
}

/** UIDs as IMAP ranges (`3:7`, `9`), ascending. */
export const uidRanges = (uids: readonly number[]): string[] => {
  const sorted = [...new Set(uids)].sort((a, b) => a - b)
  const out: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`)
    i = j + 1
  }
  return out
}

/** The Message-ID of a message's header, if it has one. */
export const messageIdOf = (bytes: Buffer): string | undefined => {
  const end = bytes.indexOf('\r\n\r\n')
  const head = bytes.subarray(0, end < 0 ? Math.min(bytes.length, 65536) : end).toString('latin1')
  return /^message-id:[ \t]*(?:\r?\n[ \t]+)?(<[^>\r\n]+>)/im.exec(head)?.[1]
}

/**
 * Of the messages earlier runs wrote (at their recorded locations), those no longer on the server:
 * gone from where they were written (the folder, its UIDVALIDITY, the UID) and not found by their
 * Message-ID in any folder (a copy the user filed elsewhere is still restored). A message without a
 * Message-ID that left its place counts as still there: never written twice.
 */
const goneSince = async (client: ImapFlow, blobs: BlobStore, written: readonly { itemId: number; location: string; digest: string }[]): Promise<Set<number>> => {
  const missing: { itemId: number; digest: string }[] = []
  for (const [folder, entries] of groupBy(written, (w) => parseLocation(w.location)?.folder ?? '')) {
    const here = entries.map((e) => ({ ...e, at: parseLocation(e.location) }))
    const st = folder === '' ? undefined : await client.status(folder, { uidValidity: true }).catch(() => undefined)
    const present = new Set<number>()
    if (st !== undefined && st !== false) {
      const lock = await client.getMailboxLock(folder, { readOnly: true })
      try {
        const uids = here.filter((e) => e.at !== undefined && e.at.uidValidity === Number(st.uidValidity)).map((e) => e.at?.uid as number)
        // As ranges, a few hundred per command: a re-run of a large restore asks about many UIDs, mostly consecutive.
        const ranges = uidRanges(uids)
        for (let i = 0; i < ranges.length; i += 500) for (const u of (await client.search({ uid: ranges.slice(i, i + 500).join(',') }, { uid: true })) || []) present.add(u)
      } finally {
        lock.release()
      }
    }
    for (const e of here) if (e.at === undefined || e.at.uidValidity !== Number(st === undefined || st === false ? -1 : st.uidValidity) || !present.has(e.at.uid)) missing.push(e)
  }
  if (missing.length === 0) return new Set()
  // Moved rather than deleted? Looked up by Message-ID in every folder (few messages: those that left their place).
  const ids = new Map<number, string | undefined>()
  for (const m of missing) {
    const b = blobs.get(m.digest)
    ids.set(m.itemId, E.isRight(b) ? messageIdOf(b.right) : undefined)
  }
  const found = new Set<string>()
  const wanted = [...new Set([...ids.values()].filter((x): x is string => x !== undefined))]
  if (wanted.length > 0)
    for (const box of await client.list()) {
      if ([...box.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f))) continue
      const lock = await client.getMailboxLock(box.path, { readOnly: true }).catch(() => undefined)
      if (lock === undefined) continue
      try {
        for (const id of wanted) if (!found.has(id) && ((await client.search({ header: { 'message-id': id } }, { uid: true })) || []).length > 0) found.add(id)
      } finally {
        lock.release()
      }
    }
  return new Set(missing.filter((m) => ids.get(m.itemId) !== undefined && !found.has(ids.get(m.itemId) as string)).map((m) => m.itemId))
}

/** A message on its way: what is sent (repaired or not), its digest, and the repairs applied. */
interface Sending {
  readonly item: RestoreItem
  readonly message: AppendMessage
  readonly digest: string
  readonly repaired: readonly Repair[]
}

/**
 * One MULTIAPPEND; when the server refuses the whole command (one bad message fails them all), each
 * message is sent alone so that only the bad ones are reported unrestored.
 */
const appendBatch = async (s: AppendSession, wireName: string, folder: string, uidValidity: number, account: string, batch: readonly Sending[]): Promise<ItemOutcome[]> => {
  const located = (itemId: number, uv: number | undefined, uid: number | undefined): ItemOutcome => ({
    account,
    itemId,
    outcome: 'restored',
    location: `${folder};${uv ?? uidValidity};${uid ?? '?'}`,
  })
  try {
    const r = await s.append(
      wireName,
      batch.map((b) => b.message),
    )
    return batch.map((b, n) => located(b.item.itemId, r.uidValidity, r.uids[n]))
  } catch (e) {
    if (!(e instanceof ImapCommandError) || batch.length === 1) {
      if (e instanceof ImapCommandError) {
        // Say which repair would overcome the refusal, never apply it unasked.
        const fix = repairFor(e.text)
        const hint =
          fix !== undefined && batch[0]?.repaired.includes(fix) !== true
            ? ` (the restore's attribute \`repair ${fix}\` would send it with ${REPAIR_TEXT[fix].replace(/ \(repair .*\)$/, '')})`
            : ''
        return [{ account, itemId: batch[0]?.item.itemId ?? 0, outcome: 'unrestored', reason: `the server refused it: ${e.text}${hint}` }]
      }
      throw e
    }
    const out: ItemOutcome[] = []
    for (const b of batch) out.push(...(await appendBatch(s, wireName, folder, uidValidity, account, [b])))
    return out
  }
}
