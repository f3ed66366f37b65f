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
