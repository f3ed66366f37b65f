/**
 * What the CLI and the web console show and search of a contact, appointment or task captured over
 * CardDAV/CalDAV: its searchable fields as text, rows for an item's details, its fields in the
 * --json documents, and what changed from one version to the next.
 */
import type { ItemState } from '../../domain/state'
import { davFieldChanges } from './fieldChanges'

/** The DAV fields a search string is matched against: addresses, N, organizer, attendees, path. */
export const davSearchFields = (s: ItemState): string[] => {
  const f = s.davFields
  return [
    ...(f?.emails ?? []),
    ...(f?.organizer !== undefined ? [f.organizer] : []),
    ...(f?.attendees ?? []),
    ...(f?.n !== undefined ? [f.n] : []),
    ...(s.dav?.href !== undefined ? [s.dav.href] : []),
  ]
}

/** Detail rows (label, value) for `getItem`. */
export const davDetailRows = (s: ItemState): [string, string][] => {
  const f = s.davFields
  const rows: [string, string][] = []
  if (s.uid !== undefined) rows.push(['uid', s.uid])
  if (s.dav !== undefined) rows.push([s.dav.collection !== undefined ? 'collection' : 'dav path', s.dav.href + (s.dav.etag !== undefined ? ` (ETag ${s.dav.etag})` : '')])
  if (f?.emails !== undefined) rows.push(['e-mail', f.emails.join(', ')])
  if (f?.start !== undefined) rows.push(['start', f.start + (f.tzid !== undefined ? ` ${f.tzid}` : '') + (f.recurring === true ? ', recurring' : '')])
  if (f?.organizer !== undefined) rows.push(['organizer', f.organizer])
  if (f?.attendees !== undefined) rows.push(['attendees', f.attendees.join(', ')])
  if (f?.problem !== undefined) rows.push(['problem', f.problem])
  return rows
}

/** The DAV keys of an item's --json document (none for a message). */
export const davJson = (s: ItemState): Record<string, unknown> =>
  s.dav === undefined && s.davFields === undefined && s.uid === undefined ? {} : { uid: s.uid, dav: s.dav, davFields: s.davFields }

/** What a version changed compared with the one before, field by field (empty for a message). */
export const davChanges = (before: ItemState | undefined, after: ItemState): string[] =>
  before === undefined || (before.dav === undefined && after.dav === undefined)
    ? []
    : davFieldChanges(
        {
          name: before.name ?? null,
          uid: before.uid ?? null,
          href: before.dav?.collection === undefined ? (before.dav?.href ?? null) : null,
          digest: before.content?.digest ?? null,
          fields: before.davFields ?? null,
        },
        {
          name: after.name ?? null,
          uid: after.uid ?? null,
          href: after.dav?.collection === undefined ? (after.dav?.href ?? null) : null,
          digest: after.content?.digest ?? null,
          fields: after.davFields ?? null,
        },
      )
