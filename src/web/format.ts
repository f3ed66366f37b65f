/** How the page names items and shows instants (in the viewer's zone). */
import type { Item } from './api'
import { showInstant } from './time'

export const label = (i: Pick<Item, 'subject' | 'name' | 'itemType' | 'itemId'>): string => i.subject ?? i.name ?? `(${i.itemType} ${i.itemId})`

export const when = (s: string | null | undefined, zone: string): string => (s === null || s === undefined ? '' : showInstant(Date.parse(s), zone))
