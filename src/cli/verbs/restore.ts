/**
 * Restore verbs (Carbonio syntax): `doUndelete`, `doRestoreOnNewAccount` and `doItemRestore`: the
 * grammar, words → the use case's request (src/app/restore/plans.ts), and the report's text.
 * `dry_run true` prints the plan and writes nothing; otherwise the plan is written into the target.
 */
import { itemRestore, restoreOnNewAccount, undelete } from '../../app/restore/plans'
import { appDeps, restorePorts } from '../appDeps'
import { orExit } from '../failure'
import type { Context, Output, Verb } from '../grammar'
import type { AppError } from '../../app/errors'
import type { AppDeps, RestorePorts } from '../../app/ports'
import type { RestoreResult } from '../../app/restore/run'
import { RESTORE_ATTRS, RESTORE_EXIT_CODES, attrFields, restoreOptionsOf, restoreOutput } from '../restoreRun'
import * as E from 'fp-ts/Either'
import { davRestoreSource, homesFor } from '../../dav/restoreWiring'
import { usage } from '../failure'

export { newAccountPlans } from '../../app/restore/plans'

/** The DAV homes a restore on another account moves objects between (the principal configured, else Radicale's layout). */
export const davHomes = (ctx: Context, davTarget: string | undefined, src: string, dst: string): { source: string; target: string } => {
  const d = davRestoreSource(ctx.settings, davTarget)
  if (E.isLeft(d)) throw usage(d.left)
  return homesFor(d.right, src, dst)
}

/** Runs a restore use case on the verb's request (its own fields and the attributes every restore verb takes) and prints its report. */
const restoreWith =
  <R>(useCase: (deps: AppDeps, ports: RestorePorts, req: R) => Promise<E.Either<AppError, RestoreResult>>) =>
  async (ctx: Context, req: R): Promise<Output> =>
    restoreOutput(orExit(await useCase(appDeps(ctx), restorePorts(ctx), req)), ctx.zone)

export const doUndelete: Verb = {
  name: 'doUndelete',
  summary: 'Restores the items deleted (not merely moved to Trash) within a window, into their source folders.',
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'start', help: 'start of the deletion window ("dd/MM/yyyy HH:mm:ss" or first)' },
    { name: 'end', help: 'end of the window ("dd/MM/yyyy HH:mm:ss" or last); both ends included' },
  ],
  attributes: [
    {
      name: 'target_original_folder',
      help: 'true (default): each item goes to its source folder; false: all messages under one folder named undelete_DD_MM_YY (contacts, appointments and tasks always go back to their collections)',
    },
    ...RESTORE_ATTRS,
  ],
  examples: [
    'mailtime doUndelete alice@example.com "02/03/2026 00:00:00" "04/03/2026 23:59:59" dry_run true',
    'mailtime doUndelete alice@example.com first last notifications legal@example.com',
    'mailtime doUndelete alice@example.com first last target maildir:/srv/restore/alice',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: (ctx, { positionals: [account = '', start = '', end = ''], attrs }) =>
    restoreWith(undelete)(ctx, { account, start, end, ...attrFields(attrs, { target_original_folder: 'targetOriginalFolder' }), ...restoreOptionsOf(attrs) }),
}

export const doRestoreOnNewAccount: Verb = {
  name: 'doRestoreOnNewAccount',
  summary:
    'Recreates every item that existed in an account at an instant into a new account; the source is never touched. On a deleted account, "last" means the moment before it was deleted (Account Restore).',
  positionals: [
    { name: 'source', help: 'source account' },
    { name: 'destination', help: 'the new account' },
    { name: 'date', help: '"dd/MM/yyyy HH:mm:ss" or last' },
  ],
  attributes: [
    { name: 'undelete', help: 'true: also restore items deleted after undelete_start_date' },
    { name: 'undelete_start_date', help: '"dd/MM/yyyy HH:mm:ss" or first (default first)' },
    ...RESTORE_ATTRS,
  ],
  examples: [
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com "17/11/2026 15:01:00"',
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com last undelete true target maildir:/srv/mail/alice.restored',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: (ctx, { positionals: [source = '', destination = '', date = ''], attrs }) =>
    restoreWith(restoreOnNewAccount)(ctx, {
      source,
      destination,
      date,
      ...attrFields(attrs, { undelete: 'undelete', undelete_start_date: 'undeleteStartDate' }),
      ...restoreOptionsOf(attrs),
    }),
}

export const doItemRestore: Verb = {
  name: 'doItemRestore',
  summary: "Restores one item's state as of a date, into its folder then (recreated if gone) or restore_folder; never overwrites.",
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'item_id', help: 'item id (see getItem, doItemSearch)' },
  ],
  attributes: [
    { name: 'date', help: '"dd/MM/yyyy HH:mm:ss" or last (default)' },
    { name: 'restore_folder', help: 'folder path to restore a message into, such as Restored/March (contacts, appointments and tasks go back to their collections)' },
    ...RESTORE_ATTRS,
  ],
  examples: [
    'mailtime doItemRestore alice@example.com 1042 date "03/03/2026 14:00:00"',
    'mailtime doItemRestore alice@example.com 1042 restore_folder Restored target maildir:/srv/restore/alice',
  ],
  exitCodes: ['3: the item never existed or did not exist at that date', ...RESTORE_EXIT_CODES],
  run: (ctx, { positionals: [account = '', itemId = ''], attrs }) =>
    restoreWith(itemRestore)(ctx, { account, itemId, ...attrFields(attrs, { date: 'date', restore_folder: 'restoreFolder' }), ...restoreOptionsOf(attrs) }),
}
