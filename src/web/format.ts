/** How the page names items and shows instants (in the viewer's zone). */
import type { Item } from './api'
import { showInstant } from './time'

export const label = (i: Pick<Item, 'subject' | 'name' | 'itemType' | 'itemId'>): string => i.subject ?? i.name ?? `(${i.itemType} ${i.itemId})`

export const when = (s: string | null | undefined, zone: string): string => (s === null || s === undefined ? '' : showInstant(Date.parse(s), zone))

/** The list's second column: a message's sender; a contact's e-mail addresses; an event's or task's organizer. */
export const secondary = (i: Pick<Item, 'from' | 'davFields'>): string => i.from ?? (i.davFields?.emails?.join(', ') || i.davFields?.organizer || '')

/** A contact's, appointment's or task's fields, as (label, value) lines for the item panel. */
export const davLines = (i: Pick<Item, 'uid' | 'dav' | 'davFields'>): [string, string][] => {
  const f = i.davFields ?? {}
  return [
    ...(i.uid != null ? [['UID', i.uid] as [string, string]] : []),
    ...(i.dav != null ? [['path', i.dav.href] as [string, string]] : []),
    ...(f.emails !== undefined ? [['e-mail', f.emails.join(', ')] as [string, string]] : []),
    ...(f.start !== undefined ? [['start', `${f.start}${f.tzid !== undefined ? ` ${f.tzid}` : ''}${f.recurring === true ? ', recurring' : ''}`] as [string, string]] : []),
    ...(f.organizer !== undefined ? [['organizer', f.organizer] as [string, string]] : []),
    ...(f.attendees !== undefined ? [['attendees', f.attendees.join(', ')] as [string, string]] : []),
    ...(f.problem !== undefined ? [['problem', f.problem] as [string, string]] : []),
  ]
}
