/** Opening a mailbox to read it (EXAMINE): nothing this session does can change it. */
import type { ImapFlow } from 'imapflow'

/** Opens `path` read-only; the caller releases the lock when done. IMAP failures are thrown (see failure.ts). */
export const openReadOnly = async (client: ImapFlow, path: string): Promise<{ release(): void }> => client.getMailboxLock(path, { readOnly: true })

/**
 * Leaves the selected mailbox, removing nothing: UNSELECT where the server offers it, else CLOSE
 * only when the mailbox was opened read-only (RFC 3501 6.4.2: then CLOSE expunges nothing). A
 * session kept open between scans (the pool) then lists folders without a NOOP first (scanner.ts).
 * Failures are ignored: the session stays as it was, and the next scan syncs it.
 */
export const leaveMailbox = async (client: ImapFlow): Promise<void> => {
  const box = client.mailbox
  if (box === false) return
  const unselect = client.capabilities.has('UNSELECT')
  if (!unselect && box.readOnly !== true) return
  // `run` is imapflow's command runner (not in its typings); its CLOSE sends UNSELECT when asked and offered.
  const run = (client as unknown as { run(command: string, options: { unselect: boolean }): Promise<unknown> }).run.bind(client)
  await run('CLOSE', { unselect }).catch(() => undefined)
}
