/**
 * The HTTP API: each route validates its parameters with io-ts (a bad one is a 400 naming it), then
 * runs the same verb the CLI runs and returns its `--json` document. There is no second
 * implementation of any query, plan or restore.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'

/** A query string or body value: absent, or a non-empty string without control characters. */
const Word = new t.Type<string, string, unknown>(
  'Word',
  (u): u is string => typeof u === 'string',
  (u, c) => (typeof u === 'string' && u.length > 0 && u.length <= 512 && !/[\u0000-\u001f]/.test(u) ? t.success(u) : t.failure(u, c, 'expected a non-empty text without control characters')),
  (s) => s,
)
const Item = new t.Type<string, string, unknown>(
  'ItemId',
  (u): u is string => typeof u === 'string',
  (u, c) => (typeof u === 'string' && /^[1-9]\d{0,9}$/.test(u) ? t.success(u) : t.failure(u, c, 'expected an item id (a positive integer)')),
  (s) => s,
)
const Bool = t.keyof({ true: null, false: null })

export interface Route {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly summary: string
  /** Path parameters and query (GET) or body (POST), validated together. */
  readonly input: t.Type<Record<string, unknown>, unknown, unknown>
  /** The verb and its words, from the validated input. */
  readonly words: (p: Record<string, string | undefined>) => { verb: string; words: string[] }
}

const attrs = (pairs: Record<string, string | undefined>): string[] => Object.entries(pairs).flatMap(([k, v]) => (v === undefined ? [] : [k, v]))

const route = <P extends t.Props, O extends t.Props>(
  method: Route['method'],
  path: string,
  summary: string,
  required: P,
  optional: O,
  words: (p: Record<string, string | undefined>) => { verb: string; words: string[] },
): Route => ({ method, path, summary, input: t.intersection([t.type(required), t.partial(optional)]) as never, words })

export const ROUTES: readonly Route[] = [
  route('GET', '/api/accounts', 'the accounts in the store', {}, {}, () => ({ verb: 'getAvailableAccounts', words: [] })),
  route('GET', '/api/accounts/:account', "an account's summary (folders, counts, first and last change)", { account: Word }, {}, (p) => ({ verb: 'getAccountInfo', words: [p.account ?? ''] })),
  route('GET', '/api/accounts/:account/state', 'the folder tree and items as of `at` (default: now)', { account: Word }, { at: Word, known_at: Word }, (p) => ({
    verb: 'getAccountState',
    words: [p.account ?? '', ...attrs({ date: p.at, known_at: p.known_at })],
  })),
  route('GET', '/api/accounts/:account/items/:item', 'one item as of `at` (default: now)', { account: Word, item: Item }, { at: Word }, (p) => ({
    verb: 'getItem',
    words: [p.account ?? '', p.item ?? '', ...attrs({ date: p.at })],
  })),
  route('GET', '/api/accounts/:account/items/:item/history', "every version of one item, with what changed and when", { account: Word, item: Item }, {}, (p) => ({
    verb: 'getItem',
    words: [p.account ?? '', p.item ?? '', 'date', 'all'],
  })),
  route('GET', '/api/accounts/:account/diff', 'what changed between `from` and `to`', { account: Word, from: Word, to: Word }, {}, (p) => ({
    verb: 'diff',
    words: [p.account ?? '', p.from ?? '', p.to ?? ''],
  })),
  route('GET', '/api/accounts/:account/search', 'items by text, type and dates', { account: Word }, { text: Word, type: Word, after: Word, before: Word, filter: Word }, (p) => ({
    verb: 'doItemSearch',
    words: [p.account ?? '', ...attrs({ search_string: p.text, type: p.type, after: p.after, before: p.before, search_filter: p.filter })],
  })),
  route('POST', '/api/accounts/:account/undelete', 'plan (dry_run, the default) or run an undelete of what was deleted between `from` and `to`', { account: Word, from: Word, to: Word }, { dry_run: Bool }, (p) => ({
    verb: 'doUndelete',
    words: [p.account ?? '', p.from ?? '', p.to ?? '', 'dry_run', p.dry_run ?? 'true'],
  })),
  route('GET', '/api/operations', 'every operation (restores, exports, purges, holds, scans) with its state and counts', {}, {}, () => ({ verb: 'getAllOperations', words: [] })),
  route('GET', '/api/operations/:id', 'one operation in detail (items, reasons, notifications)', { id: Word }, {}, (p) => ({ verb: 'monitor', words: [p.id ?? ''] })),
]

/** The parameter each error is about, with what was wrong. */
const describeParams = (errors: t.Errors): string =>
  [...new Set(errors.map((e) => `${e.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).pop() ?? '(input)'}: ${e.message ?? (e.value === undefined ? 'missing' : 'not valid')}`))].join('; ')

/** Validates a route's input, or says which parameter is wrong. */
export const validate = (r: Route, input: Record<string, unknown>): E.Either<string, Record<string, string | undefined>> => {
  const d = r.input.decode(input)
  return E.isLeft(d) ? E.left(`bad parameters: ${describeParams(d.left)}`) : E.right(d.right as Record<string, string | undefined>)
}
