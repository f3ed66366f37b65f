/**
 * Repairs a restore may apply to a message's bytes, only when asked (`repair bare_lf`), and always
 * reported: the restored message is then not the captured one byte for byte.
 *
 * Strict servers refuse what lenient ones stored: Cyrus refuses a message with a bare LF line
 * ending ("Message contains bare newlines", RFC 5322 wants CRLF), which Dovecot accepts and a scan
 * of Dovecot captures as it is. Converting each bare LF to CRLF changes nothing a reader sees.
 */

export const REPAIRS = ['bare_lf'] as const
export type Repair = (typeof REPAIRS)[number]

export const isRepair = (s: string): s is Repair => (REPAIRS as readonly string[]).includes(s)

/** What a repair did to a message, as the report says it. */
export const REPAIR_TEXT: Readonly<Record<Repair, string>> = {
  bare_lf: 'bare LF line endings converted to CRLF (repair bare_lf)',
}

/** The message with every LF not preceded by CR made CRLF; undefined when it has none. Pure. */
export const crlfLineEndings = (bytes: Buffer): Buffer | undefined => {
  let bare = 0
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) bare++
  if (bare === 0) return undefined
  const out = Buffer.alloc(bytes.length + bare)
  let j = 0
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x0a && (i === 0 || bytes[i - 1] !== 0x0d)) out[j++] = 0x0d
    out[j++] = bytes[i] as number
  }
  return out
}

/** The bytes to send and the repairs applied to them (none: the bytes as captured). */
export const applyRepairs = (bytes: Buffer, asked: ReadonlySet<Repair>): { bytes: Buffer; applied: Repair[] } => {
  if (asked.has('bare_lf')) {
    const fixed = crlfLineEndings(bytes)
    if (fixed !== undefined) return { bytes: fixed, applied: ['bare_lf'] }
  }
  return { bytes, applied: [] }
}

/** A server's refusal a repair could overcome, and that repair. */
export const repairFor = (serverText: string): Repair | undefined => (/bare newline/i.test(serverText) ? 'bare_lf' : undefined)
