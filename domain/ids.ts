/**
 * Identifiers of the model: accounts, items and events.
 * An account id is the account's login name when Mailtime first saw it (lower-cased); it names the
 * stream `account-<id>` and never changes, even when the account is renamed.
 * Item ids are positive integers, unique within an account, as in Carbonio (system folders 1-20,
 * user items from 256).
 */
import * as t from 'io-ts'

interface AccountIdBrand {
  readonly AccountId: unique symbol
}
const ACCOUNT_ID = /^[a-z0-9][a-z0-9._%+@-]{0,253}$/

export const AccountId = t.brand(t.string, (s): s is t.Branded<string, AccountIdBrand> => ACCOUNT_ID.test(s) && !s.includes('..'), 'AccountId')
export type AccountId = t.TypeOf<typeof AccountId>

/** Normalises a name typed by a user (case-insensitive, surrounding spaces ignored). */
export const parseAccountId = (raw: string): AccountId | undefined => {
  const s = raw.trim().toLowerCase()
  return AccountId.is(s) ? s : undefined
}

interface ItemIdBrand {
  readonly ItemId: unique symbol
}
export const ItemId = t.brand(t.number, (n): n is t.Branded<number, ItemIdBrand> => Number.isSafeInteger(n) && n >= 1, 'ItemId')
export type ItemId = t.TypeOf<typeof ItemId>

export const parseItemId = (raw: string): ItemId | undefined => {
  if (!/^\d{1,15}$/.test(raw.trim())) return undefined
  const n = Number(raw.trim())
  return ItemId.is(n) ? n : undefined
}

/** First id given to user items; below it are Carbonio's system items. */
export const FIRST_USER_ITEM_ID = 256

interface EventIdBrand {
  readonly EventId: unique symbol
}
export const EventId = t.brand(t.string, (s): s is t.Branded<string, EventIdBrand> => /^[0-9a-f]{32}$/.test(s), 'EventId')
export type EventId = t.TypeOf<typeof EventId>

export const streamOfAccount = (a: AccountId): string => `account-${a}`
export const accountOfStream = (stream: string): AccountId | undefined => {
  if (!stream.startsWith('account-')) return undefined
  const id = stream.slice('account-'.length)
  return AccountId.is(id) ? id : undefined
}
