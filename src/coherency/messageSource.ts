/**
 * Where a repair fetches a message again: the mail server the account was captured from. The port
 * answers for one recorded IMAP location (mailbox, UIDVALIDITY, UID); the caller verifies the bytes
 * by digest, so a location that now holds another message can never plant wrong content.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import type { ImapLocation } from '../../domain/events'
import { type ImapServer, connectAs, describeConnectError } from '../imap/connection'

export type Fetched = { readonly _tag: 'Found'; readonly bytes: Buffer } | { readonly _tag: 'Gone'; readonly reason: string }

export interface MessageSource {
  /** The server, without secrets. */
  readonly description: string
  /** The message at a location of the account's mailbox; a Left when the server cannot be asked at all. */
  fetch(account: string, at: ImapLocation): Promise<E.Either<string, Fetched>>
  close(): Promise<void>
}

/** The configured IMAP server, logged in as each account (the admin on its behalf, as capture does); one connection per account, opened on first use. */
export const imapMessageSource = (src: ImapServer): MessageSource => {
  const clients = new Map<string, E.Either<string, ImapFlow>>()
  const clientOf = async (account: string): Promise<E.Either<string, ImapFlow>> => {
    const hit = clients.get(account)
    if (hit !== undefined) return hit
    const c = await connectAs(src, account)
    const r = E.isLeft(c) ? E.left(describeConnectError(c.left)) : E.right(c.right)
    clients.set(account, r)
    return r
  }
  return {
    description: src.description,
    fetch: async (account, at) => {
      const c = await clientOf(account)
      if (E.isLeft(c)) return c
      const client = c.right
      let lock: { release(): void }
      try {
        lock = await client.getMailboxLock(at.mailbox, { readOnly: true })
      } catch (e) {
        if (!client.usable) return E.left(`IMAP server ${src.description}: ${(e as Error).message}`)
        return E.right({ _tag: 'Gone', reason: `folder ${JSON.stringify(at.mailbox)} cannot be opened (${(e as { responseText?: string }).responseText ?? (e as Error).message})` })
      }
      try {
        const mailbox = client.mailbox
        const uidValidity = mailbox === false ? undefined : Number(mailbox.uidValidity)
        if (uidValidity !== at.uidValidity)
          return E.right({
            _tag: 'Gone',
            reason: `folder ${JSON.stringify(at.mailbox)} has UIDVALIDITY ${uidValidity ?? '?'} now, not ${at.uidValidity}: its UIDs name other messages`,
          })
        const m = await client.fetchOne(String(at.uid), { uid: true, source: true }, { uid: true })
        if (m === false || m.source === undefined) return E.right({ _tag: 'Gone', reason: `no message with UID ${at.uid} in ${JSON.stringify(at.mailbox)} any more (expunged)` })
        return E.right({ _tag: 'Found', bytes: m.source })
      } catch (e) {
        if (!client.usable) return E.left(`IMAP server ${src.description}: ${(e as Error).message}`)
        return E.right({ _tag: 'Gone', reason: `fetching UID ${at.uid} of ${JSON.stringify(at.mailbox)} failed: ${(e as Error).message}` })
      } finally {
        lock.release()
      }
    },
    close: async () => {
      for (const c of clients.values()) if (E.isRight(c)) await c.right.logout().catch(() => c.right.close())
      clients.clear()
    },
  }
}
