/**
 * Tags as IMAP keywords. A keyword is an IMAP atom: a tag from the backup may hold characters an atom
 * cannot (a space, parentheses, `\`, non-ASCII, as Carbonio tags can), and a target that stored it
 * as it is would make the server send a broken FLAGS list (Dovecot serves a Maildir's
 * `dovecot-keywords` as written: `Work Stuff` became two keywords, and `a(b` made clients drop the
 * message). Both targets write the same keyword for a tag.
 */
// eslint-disable-next-line no-control-regex
const NOT_ATOM = /[(){ %*"\\\]\u0000-\u001f\u007f-\uffff]/g

/** An IMAP keyword for a tag: atom characters only (others become `_`), at most 100 characters. */
export const keywordOf = (tag: string): string => tag.replace(NOT_ATOM, '_').slice(0, 100) || '_'

/** The distinct keywords of a message's tags, in order. */
export const keywordsOf = (tags: readonly string[]): string[] => [...new Set(tags.map(keywordOf))]
