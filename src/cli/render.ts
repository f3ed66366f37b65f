/**
 * How items, versions and account views look as aligned text for people (the JSON documents are
 * built by the use cases, src/app/json.ts, and re-exported here).
 */
import * as TE from 'fp-ts/TaskEither'
import * as E from 'fp-ts/Either'
import type { StoreError } from '../../projections/errors'
import { MAX_INSTANT } from '../../domain/instant'
import { formatInstant } from '../time/dates'
import { fromStoreError, notFound } from './failure'
import type { AccountLookup } from '../app/accounts'
import type { AccountId } from '../../domain/ids'

/** Runs a store query and turns a Left into the CLI failure that describes it. */
export const must = async <A>(te: TE.TaskEither<StoreError, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw fromStoreError(r.left)
  return r.right
}

export const foundOrFail = (raw: string, l: AccountLookup): AccountId => {
  if (l._tag === 'Found') return l.id
  const known = l.known.slice(0, 8).join(', ')
  throw notFound(
    `unknown account ${JSON.stringify(raw)}${l.known.length > 0 ? ` (accounts in this store: ${known}${l.known.length > 8 ? ', …' : ''})` : ' (the store holds no account; run mailtime demo or a scan first)'}`,
  )
}

export { itemJson, itemLabel, viewJson, when } from '../app/json'

export const human = (i: number | null | undefined, zone: string): string => (i === null || i === undefined || i >= MAX_INSTANT ? '…' : formatInstant(i, zone))

/** Left-aligned columns, for tables people read. */
export const table = (rows: readonly (readonly string[])[]): string => {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n')
}

export const clip = (s: string, n = 60): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
