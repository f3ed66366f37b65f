/**
 * What the use cases share: a store query whose failure ends the use case, the account a user
 * named, dates in the user's words read in the zone (one parser, the same errors from the CLI and
 * the API), the folder trees of an account, and the notes a date deserves.
 */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, type Instant, instant } from '../../domain/instant'
import { type AccountSource, accountSource } from '../../projections/accountSource'
import type { StoreError } from '../../projections/errors'
import { folderNamer } from '../../projections/folderNaming'
import type { FolderTree } from '../../projections/folderTree'
import { formatInstant, parseDate } from '../time/dates'
import { type AccountLookup, findAccount } from './accounts'
import { dateError, fail, notFoundError, storeError, usageError } from './errors'
import type { AppDeps, ReadBackend } from './ports'

/** Runs a store query; a Left ends the use case with that store error. */
export const must = async <A>(te: TE.TaskEither<StoreError, A>): Promise<A> => {
  const r = await te()
  return E.isLeft(r) ? fail(storeError(r.left)) : r.right
}

export const foundOrFail = (raw: string, l: AccountLookup): AccountId => {
  if (l._tag === 'Found') return l.id
  const known = l.known.slice(0, 8).join(', ')
  return fail(
    notFoundError(
      `unknown account ${JSON.stringify(raw)}${l.known.length > 0 ? ` (accounts in this store: ${known}${l.known.length > 8 ? ', …' : ''})` : ' (the store holds no account; run mailtime demo or a scan first)'}`,
    ),
  )
}

/** The account a user named (its id, or the current name of a renamed account). */
export const resolveAccount = async (b: ReadBackend, raw: string): Promise<AccountId> => foundOrFail(raw, await must(findAccount(b, raw)))

/** A date in the user's words (`dd/MM/yyyy HH:mm:ss`, ISO-8601, `first`, `last`) read in `zone`, or a usage error naming it. */
export const instantArg = (raw: string, zone: string, what: string, allow: { first?: boolean; last?: boolean } = {}): Instant => {
  const r = parseDate(raw, zone)
  if (E.isLeft(r)) return fail(dateError(r.left))
  const d = r.right
  if (d.kind === 'first') return allow.first === true ? instant(0) : fail(usageError(`${what} cannot be "first"`))
  if (d.kind === 'last') return allow.last === true ? (MAX_INSTANT as Instant) : fail(usageError(`${what} cannot be "last"`))
  return d.at
}

/** A true/false word (`true`, `yes`, `1`, `false`, `no`, `0`), or a usage error naming it. */
export const booleanWord = (raw: string | undefined, name: string, dflt: boolean): boolean => {
  if (raw === undefined) return dflt
  const v = raw.toLowerCase()
  if (v === 'true' || v === 'yes' || v === '1') return true
  if (v === 'false' || v === 'no' || v === '0') return false
  return fail(usageError(`${name} must be true or false, got ${JSON.stringify(raw)}`))
}

/** `(at, wanted)`: the tree as of `at` that names the folders of `wanted` (the folders an answer shows) and their parents. */
export const folderTreesOf = (b: ReadBackend, account: AccountId): ((at: number, wanted?: Iterable<number>) => Promise<FolderTree>) => {
  const namer = folderNamer(b.index, account)
  return async (at, wanted = []) => must(namer.treeAt(at, wanted))
}

/** A date given for a query, by the name of its argument; `asOf` for a valid-time instant (not `known_at`). */
export interface GivenDate {
  readonly what: string
  readonly at: Instant
  readonly asOf: boolean
}

/**
 * The notes a date deserves (pure); none for `first` and `last`. A date in the future is accepted:
 * the backup holds nothing later than now. A valid-time date before an IMAP account's first scan
 * shows a state rebuilt from what that scan found.
 */
export const dateNotes = (d: GivenDate, now: Instant, zone: string, account: AccountId, source: AccountSource): string[] => {
  if (d.at <= 0 || d.at >= MAX_INSTANT) return []
  const notes: string[] = []
  if (d.at > now)
    notes.push(`mailtime: note: ${d.what} ${formatInstant(d.at, zone)} is in the future (now is ${formatInstant(now, zone)}); the backup holds nothing later than now`)
  if (d.asOf && source.firstCaptureAt !== undefined && d.at < source.firstCaptureAt)
    notes.push(
      `mailtime: note: ${d.what} ${formatInstant(d.at, zone)} is before the first scan of ${account} (${formatInstant(source.firstCaptureAt, zone)}): ` +
        'the state then is rebuilt from the messages that scan found, dated by their INTERNALDATE; what was deleted, moved or re-flagged before it is unknown',
    )
  return notes
}

/** Gives the notes of the dates given to `deps.warn` (shown with --json too, not with --quiet). */
export const noteDates = async (deps: AppDeps, account: AccountId, dates: readonly GivenDate[]): Promise<void> => {
  const given = dates.filter((d) => d.at > 0 && d.at < MAX_INSTANT)
  if (given.length === 0) return
  const source = accountSource(await must((await deps.backend()).index.accountEvents(account)))
  for (const d of given) for (const n of dateNotes(d, deps.now(), deps.zone, account, source)) deps.warn(n)
}
