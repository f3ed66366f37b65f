/**
 * The HTTP API: each route decodes its parameters with io-ts (a bad one is a 400 naming it) into
 * the request of the same use case (src/app) the CLI calls, and returns the use case's `--json`
 * document. There is no second implementation of any query, plan or restore, and no CLI in between.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { SEARCHABLE_TYPES } from '../../domain/itemTypes'
import { getActivity } from '../app/activity'
import type { AppError, Outcome } from '../app/errors'
import { exportHistory } from '../app/export'
import { diff, getAccountInfo, getAccountState, getItem, listAccounts, search, type SearchFilter } from '../app/inspect'
import { getOperation, listOperations } from '../app/operations'
import type { AppDeps, RestorePorts, RewindPorts } from '../app/ports'
import { restoreOnNewAccount, undelete } from '../app/restore/plans'
import { type RewindRequest, rewind } from '../app/rewind'

/** A query string or body value: absent, or a non-empty string without control characters. */
const Word = new t.Type<string, string, unknown>(
  'Word',
  (u): u is string => typeof u === 'string',
  (u, c) =>
    typeof u === 'string' && u.length > 0 && u.length <= 512 && !/[\u0000-\u001f]/.test(u) ? t.success(u) : t.failure(u, c, 'expected a non-empty text without control characters'),
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

/** What a route's call gets: the use cases' ports (per request or job) and the server's site. */
export interface Call {
  readonly deps: AppDeps
  readonly restore: RestorePorts
  readonly rewind: RewindPorts
  readonly site: Site
}

export type Answer = E.Either<AppError, { readonly json: unknown; readonly outcome?: Outcome }>

export interface Route {
  readonly method: 'GET' | 'POST'
  readonly path: string
  readonly summary: string
  /** The CLI verb that answers the same (for the docs and the job list). */
  readonly verb: string
  /** Path parameters and query (GET) or body (POST), validated together. */
  readonly input: t.Type<Record<string, unknown>, unknown, unknown>
  /** Calls the use case with the validated input. */
  readonly call: (c: Call, p: Params) => Promise<Answer>
  /** True when the request starts long work (a job) instead of answering at once. */
  readonly job: (p: Params) => boolean
}

const never = () => false
const always = () => true
const unlessDryRun = (p: Params) => p.dry_run === 'false'
/**
 * A rewind's request from the route's words. It acts on the account's live server, the IMAP server
 * configured for capture, never on the console's restore target (which may be a Maildir tree).
 */
const rewindRequest = (p: Params, dryRun: boolean): RewindRequest => ({
  account: req(p, 'account'),
  date: req(p, 'at'),
  dryRun: dryRun ? 'true' : 'false',
  ...defined({ keepAfter: p.keep_after, removeNewFolders: p.remove_new_folders, notifications: p.notifications }),
})

/** The defined values only (a request's optional fields are absent, not undefined). */
const defined = <A extends Record<string, string | undefined>>(o: A): { [K in keyof A]?: string } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof A]?: string }
const req = (p: Params, k: string): string => p[k] ?? ''

const route = <P extends t.Props, O extends t.Props>(
  method: Route['method'],
  path: string,
  verb: string,
  summary: string,
  required: P,
  optional: O,
  call: Route['call'],
  job: Route['job'] = never,
): Route => ({ method, path, verb, summary, input: t.intersection([t.type(required), t.partial(optional)]) as never, call, job })

export const ROUTES: readonly Route[] = [
  route('GET', '/api/accounts', 'getAvailableAccounts', 'the accounts in the store', {}, {}, (c) => listAccounts(c.deps)),
  route('GET', '/api/accounts/:account', 'getAccountInfo', "an account's summary (folders, counts, first and last change)", { account: Word }, {}, (c, p) =>
    getAccountInfo(c.deps, { account: req(p, 'account') }),
  ),
  route('GET', '/api/accounts/:account/state', 'getAccountState', 'the folder tree and items as of `at` (default: now)', { account: Word }, { at: Word, known_at: Word }, (c, p) =>
    getAccountState(c.deps, { account: req(p, 'account'), ...defined({ date: p.at, knownAt: p.known_at }) }),
  ),
  route('GET', '/api/accounts/:account/items/:item', 'getItem', 'one item as of `at` (default: now)', { account: Word, item: Item }, { at: Word }, (c, p) =>
    getItem(c.deps, { account: req(p, 'account'), itemId: req(p, 'item'), ...defined({ date: p.at }) }),
  ),
  route('GET', '/api/accounts/:account/items/:item/history', 'getItem', 'every version of one item, with what changed and when', { account: Word, item: Item }, {}, (c, p) =>
    getItem(c.deps, { account: req(p, 'account'), itemId: req(p, 'item'), date: 'all' }),
  ),
  route('GET', '/api/accounts/:account/diff', 'diff', 'what changed between `from` and `to`', { account: Word, from: Word, to: Word }, {}, (c, p) =>
    diff(c.deps, { account: req(p, 'account'), from: req(p, 'from'), to: req(p, 'to') }),
  ),
  route(
    'GET',
    '/api/accounts/:account/activity',
    'getActivity',
    'changes per hour or day, deletions apart, with bucket boundaries in `tz`',
    { account: Word },
    { bucket: t.keyof({ hour: null, day: null }), from: Word, to: Word, tz: Word },
    (c, p) =>
      getActivity(c.deps, {
        account: req(p, 'account'),
        ...(p.bucket !== undefined && { bucket: p.bucket === 'hour' ? 'hour' : 'day' }),
        ...defined({ from: p.from, to: p.to, zone: p.tz }),
      }),
  ),
  route(
    'GET',
    '/api/accounts/:account/search',
    'doItemSearch',
    'items by text, type and dates',
    { account: Word },
    {
      text: Word,
      type: t.keyof(Object.fromEntries([...SEARCHABLE_TYPES, 'all'].map((k) => [k, null])) as Record<string, null>),
      after: Word,
      before: Word,
      filter: t.keyof({ all: null, deleted: null, not_deleted: null }),
    },
    (c, p) =>
      search(c.deps, {
        account: req(p, 'account'),
        ...defined({ text: p.text, type: p.type, after: p.after, before: p.before }),
        ...(p.filter !== undefined && { filter: p.filter as SearchFilter }),
      }),
  ),
  route(
    'POST',
    '/api/accounts/:account/undelete',
    'doUndelete',
    'plan (dry_run, the default) or start (a job) an undelete of what was deleted between `from` and `to`',
    { account: Word, from: Word, to: Word },
    { dry_run: Bool },
    (c, p) =>
      undelete(c.deps, c.restore, { account: req(p, 'account'), start: req(p, 'from'), end: req(p, 'to'), dryRun: p.dry_run ?? 'true', ...defined({ target: c.site.target }) }),
    unlessDryRun,
  ),
  route(
    'POST',
    '/api/accounts/:account/restore-new-account',
    'doRestoreOnNewAccount',
    'plan (dry_run, the default) or start (a job) a restore of the account as of `at` into the new account `destination`',
    { account: Word, destination: Word },
    { at: Word, undelete: Bool, dry_run: Bool },
    (c, p) =>
      restoreOnNewAccount(c.deps, c.restore, {
        source: req(p, 'account'),
        destination: req(p, 'destination'),
        date: p.at ?? 'last',
        ...defined({ undelete: p.undelete, target: c.site.target }),
        dryRun: p.dry_run ?? 'true',
      }),
    unlessDryRun,
  ),
  route(
    'POST',
    '/api/accounts/:account/export',
    'exportHistory',
    "preview (dry_run) or start (a job, the default) an export of the account's history, into a new directory under the server's export folder",
    { account: Word },
    { from: Word, to: Word, at: Word, format: t.keyof({ dir: null, zip: null }), dry_run: Bool },
    (c, p) =>
      exportHistory(c.deps, {
        account: req(p, 'account'),
        ...defined({ from: p.from, to: p.to, at: p.at, dryRun: p.dry_run }),
        ...(p.format !== undefined && { format: p.format === 'zip' ? 'zip' : 'dir' }),
        dest: c.site.exportDest(req(p, 'account')) + (p.format === 'zip' ? '.zip' : ''),
      }),
    (p) => p.dry_run !== 'true',
  ),
  route(
    'POST',
    '/api/accounts/:account/rewind/preview',
    'doRewind',
    'capture the account and return the plan that would put it back as it was at `at`, grouped by action with counts (doRewind dry_run true); nothing changes on the server',
    { account: Word, at: Word },
    { keep_after: Word, remove_new_folders: Bool },
    (c, p) => rewind(c.deps, c.rewind, rewindRequest(p, true)),
  ),
  route(
    'POST',
    '/api/accounts/:account/rewind',
    'doRewind',
    'start (a job) a rewind of the live account to its state at `at`, keeping the mail that arrived since (in `keep_after`, default rewind_DD_MM_YY, or in_place)',
    { account: Word, at: Word },
    { keep_after: Word, remove_new_folders: Bool, notifications: Word },
    (c, p) => rewind(c.deps, c.rewind, rewindRequest(p, false)),
    always,
  ),
  route('GET', '/api/operations', 'getAllOperations', 'every operation (restores, exports, purges, holds, scans) with its state and counts', {}, {}, (c) => listOperations(c.deps)),
  route('GET', '/api/operations/:id', 'monitor', 'one operation in detail (items, reasons, notifications)', { id: Word }, {}, (c, p) =>
    getOperation(c.deps, { operationId: req(p, 'id') }),
  ),
]

/** The parameter each error is about, with what was wrong. */
const describeParams = (errors: t.Errors): string =>
  [
    ...new Set(
      errors.map(
        (e) =>
          `${
            e.context
              .map((c) => c.key)
              .filter((k) => k !== '' && !/^\d+$/.test(k))
              .pop() ?? '(input)'
          }: ${e.message ?? (e.value === undefined ? 'missing' : 'not valid')}`,
      ),
    ),
  ].join('; ')

/** Validates a route's input, or says which parameter is wrong. */
export const validate = (r: Route, input: Record<string, unknown>): E.Either<string, Params> => {
  const d = r.input.decode(input)
  return E.isLeft(d) ? E.left(`bad parameters: ${describeParams(d.left)}`) : E.right(d.right as Params)
}
