/**
 * Legal hold as a use case: `get` reads the holds; `set` and `unset` decide with the pure decider
 * (domain/legalHold.ts) on each account's state and append what it decided with the EXPECTED
 * REVISION of that state. A hold set or released meanwhile by another run is a conflict: the state
 * is read again and decided again (it then usually decides nothing), so two concurrent holds never
 * both land. The change is recorded as an operation (the audit trail).
 */
import * as E from 'fp-ts/Either'
import { type AccountId, streamOfAccount } from '../../domain/ids'
import { type Instant, MAX_INSTANT } from '../../domain/instant'
import { type LegalHoldCommand, decideLegalHold } from '../../domain/legalHold'
import { accountStateAt } from '../../projections/accountView'
import { findAccount, listAccountIds } from './accounts'
import { type AppError, attempt, fail, notFoundError, storeError, usageError } from './errors'
import { recorded } from './operations'
import type { AppDeps, Backend } from './ports'
import { foundOrFail, must } from './support'

export interface LegalHoldRequest {
  /** `get`, `set` or `unset` (any case). */
  readonly command: string
  /** `all` (default), or a comma list of accounts. */
  readonly accounts?: string
  /** Why (kept in the event, e.g. a case number). */
  readonly reason?: string
}

export interface HoldRow {
  readonly account: AccountId
  readonly name: string
  readonly hold: 'set' | 'unset'
  readonly since?: number
  readonly by?: string
  readonly reason?: string
  readonly changed: boolean
}

export interface LegalHoldResult {
  readonly command: LegalHoldCommand | 'get'
  readonly operationId?: string
  readonly rows: readonly HoldRow[]
  readonly json: Record<string, unknown>
}

/** How many times a hold is decided again after another run changed the account first. */
const MAX_ATTEMPTS = 5

/** The state of an account and the revision it was read at (read first: a later event makes the append conflict, never pass). */
const stateAt = async (b: Backend, a: AccountId) => {
  const revision = await must(b.store.streamRevision(streamOfAccount(a)))
  const state = accountStateAt(a, await must(b.index.accountEvents(a)), { validAt: MAX_INSTANT as Instant })
  return { state, revision }
}

/** Decides and appends one account's hold with the expected revision; on a conflict, reads and decides again. */
const holdOne = async (deps: AppDeps, b: Backend, a: AccountId, command: LegalHoldCommand, operationId: string, reason: string | undefined): Promise<HoldRow> => {
  for (let attempt = 1; ; attempt++) {
    const { state, revision } = await stateAt(b, a)
    const events = decideLegalHold(command, state, { now: deps.now(), by: deps.operator.initiator, operationId, ...(reason !== undefined && { reason }) })
    if (events.length === 0) return rowOf(state, false)
    const r = await b.store.appendToStream(streamOfAccount(a), events, { expectedRevision: revision })()
    if (E.isRight(r)) return rowOf((await stateAt(b, a)).state, true)
    if (r.left._tag !== 'ConcurrencyConflict' || attempt >= MAX_ATTEMPTS) return fail(storeError(r.left))
  }
}

const rowOf = (s: ReturnType<typeof accountStateAt>, changed: boolean): HoldRow => {
  const h = s.legalHold
  return {
    account: s.accountId,
    name: s.name,
    hold: h !== undefined ? 'set' : 'unset',
    ...(h !== undefined && { since: h.since, by: h.by, ...(h.reason !== undefined && { reason: h.reason }) }),
    changed,
  }
}

export const legalHold = (deps: AppDeps, req: LegalHoldRequest): Promise<E.Either<AppError, LegalHoldResult>> =>
  attempt(async () => {
    const cmd = req.command.toLowerCase()
    if (cmd !== 'get' && cmd !== 'set' && cmd !== 'unset') return fail(usageError(`legalHold: the command must be get, set or unset, got ${JSON.stringify(req.command)}`))
    const raw = req.accounts ?? 'all'
    const b = await deps.backend()
    const accounts: AccountId[] =
      raw.toLowerCase() === 'all' ? await must(listAccountIds(b)) : await Promise.all(raw.split(',').map(async (a) => foundOrFail(a.trim(), await must(findAccount(b, a.trim())))))
    let operationId: string | undefined
    let rows: HoldRow[] = []
    if (cmd === 'get') for (const a of accounts) rows.push(rowOf((await stateAt(b, a)).state, false))
    else {
      const r = await recorded(
        deps,
        { kind: 'legal-hold', verb: 'legalHold', params: { command: cmd, accounts: raw, ...(req.reason !== undefined && { reason: req.reason }) } },
        async (id) => {
          const out: HoldRow[] = []
          for (const a of accounts) out.push(await holdOne(deps, b, a, cmd, id, req.reason))
          return { result: out, status: 'done', counts: { accounts: out.length, changed: out.filter((x) => x.changed).length } }
        },
      )
      operationId = r.operationId
      rows = r.result
    }
    if (rows.length === 0 && cmd !== 'get') return fail(notFoundError('legalHold: the store holds no account'))
    return {
      command: cmd,
      rows,
      ...(operationId !== undefined && { operationId }),
      json: {
        command: cmd,
        ...(operationId !== undefined && { operationId }),
        accounts: rows.map((r) => ({ ...r, since: r.since === undefined ? null : new Date(r.since).toISOString() })),
      },
    }
  })
