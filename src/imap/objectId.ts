/**
 * OBJECTID (RFC 8474): server-assigned identities of mailboxes (MAILBOXID, kept across renames) and
 * of messages (EMAILID, kept across moves). Where the server offers them (Cyrus does; Dovecot 2.3
 * does not), the scanner matches folders by MAILBOXID and moves by EMAILID before it falls back to
 * UIDVALIDITY and content digests.
 *
 * What an EMAILID is worth depends on the server: RFC 8474 lets a server give messages with the
 * same content the same EMAILID, and Cyrus 3.6 does (its EMAILID is derived from the message's
 * GUID, the SHA-1 of its bytes: two identical messages, or a message and its copy, share one), so
 * there it tells no more than the digest. A server that gives each message its own (RFC 8474's
 * preferred form) makes moves of identical messages exact.
 */
import type { ImapFlow } from 'imapflow'
import { encodeModifiedUtf7 } from '../restore/folderNames'

/** Whether the server offers OBJECTID. */
export const offersObjectId = (client: ImapFlow): boolean => client.capabilities.has('OBJECTID')

interface Attribute {
  readonly type?: string
  readonly value?: unknown
}
interface Untagged {
  readonly attributes?: readonly (Attribute | readonly Attribute[])[]
}
type Exec = (command: string, attributes: unknown[], options: { untagged: Record<string, (u: Untagged) => Promise<void>> }) => Promise<{ next(): void }>

/**
 * Each mailbox's MAILBOXID, by its name as the server sends it (modified UTF-7): one
 * `LIST "" "*" RETURN (STATUS (MAILBOXID))` (LIST-STATUS), which imapflow's `list` cannot ask for.
 * Empty when the server offers no OBJECTID or no LIST-STATUS.
 */
export const mailboxIdsByName = async (client: ImapFlow): Promise<Map<string, string>> => {
  const out = new Map<string, string>()
  if (!offersObjectId(client) || !client.capabilities.has('LIST-STATUS')) return out
  // `exec` is imapflow's own command runner (not in its typings): the untagged STATUS lines carry the ids.
  const exec = (client as unknown as { exec: Exec }).exec.bind(client)
  const r = await exec(
    'LIST',
    [{ type: 'STRING', value: '' }, { type: 'STRING', value: '*' }, { type: 'ATOM', value: 'RETURN' }, [{ type: 'ATOM', value: 'STATUS' }, [{ type: 'ATOM', value: 'MAILBOXID' }]]],
    {
      untagged: {
        STATUS: async (u) => {
          const [name, list] = u.attributes ?? []
          const box = (name as Attribute | undefined)?.value
          if (typeof box !== 'string' || !Array.isArray(list)) return
          for (let i = 0; i + 1 < list.length; i += 2) {
            const key = (list[i] as Attribute).value
            const raw = list[i + 1] as Attribute | readonly Attribute[]
            // `MAILBOXID (id)`: a parenthesised list; some servers send it bare.
            const id = Array.isArray(raw) ? (raw[0] as Attribute | undefined)?.value : (raw as Attribute).value
            if (typeof key === 'string' && key.toUpperCase() === 'MAILBOXID' && typeof id === 'string' && id.length > 0) out.set(box, id)
          }
        },
      },
    },
  )
  r.next()
  return out
}

/** The MAILBOXID of a listed folder (imapflow gives paths decoded; the server names them in modified UTF-7, or in UTF-8 under UTF8=ACCEPT). */
export const mailboxIdOf = (ids: ReadonlyMap<string, string>, path: string): string | undefined => ids.get(path) ?? ids.get(encodeModifiedUtf7(path))
