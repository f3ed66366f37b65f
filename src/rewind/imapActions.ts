/**
 * A rewind's actions on a live IMAP account, one at a time, each checked against the server before
 * it is sent: a message is moved or re-flagged only where the capture saw it (same folder, same
 * UIDVALIDITY, the UID present), a folder is removed only if the server says it is empty and has no
 * folder below it. Moves use UID MOVE where the server offers it, else COPY, STORE \Deleted and UID
 * EXPUNGE of just those UIDs (imapflow's fallback, which refuses without UIDPLUS rather than expunge
 * other messages). Flags are set with STORE FLAGS, the exact list. Messages that come back are not
 * written here: the restore target's APPEND does it (byte-identical, flags, keywords, INTERNALDATE).
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import type { Path, RewindAction, ServerLocation } from '../../domain/rewind/plan'
import { mapFolder } from '../restore/folderNames'
import { keywordsOf } from '../restore/keywords'

const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'])

/** A server's answer without Dovecot's timing ("… (0.001 + 0.000 secs)."). */
const withoutTiming = (text: string): string => text.replace(/\s*\([\d.+ ]+secs\)\.?$/, '')
const why = (e: unknown): string => {
  const r = e as { responseText?: string; message?: string }
  return withoutTiming(r.responseText ?? r.message ?? String(e))
}

export interface ImapRewinder {
  /** Sends one action (not `comeBack`); an error names what the server refused or did not hold. */
  apply(action: Exclude<RewindAction, { kind: 'comeBack' }>): Promise<E.Either<string, void>>
  /** The server path of a folder given by its name segments. */
  serverPath(p: Path): string
}

export const imapRewinder = async (client: ImapFlow): Promise<ImapRewinder> => {
  const listed = await client.list()
  const delimiter = listed.find((b) => b.delimiter)?.delimiter ?? '/'
  const serverPath = (p: Path): string => {
    const m = mapFolder(p, [delimiter])
    if (m.isInbox) return 'INBOX'
    // The backup names INBOX "Inbox" (Carbonio's name); a folder below it is below the server's INBOX.
    return m.segments.map((s, i) => (i === 0 && s.toLowerCase() === 'inbox' ? 'INBOX' : s)).join(delimiter)
  }
  // Where messages this run moved are now: the re-flag of a moved message follows it.
  const movedTo = new Map<number, ServerLocation>()

  /** Runs `f` with `mailbox` selected, once the server confirms the folder is the one the capture read. */
  const inFolder = async <A>(mailbox: string, uidValidity: number, f: () => Promise<E.Either<string, A>>): Promise<E.Either<string, A>> => {
    const lock = await client.getMailboxLock(mailbox).catch((e: unknown) => e as Error)
    if (lock instanceof Error) return E.left(`cannot open ${mailbox}: ${why(lock)}`)
    try {
      const mb = client.mailbox
      const uv = mb === false ? undefined : Number(mb.uidValidity)
      if (uv !== uidValidity) return E.left(`${mailbox} is not the folder the capture read (UIDVALIDITY ${uv ?? '?'}, captured ${uidValidity}); run the rewind again`)
      return await f()
    } finally {
      lock.release()
    }
  }
  const present = async (uid: number): Promise<boolean> => {
    const hits = await client.search({ uid: String(uid) }, { uid: true })
    return Array.isArray(hits) && hits.includes(uid)
  }

  const apply: ImapRewinder['apply'] = async (a) => {
    try {
      switch (a.kind) {
        case 'renameBack':
          await client.mailboxRename(serverPath(a.from), serverPath(a.to))
          return E.right(undefined)
        case 'recreateFolder':
        case 'createKeepFolder': {
          const p = serverPath(a.path)
          await client.mailboxCreate(p)
          await client.mailboxSubscribe(p).catch(() => undefined)
          return E.right(undefined)
        }
        case 'moveBack':
        case 'keepAside': {
          const from = serverPath(a.from)
          const to = serverPath(a.to)
          return await inFolder(from, a.location.uidValidity, async () => {
            if (!(await present(a.location.uid))) return E.left(`item ${a.itemId} is no longer in ${from} (UID ${a.location.uid})`)
            const r = await client.messageMove(String(a.location.uid), to, { uid: true })
            if (r === false) return E.left(`the server did not move UID ${a.location.uid} from ${from} to ${to}`)
            const uid = r.uidMap?.get(a.location.uid)
            if (uid !== undefined && r.uidValidity !== undefined) movedTo.set(a.itemId, { mailbox: to, uidValidity: Number(r.uidValidity), uid })
            else movedTo.delete(a.itemId)
            return E.right(undefined)
          })
        }
        case 'reflag': {
          const mailbox = serverPath(a.folder)
          const moved = movedTo.get(a.itemId)
          if (moved === undefined && a.location === undefined) return E.left(`item ${a.itemId}: the capture did not record where it is on the server`)
          const at = moved ?? { ...(a.location as ServerLocation), mailbox }
          return await inFolder(at.mailbox, at.uidValidity, async () => {
            if (!(await present(at.uid))) return E.left(`item ${a.itemId} is no longer in ${at.mailbox} (UID ${at.uid})`)
            const flags = [...a.flags.filter((f) => SYSTEM_FLAGS.has(f)), ...keywordsOf(a.tags)]
            const ok = await client.messageFlagsSet(String(at.uid), flags, { uid: true })
            return ok ? E.right(undefined) : E.left(`the server refused to set the flags of UID ${at.uid} in ${at.mailbox}`)
          })
        }
        case 'removeFolder': {
          const p = serverPath(a.path)
          const st = await client.status(p, { messages: true })
          if (st === false || st.messages !== 0) return E.left(`${p} is not empty (${st === false ? '?' : st.messages} messages): left in place`)
          const below = (await client.list()).filter((b) => b.path.startsWith(`${p}${delimiter}`))
          if (below.length > 0) return E.left(`${p} has folders below it: left in place`)
          await client.mailboxDelete(p)
          return E.right(undefined)
        }
      }
    } catch (e) {
      return E.left(why(e))
    }
  }
  return { apply, serverPath }
}
