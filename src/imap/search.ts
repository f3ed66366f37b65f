/** UID SEARCH in the selected mailbox. IMAP failures are thrown (see failure.ts). */
import type { ImapFlow, SearchObject } from 'imapflow'

/**
 * The UIDs that match `query`. Anything but a list (a refusal, no mailbox selected) is thrown, never
 * taken as "no messages": a caller that took it so would delete them all. `where` names the mailbox
 * in that error.
 */
export const searchUids = async (client: ImapFlow, query: SearchObject, where: string): Promise<number[]> => {
  const uids = await client.search(query, { uid: true })
  if (!Array.isArray(uids)) throw new Error(`the server gave no answer to UID SEARCH${query.all === true ? ' ALL' : ''} in ${where}`)
  return uids
}
