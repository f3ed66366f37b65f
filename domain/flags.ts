/**
 * Flags and tags. Flags are IMAP system flags (`\Seen`, `\Flagged`, …); tags are user keywords
 * (IMAP keywords, Carbonio tags). Both are kept as sorted, de-duplicated sets so that equal states
 * compare equal.
 */
import * as t from 'io-ts'

export const SYSTEM_FLAGS = ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen'] as const

interface FlagBrand {
  readonly Flag: unique symbol
}
export const Flag = t.brand(t.string, (s): s is t.Branded<string, FlagBrand> => /^\\[A-Za-z]{1,32}$/.test(s), 'Flag')
export type Flag = t.TypeOf<typeof Flag>

interface TagBrand {
  readonly Tag: unique symbol
}
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
export const Tag = t.brand(t.string, (s): s is t.Branded<string, TagBrand> => s.length >= 1 && s.length <= 128 && !CONTROL.test(s) && !s.startsWith('\\'), 'Tag')
export type Tag = t.TypeOf<typeof Tag>

export const normaliseSet = <A extends string>(xs: readonly A[]): A[] => [...new Set(xs)].sort()
