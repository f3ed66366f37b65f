/**
 * The flags of the selected mailbox's messages: of all of them, or with CONDSTORE (RFC 7162) only
 * of those changed since a modseq (`FETCH 1:* (FLAGS) (CHANGEDSINCE n)`). IMAP failures are thrown
 * (see failure.ts).
 */
import type { ImapFlow } from 'imapflow'

export interface MessageFlags {
  readonly uid: number
  /** As the server gives them (system flags and keywords). */
  readonly flags: readonly string[]
  readonly modseq?: string
}

/** Whether the server can tell which messages changed since a modseq. */
export const hasCondstore = (client: ImapFlow): boolean => client.enabled.has('CONDSTORE') || client.capabilities.has('CONDSTORE')

/** Every message's UID and flags, or only those changed since `changedSince` (a HIGHESTMODSEQ; needs `hasCondstore`). */
export const fetchFlags = async (client: ImapFlow, options: { readonly changedSince?: string } = {}): Promise<MessageFlags[]> => {
  const out: MessageFlags[] = []
  const range = options.changedSince === undefined ? { uid: true } : { uid: true, changedSince: BigInt(options.changedSince) }
  for await (const m of client.fetch('1:*', { uid: true, flags: true }, range))
    out.push({ uid: m.uid, flags: [...(m.flags ?? [])], ...(m.modseq !== undefined && { modseq: String(m.modseq) }) })
  return out
}
