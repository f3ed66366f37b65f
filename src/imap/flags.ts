/** IMAP message flags in Mailtime's terms: system flags are flags, keywords are tags. */
import { SYSTEM_FLAGS } from '../../domain/flags'

const SYSTEM: ReadonlySet<string> = new Set(SYSTEM_FLAGS)

/** IMAP flags split into Mailtime flags (system flags, minus the session-only \Recent) and tags (keywords). */
export const splitFlags = (flags: Iterable<string>): { flags: string[]; tags: string[] } => {
  const f: string[] = []
  const k: string[] = []
  for (const x of flags) {
    if (x === '\\Recent') continue
    if (x.startsWith('\\')) {
      if (SYSTEM.has(x)) f.push(x)
    } else if (x.length > 0 && x.length <= 128) k.push(x)
  }
  return { flags: [...new Set(f)].sort(), tags: [...new Set(k)].sort() }
}
