/**
 * Item and account state: what the fold of an account's events says an item or the account is at
 * one instant. Item state has a codec because the temporal index stores it and reads it back.
 */
import * as t from 'io-ts'
import { AccountId, ItemId } from './ids'
import { Instant, InstantFromISO } from './instant'
import { ItemType } from './itemTypes'
import { Content, DavFields, DavLocation, Headers, ImapLocation } from './events'

export const ItemStatus = t.keyof({ live: null, deleted: null, purged: null })
export type ItemStatus = t.TypeOf<typeof ItemStatus>

export const ItemState = t.intersection([
  t.type({
    itemId: ItemId,
    itemType: ItemType,
    folderId: ItemId,
    flags: t.array(t.string),
    tags: t.array(t.string),
    status: ItemStatus,
    /** False when the item was first seen through a change (a log line) rather than its creation. */
    known: t.boolean,
  }),
  t.partial({
    name: t.string,
    content: Content,
    headers: Headers,
    internalDate: InstantFromISO,
    imap: ImapLocation,
    uid: t.string,
    createdAt: InstantFromISO,
    deletedAt: InstantFromISO,
    purgedAt: InstantFromISO,
    purgeReason: t.string,
    dav: DavLocation,
    davFields: DavFields,
  }),
])
export type ItemState = t.TypeOf<typeof ItemState>

export interface LegalHold {
  readonly by: string
  readonly since: Instant
  readonly reason?: string
}

export interface AccountState {
  readonly accountId: AccountId
  readonly name: string
  readonly createdAt?: Instant
  readonly deletedAt?: Instant
  readonly legalHold?: LegalHold
}

export const initialAccountState = (accountId: AccountId): AccountState => ({ accountId, name: accountId })
