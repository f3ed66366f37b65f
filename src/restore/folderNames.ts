/**
 * Folder names a target can hold. A name from the backup may contain the target's hierarchy
 * separator, `/`, `.`/`..` or control characters; each is mapped to a safe name, and the mapping is
 * reported, so that a restore never creates a folder somewhere else or a path outside its target.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g

export const safeSegment = (name: string, separators: readonly string[]): string => {
  let s = name.replace(CONTROL, '_')
  for (const sep of [...separators, '/', '\\']) s = s.split(sep).join('_')
  s = s.trim()
  if (s === '' || s === '.' || s === '..') s = `_${s}`
  if (s.startsWith('.')) s = `_${s.slice(1)}`
  return s.slice(0, 200)
}

/** RFC 3501 modified UTF-7, as Dovecot stores Maildir folder names by default. */
export const encodeModifiedUtf7 = (s: string): string =>
  s.replace(/&/g, '&-').replace(/[^\x20-\x7e]+/g, (chunk) => {
    const utf16 = Buffer.alloc(chunk.length * 2)
    for (let i = 0; i < chunk.length; i++) utf16.writeUInt16BE(chunk.charCodeAt(i), i * 2)
    return `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`
  })

export interface MappedFolder {
  /** Safe name segments; empty for INBOX. */
  readonly segments: readonly string[]
  readonly isInbox: boolean
  /** Set when a name had to change: the original path and the path written. */
  readonly renamed?: { original: string[]; mapped: string }
}

/** A plan's folder (name segments from the top) as a target with these separators can hold it. */
export const mapFolder = (segments: readonly string[], separators: readonly string[]): MappedFolder => {
  const mapped = segments.map((s) => safeSegment(s, separators))
  const isInbox = mapped.length === 0 || (mapped.length === 1 && (mapped[0] ?? '').toLowerCase() === 'inbox')
  const changed = mapped.some((m, i) => m !== segments[i])
  return { segments: isInbox ? [] : mapped, isInbox, ...(changed && { renamed: { original: [...segments], mapped: mapped.join('/') } }) }
}
