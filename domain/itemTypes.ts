/**
 * Item types, named as Carbonio names them, with Carbonio's numeric type codes
 * (`mail_item.type`) kept for provenance and log import.
 */
import * as t from 'io-ts'

export const ItemType = t.keyof({
  folder: null,
  search: null,
  tag: null,
  conversation: null,
  message: null,
  contact: null,
  document: null,
  appointment: null,
  task: null,
  chat: null,
  unknown: null,
})
export type ItemType = t.TypeOf<typeof ItemType>

export const CARBONIO_TYPE_CODE: Readonly<Record<ItemType, number | undefined>> = {
  folder: 1,
  search: 2,
  tag: 3,
  conversation: 4,
  message: 5,
  contact: 6,
  document: 8,
  appointment: 11,
  task: 15,
  chat: 16,
  unknown: undefined,
}

/** Types `doItemSearch type …` accepts, as in Carbonio plus `appointment` and `task`. */
export const SEARCHABLE_TYPES: readonly ItemType[] = ['message', 'contact', 'folder', 'appointment', 'task', 'document']
