/** Opening a mailbox to read it (EXAMINE): nothing this session does can change it. */
import type { ImapFlow } from 'imapflow'

/** Opens `path` read-only; the caller releases the lock when done. IMAP failures are thrown (see failure.ts). */
export const openReadOnly = async (client: ImapFlow, path: string): Promise<{ release(): void }> => client.getMailboxLock(path, { readOnly: true })
