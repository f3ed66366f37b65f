/**
 * An IMAP failure in the words a report gives it, and what kind it is: the server refusing (a
 * tagged NO or BAD) or the connection failing. The operations in this folder throw imapflow's
 * errors; their callers turn them into values with these.
 */

/** An IMAP failure as a reason, and whether it was the server refusing (NO, BAD) rather than the connection failing. */
export const imapFailure = (e: unknown): { reason: string; refused: boolean } => {
  const err = e as { message?: string; responseText?: string; responseStatus?: string }
  const refused = err.responseStatus === 'NO' || err.responseStatus === 'BAD'
  // Dovecot appends its timing ("(0.001 + 0.000 secs).") to every answer: noise in a report.
  return { reason: (err.responseText ?? err.message ?? String(e)).replace(/\s*\(\d+\.\d+ \+ \d+\.\d+( \+ \d+\.\d+)? secs\)\.?$/, ''), refused }
}

/**
 * Whether the server says a mailbox does not exist: RFC 5530's NONEXISTENT, or the text of servers
 * that do not send it (Dovecot 2.3 answers SELECT with a bare `NO Mailbox doesn't exist: …`).
 */
export const doesNotExist = (e: unknown): boolean => {
  const err = e as { responseStatus?: string; serverResponseCode?: string; responseText?: string }
  return (
    err.responseStatus === 'NO' && (err.serverResponseCode?.toUpperCase() === 'NONEXISTENT' || /\b(doesn't|does not) exist\b|\bno such mailbox\b/i.test(err.responseText ?? ''))
  )
}
