/**
 * Finding accounts in a store: by id (the stream name) or by their current name, and summaries for
 * listings.
 */
import * as TE from 'fp-ts/TaskEither'
import { pipe } from 'fp-ts/function'
import { type AccountId, accountOfStream, parseAccountId, streamOfAccount } from '../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../domain/instant'
import type { StoreError } from '../../projections/errors'
import { accountStateAt } from '../../projections/accountView'
import type { AccountState } from '../../domain/state'
import type { ReadBackend } from './ports'

export type AccountLookup = { readonly _tag: 'Found'; readonly id: AccountId } | { readonly _tag: 'Unknown'; readonly known: AccountId[] }

export interface AccountSummary {
  readonly state: AccountState
  readonly revision: number
}

export const listAccountIds = (b: ReadBackend): TE.TaskEither<StoreError, AccountId[]> =>
  pipe(
    b.store.listStreams('account-'),
    TE.map((ss) => ss.flatMap((s) => (accountOfStream(s) === undefined ? [] : [accountOfStream(s) as AccountId]))),
  )

export const accountSummary = (b: ReadBackend, id: AccountId, at: Instant = MAX_INSTANT as Instant): TE.TaskEither<StoreError, AccountSummary> =>
  pipe(
    TE.Do,
    TE.bind('events', () => b.index.accountEvents(id)),
    TE.bind('revision', () => b.store.streamRevision(streamOfAccount(id))),
    TE.map(({ events, revision }) => ({ state: accountStateAt(id, events, { validAt: at }), revision })),
  )

/** Resolves what a user typed: an account id, or the current name of a renamed account. */
export const findAccount = (b: ReadBackend, raw: string): TE.TaskEither<StoreError, AccountLookup> =>
  pipe(
    listAccountIds(b),
    TE.flatMap((ids) => {
      const id = parseAccountId(raw)
      if (id !== undefined && ids.includes(id)) return TE.right<StoreError, AccountLookup>({ _tag: 'Found', id })
      const wanted = raw.trim().toLowerCase()
      return pipe(
        TE.traverseSeqArray((a: AccountId) => accountSummary(b, a))(ids),
        TE.map((sums): AccountLookup => {
          const hit = sums.find((s) => s.state.name.toLowerCase() === wanted)
          return hit !== undefined ? { _tag: 'Found', id: hit.state.accountId } : { _tag: 'Unknown', known: ids }
        }),
      )
    }),
  )
