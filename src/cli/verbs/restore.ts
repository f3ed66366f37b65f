/**
 * Restore verbs (Carbonio syntax): `doUndelete`, `doRestoreOnNewAccount` and `doItemRestore`: the
 * grammar, words → the use case's request (src/app/restore/plans.ts), and the report's text.
 * `dry_run true` prints the plan and writes nothing; otherwise the plan is written into the target.
 */
import { itemRestore, restoreOnNewAccount, undelete } from '../../app/restore/plans'
import type { RestoreOptions } from '../../app/restore/run'
import { appDeps, restorePorts } from '../appDeps'
import { orExit } from '../failure'
import type { Context, Verb } from '../grammar'
import { RESTORE_EXIT_CODES, davTargetAttr, dryRunAttr, notificationsAttr, ownerAttr, repairAttr, restoreOutput, targetAttr } from '../restoreRun'
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

/** The attributes every restore verb takes, as the use case's request fields. */
const options = (attrs: Readonly<Record<string, string>>): RestoreOptions => ({
  ...(attrs.dry_run !== undefined && { dryRun: attrs.dry_run }),
  ...(attrs.target !== undefined && { target: attrs.target }),
  ...(attrs.owner !== undefined && { owner: attrs.owner }),
  ...(attrs.notifications !== undefined && { notifications: attrs.notifications }),
  ...(attrs.dav_target !== undefined && { davTarget: attrs.dav_target }),
  ...(attrs.repair !== undefined && { repair: attrs.repair }),
})

const deps = (ctx: Context) => [appDeps(ctx), restorePorts(ctx)] as const

export const doUndelete: Verb = {
  name: 'doUndelete',
  summary: 'Restores the items deleted (not merely moved to Trash) within a window, into their source folders.',
  positionals: [
    { name: 'account', help: 'account name' },
    { name: 'start', help: 'start of the deletion window ("dd/MM/yyyy HH:mm:ss" or first)' },
    { name: 'end', help: 'end of the window ("dd/MM/yyyy HH:mm:ss" or last); both ends included' },
  ],
  attributes: [
    { name: 'target_original_folder', help: 'true (default): each item goes to its source folder; false: all messages under one folder named undelete_DD_MM_YY (contacts, appointments and tasks always go back to their collections)' },
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    davTargetAttr,
    ownerAttr,
    repairAttr,
  ],
  examples: [
    'mailtime doUndelete alice@example.com "02/03/2026 00:00:00" "04/03/2026 23:59:59" dry_run true',
    'mailtime doUndelete alice@example.com first last notifications legal@example.com',
    'mailtime doUndelete alice@example.com first last target maildir:/srv/restore/alice',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: async (ctx, { positionals: [account = '', start = '', end = ''], attrs }) => {
    const r = await undelete(...deps(ctx), { account, start, end, ...(attrs.target_original_folder !== undefined && { targetOriginalFolder: attrs.target_original_folder }), ...options(attrs) })
    return restoreOutput(orExit(r), ctx.zone)
  },
}

export const doRestoreOnNewAccount: Verb = {
  name: 'doRestoreOnNewAccount',
  summary: 'Recreates every item that existed in an account at an instant into a new account; the source is never touched. On a deleted account, "last" means the moment before it was deleted (Account Restore).',
  positionals: [
    { name: 'source', help: 'source account' },
    { name: 'destination', help: 'the new account' },
    { name: 'date', help: '"dd/MM/yyyy HH:mm:ss" or last' },
  ],
  attributes: [
    { name: 'undelete', help: 'true: also restore items deleted after undelete_start_date' },
    { name: 'undelete_start_date', help: '"dd/MM/yyyy HH:mm:ss" or first (default first)' },
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    davTargetAttr,
    ownerAttr,
    repairAttr,
  ],
  examples: [
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com "17/11/2026 15:01:00"',
    'mailtime doRestoreOnNewAccount alice@example.com alice.restored@example.com last undelete true target maildir:/srv/mail/alice.restored',
  ],
  exitCodes: RESTORE_EXIT_CODES,
  run: async (ctx, { positionals: [source = '', destination = '', date = ''], attrs }) => {
    const r = await restoreOnNewAccount(...deps(ctx), {
      source,
      destination,
      date,
      ...(attrs.undelete !== undefined && { undelete: attrs.undelete }),
      ...(attrs.undelete_start_date !== undefined && { undeleteStartDate: attrs.undelete_start_date }),
      ...options(attrs),
    })
    return restoreOutput(orExit(r), ctx.zone)
  },
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
    notificationsAttr,
    dryRunAttr,
    targetAttr,
    davTargetAttr,
    ownerAttr,
    repairAttr,
  ],
  examples: ['mailtime doItemRestore alice@example.com 1042 date "03/03/2026 14:00:00"', 'mailtime doItemRestore alice@example.com 1042 restore_folder Restored target maildir:/srv/restore/alice'],
  exitCodes: ['3: the item never existed or did not exist at that date', ...RESTORE_EXIT_CODES],
  run: async (ctx, { positionals: [account = '', itemId = ''], attrs }) => {
    const r = await itemRestore(...deps(ctx), {
      account,
      itemId,
      ...(attrs.date !== undefined && { date: attrs.date }),
      ...(attrs.restore_folder !== undefined && { restoreFolder: attrs.restore_folder }),
      ...options(attrs),
    })
    return restoreOutput(orExit(r), ctx.zone)
  },
}
