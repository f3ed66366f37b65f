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

/** What the server adds to a route's words: where console restores and exports go. */
export interface Site {
  /** The restore target (`target` words), or undefined for the configured IMAP server. */
  readonly target?: string
  /** A new directory for an export of this account. */
  readonly exportDest: (account: string) => string
}

type Params = Record<string, string | undefined>

export interface Route {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly summary: string
  readonly verb: string
  /** Path parameters and query (GET) or body (POST), validated together. */
  readonly input: t.Type<Record<string, unknown>, unknown, unknown>
  /** The verb's words, from the validated input. */
  readonly words: (p: Params, site: Site) => string[]
  /** True when the request starts long work (a job) instead of answering at once. */
  readonly job: (p: Params) => boolean
}

const attrs = (pairs: Params): string[] => Object.entries(pairs).flatMap(([k, v]) => (v === undefined ? [] : [k, v]))
const targetWords = (site: Site): string[] => (site.target === undefined ? [] : ['target', site.target])
const never = () => false
const unlessDryRun = (p: Params) => p.dry_run === 'false'

const route = <P extends t.Props, O extends t.Props>(
  method: Route['method'],
  path: string,
  verb: string,
  summary: string,
  required: P,
  optional: O,
  words: Route['words'],
  job: Route['job'] = never,
): Route => ({ method, path, verb, summary, input: t.intersection([t.type(required), t.partial(optional)]) as never, words, job })

export const ROUTES: readonly Route[] = [
  route('GET', '/api/accounts', 'getAvailableAccounts', 'the accounts in the store', {}, {}, () => []),
  route('GET', '/api/accounts/:account', 'getAccountInfo', "an account's summary (folders, counts, first and last change)", { account: Word }, {}, (p) => [p.account ?? '']),
  route('GET', '/api/accounts/:account/state', 'getAccountState', 'the folder tree and items as of `at` (default: now)', { account: Word }, { at: Word, known_at: Word }, (p) => [
    p.account ?? '',
    ...attrs({ date: p.at, known_at: p.known_at }),
  ]),
  route('GET', '/api/accounts/:account/items/:item', 'getItem', 'one item as of `at` (default: now)', { account: Word, item: Item }, { at: Word }, (p) => [p.account ?? '', p.item ?? '', ...attrs({ date: p.at })]),
  route('GET', '/api/accounts/:account/items/:item/history', 'getItem', 'every version of one item, with what changed and when', { account: Word, item: Item }, {}, (p) => [p.account ?? '', p.item ?? '', 'date', 'all']),
  route('GET', '/api/accounts/:account/diff', 'diff', 'what changed between `from` and `to`', { account: Word, from: Word, to: Word }, {}, (p) => [p.account ?? '', p.from ?? '', p.to ?? '']),
  route('GET', '/api/accounts/:account/activity', 'getActivity', 'changes per hour or day, deletions apart, with bucket boundaries in `tz`', { account: Word }, { bucket: Word, from: Word, to: Word, tz: Word }, (p) => [
    p.account ?? '',
    ...attrs({ bucket: p.bucket, from: p.from, to: p.to, zone: p.tz }),
  ]),
  route('GET', '/api/accounts/:account/search', 'doItemSearch', 'items by text, type and dates', { account: Word }, { text: Word, type: Word, after: Word, before: Word, filter: Word }, (p) => [
    p.account ?? '',
    ...attrs({ search_string: p.text, type: p.type, after: p.after, before: p.before, search_filter: p.filter }),
  ]),
  route(
    'POST',
    '/api/accounts/:account/undelete',
    'doUndelete',
    'plan (dry_run, the default) or start (a job) an undelete of what was deleted between `from` and `to`',
    { account: Word, from: Word, to: Word },
    { dry_run: Bool },
    (p, site) => [p.account ?? '', p.from ?? '', p.to ?? '', 'dry_run', p.dry_run ?? 'true', ...targetWords(site)],
    unlessDryRun,
  ),
  route(
    'POST',
    '/api/accounts/:account/restore-new-account',
    'doRestoreOnNewAccount',
    'plan (dry_run, the default) or start (a job) a restore of the account as of `at` into the new account `destination`',
    { account: Word, destination: Word },
    { at: Word, undelete: Bool, dry_run: Bool },
    (p, site) => [p.account ?? '', p.destination ?? '', p.at ?? 'last', ...attrs({ undelete: p.undelete }), 'dry_run', p.dry_run ?? 'true', ...targetWords(site)],
    unlessDryRun,
  ),
  route(
    'POST',
    '/api/accounts/:account/export',
    'exportHistory',
    "preview (dry_run) or start (a job, the default) an export of the account's history, into a new directory under the server's export folder",
    { account: Word },
    { from: Word, to: Word, at: Word, format: t.keyof({ dir: null, zip: null }), dry_run: Bool },
    (p, site) => [p.account ?? '', ...attrs({ from: p.from, to: p.to, at: p.at, format: p.format, dry_run: p.dry_run }), 'dest', site.exportDest(p.account ?? '') + (p.format === 'zip' ? '.zip' : '')],
    (p) => p.dry_run !== 'true',
  ),
  route('GET', '/api/operations', 'getAllOperations', 'every operation (restores, exports, purges, holds, scans) with its state and counts', {}, {}, () => []),
  route('GET', '/api/operations/:id', 'monitor', 'one operation in detail (items, reasons, notifications)', { id: Word }, {}, (p) => [p.id ?? '']),
]

/** The parameter each error is about, with what was wrong. */
const describeParams = (errors: t.Errors): string =>
  [...new Set(errors.map((e) => `${e.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).pop() ?? '(input)'}: ${e.message ?? (e.value === undefined ? 'missing' : 'not valid')}`))].join('; ')

/** Validates a route's input, or says which parameter is wrong. */
export const validate = (r: Route, input: Record<string, unknown>): E.Either<string, Params> => {
  const d = r.input.decode(input)
  return E.isLeft(d) ? E.left(`bad parameters: ${describeParams(d.left)}`) : E.right(d.right as Params)
}
