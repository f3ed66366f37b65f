/**
 * Capture verbs: `doAccountScan` (one account) and `doSmartScan` (every configured account, once or
 * continuously with `watch true`), reading a real IMAP server.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import { type AccountId, parseAccountId } from '../../../domain/ids'
import type { OperationEvent } from '../../../domain/operations'
import { type RestoredMessages, restoredMessages, serverOf } from '../../../domain/restore/restoredMessages'
import type { StoreError } from '../../../projections/errors'
import { listAccountIds } from '../../app/accounts'
import type { Backend } from '../../app/ports'
import { type ConnectError, type ImapSource, connectAs, describeConnectError, imapSourceOf } from '../../capture/imap/source'
import { type ScanDeps, type ScanError, type ScanReport, scanAccount } from '../../capture/imap/scanner'
import { CliFailure, ExitCode, fromStoreError, usage } from '../failure'
import { stopSignal } from '../stopSignal'
import { faultAfter } from '../faults'
import { booleanAttr, type Context, type Output, type Verb } from '../grammar'
import { must, table } from '../render'
import type { Settings } from '../../config'

const connectFailure = (e: ConnectError): CliFailure =>
  new CliFailure(describeConnectError(e), e._tag === 'NoCredentials' ? ExitCode.USAGE : ExitCode.UNAVAILABLE)

const scanFailure = (e: ScanError, server: string): CliFailure => {
  switch (e._tag) {
    case 'Store':
      return fromStoreError(e.error)
    case 'Blob':
      return new CliFailure(`blob store: ${e.message}`, ExitCode.STORE)
    case 'Imap':
      return new CliFailure(`IMAP error while scanning ${e.account} at ${server}: ${e.reason}`, ExitCode.UNAVAILABLE)
    case 'BadCheckpoint':
      return new CliFailure(`the scan checkpoint of ${e.account} cannot be read (${e.reason}); it is rewritten by a full scan after deleting it`, ExitCode.STORE)
    case 'Concurrent':
      return new CliFailure(
        `another scan of ${e.account} (or another writer) recorded events while this scan ran (the account's stream went from revision ${e.expected} to ${e.actual}); ` +
          `this scan recorded ${e.appended > 0 ? `only its first ${e.appended} events` : 'nothing'}: run it again once the other has finished`,
        ExitCode.CONFLICT,
      )
  }
}

const source = (ctx: Context): ImapSource => {
  const s = imapSourceOf(ctx.settings)
  if (E.isLeft(s)) throw usage(s.left.reason)
  return s.right
}

const reportJson = (r: ScanReport) => ({
  account: r.account,
  firstScan: r.firstScan,
  complete: r.complete,
  eventsAppended: r.eventsAppended,
  messagesRead: r.messagesRead,
  bytesRead: r.bytesRead,
  bytesStored: r.bytesStored,
  foldersCreated: r.foldersCreated,
  foldersRenamed: r.foldersRenamed,
  foldersDeleted: r.foldersDeleted,
  interrupted: r.interrupted,
  unreadFolders: r.unreadFolders,
  deferredChanges: r.deferredChanges,
  folders: r.folders,
})

/** Bytes for people: SI units, one decimal. */
export const formatBytes = (n: number): string => {
  if (n < 1000) return `${n} B`
  const [value, unit] = n < 1e6 ? [n / 1e3, 'kB'] : n < 1e9 ? [n / 1e6, 'MB'] : [n / 1e9, 'GB']
  return `${value.toFixed(1)} ${unit}`
}

const reportText = (r: ScanReport): string =>
  [
    `${r.account}: ${r.firstScan ? 'first scan, ' : ''}${r.eventsAppended} events recorded; ${r.messagesRead} messages read from the server (${formatBytes(r.bytesRead)}), ${formatBytes(r.bytesStored)} new to the blob store` +
      (r.interrupted ? ' (stopped early; run again to finish)' : ''),
    table([
      ['folder', 'messages', 'new', 'restored', 'moved in', 'deleted', 'flag changes', 'status'],
      ...r.folders.map((f) => [f.path, String(f.messages), String(f.created), String(f.restored), String(f.moved), String(f.deleted), String(f.flagChanges), f.status]),
    ]),
    ...r.unreadFolders.map((f) => `not read: ${f.path} (${f.reason}); its messages are kept as recorded`),
    ...(r.deferredChanges > 0 ? [`${r.deferredChanges} changes seen in the folders read wait for a complete scan (they may be moves from or into the folders not read)`] : []),
  ].join('\n')

/**
 * Why a scan that did not read every folder failed: exit 6 when the connection failed, 7 when the
 * server refused to open or read folders (every other folder was read: the scan is partial).
 */
export const incompleteScan = (r: ScanReport, server: string): { error: string; exitCode: ExitCode } | undefined => {
  if (r.complete) return undefined
  const reasons = [...new Set(r.unreadFolders.map((f) => f.reason))].join('; ')
  return {
    error: `the scan of ${r.account} at ${server} is incomplete: ${r.unreadFolders.length} folder(s) not read (${r.unreadFolders.map((f) => f.path).join(', ')}): ${reasons}; what was read is recorded, run the scan again`,
    exitCode: r.unreadFolders.every((f) => f.refused) ? ExitCode.PARTIAL : ExitCode.UNAVAILABLE,
  }
}

/**
 * What restores wrote into the account on this server, read afresh for every scan: a restore may be
 * running while capture watches the account. Only restores are read, not the other operations.
 */
const restoredInto = (b: Backend, account: AccountId, server: string) => async (): Promise<E.Either<StoreError, RestoredMessages>> => {
  const ids = await b.operations.restores()()
  if (E.isLeft(ids)) return ids
  const ops: OperationEvent[][] = []
  for (const id of ids.right) {
    const events = await b.operations.read(id)()
    if (E.isLeft(events)) return events
    ops.push(events.right)
  }
  return E.right(restoredMessages(ops, account, serverOf(server)))
}

/**
 * Test-only switches (docs/reliability.md): `MAILTIME_FAULT=kill-after-batch:N`, `pause-after-folder:MS`… (faults.ts), and
 * `MAILTIME_TEST_BUG=checkpoint-ahead`, a bug planted for the torture harness to find.
 */
const scanFaults = (test: Settings['test']): Pick<ScanDeps, 'afterBatch' | 'afterFolder' | 'plantedBug'> => {
  const afterBatch = faultAfter(test.fault, 'batch')
  const afterFolder = faultAfter(test.fault, 'folder')
  return {
    ...(afterBatch !== undefined && { afterBatch }),
    ...(afterFolder !== undefined && { afterFolder }),
    ...(test.bug === 'checkpoint-ahead' && { plantedBug: 'checkpoint-ahead' as const }),
  }
}

const scanOne = async (ctx: Context, account: AccountId, client: ImapFlow, server: string, stopped: () => boolean): Promise<ScanReport> => {
  const b = await ctx.backend()
  ctx.progress.start(`scanning ${account}`, 1)
  const batch = ctx.settings.scan.batchSize
  const r = await scanAccount(client, account, {
    store: b.store,
    index: b.index,
    blobs: b.blobs,
    now: ctx.now,
    batchSize: batch,
    shouldStop: stopped,
    restored: restoredInto(b, account, server),
    ...scanFaults(ctx.settings.test),
    onProgress: (p) => {
      ctx.progress.start(`scanning ${account}`, p.folders)
      ctx.progress.update(p.foldersDone, `${p.folder} (${p.messages} messages)`)
    },
  })
  ctx.progress.stop()
  if (E.isLeft(r)) throw scanFailure(r.left, server)
  return r.right
}

export const doAccountScan: Verb = {
  name: 'doAccountScan',
  summary: 'Scans one account on the configured IMAP server and records what changed since the last scan.',
  positionals: [{ name: 'account', help: 'IMAP login name, such as alice or alice@example.com' }],
  attributes: [],
  examples: ['MAILTIME_IMAP_URL=imap://mail.example.com:143 MAILTIME_IMAP_USER=admin MAILTIME_IMAP_PASSWORD=… mailtime doAccountScan alice@example.com'],
  exitCodes: [
    '6: the IMAP server is unreachable, refused the login, or the connection failed before every folder was read (what was read is recorded; run again)',
    '7: the server refused to open some folders (named; every other folder is recorded)',
    '5: another scan of the same account recorded first (this one recorded nothing); run again',
    '130: interrupted; run again to resume',
  ],
  run: async (ctx, { positionals: [raw = ''] }): Promise<Output> => {
    const account = parseAccountId(raw)
    if (account === undefined) throw usage(`not a valid account name: ${JSON.stringify(raw)}`)
    const src = source(ctx)
    const sig = stopSignal()
    const c = await connectAs(src, account)
    if (E.isLeft(c)) throw connectFailure(c.left)
    try {
      const r = await scanOne(ctx, account, c.right, src.description, sig.stopped)
      const failed = incompleteScan(r, src.description)
      if (failed !== undefined) return { json: reportJson(r), text: reportText(r), ...failed }
      return { json: reportJson(r), text: reportText(r), exitCode: r.interrupted ? ExitCode.INTERRUPTED : ExitCode.OK }
    } finally {
      sig.dispose()
      await c.right.logout().catch(() => undefined)
    }
  },
}

export const doSmartScan: Verb = {
  name: 'doSmartScan',
  summary: 'Scans every configured account; with watch true, keeps capturing changes in near real time.',
  positionals: [{ name: 'start', help: 'the word "start", as in Carbonio (optional)', optional: true }],
  attributes: [
    { name: 'watch', help: 'true: keep running, rescanning on IMAP IDLE notifications and every interval (default false)' },
    { name: 'interval', help: 'seconds between full rescans in watch mode (default 60)' },
  ],
  examples: ['mailtime doSmartScan', 'mailtime doSmartScan start watch true interval 30'],
  exitCodes: ['6: no account was scanned to the end (the IMAP server is unreachable, or every scan failed or was incomplete)', '7: some accounts failed or were not scanned to the end (the others were)'],
  run: async (ctx, { positionals, attrs }): Promise<Output> => {
    if (positionals[0] !== undefined && positionals[0].toLowerCase() !== 'start') throw usage(`doSmartScan: unexpected ${JSON.stringify(positionals[0])}`)
    const watch = booleanAttr(attrs.watch, 'watch', false)
    if (E.isLeft(watch)) throw usage(watch.left)
    const interval = Number(attrs.interval ?? '60')
    if (!Number.isFinite(interval) || interval < 1) throw usage('interval must be a number of seconds ≥ 1')
    const src = source(ctx)
    const configured = src.accounts.map((a) => parseAccountId(a)).filter((a): a is AccountId => a !== undefined)
    const accounts = configured.length > 0 ? configured : await must(listAccountIds((await ctx.backend())))
    if (accounts.length === 0) throw usage('no accounts to scan: set MAILTIME_IMAP_ACCOUNTS or imap.accounts, or scan one account first with doAccountScan')
    const sig = stopSignal()
    const clients = new Map<AccountId, ImapFlow>()
    const reports: ScanReport[] = []
    const failures: { account: string; error: string }[] = []
    // Scans that read every folder: an incomplete one is a failure, whatever it recorded.
    let scanned = 0
    let rounds = 0
    try {
      do {
        rounds++
        for (const a of accounts) {
          if (sig.stopped()) break
          let client = clients.get(a)
          if (client === undefined || !client.usable) {
            const c = await connectAs(src, a)
            if (E.isLeft(c)) {
              if (!watch.right && accounts.length === 1) throw connectFailure(c.left)
              failures.push({ account: a, error: describeConnectError(c.left) })
              ctx.note(`mailtime: ${describeConnectError(c.left)}`)
              continue
            }
            client = c.right
            clients.set(a, client)
            if (watch.right) for (const ev of ['exists', 'expunge', 'flags']) client.on(ev, () => sig.wakeNow())
          }
          try {
            const r = await scanOne(ctx, a, client, src.description, sig.stopped)
            reports.push(r)
            const failed = incompleteScan(r, src.description)
            if (failed !== undefined) {
              failures.push({ account: a, error: failed.error })
              ctx.note(`mailtime: ${failed.error}`)
            } else scanned++
            if (watch.right && r.eventsAppended > 0) ctx.note(`${new Date(ctx.now()).toISOString()} ${a}: ${r.eventsAppended} events`)
            // Sit in INBOX so the server's IDLE notifications wake the next round early. Mail that
            // arrived between the scan's listing and this open raises no notification: rescan at once.
            if (watch.right && client.usable) {
              const box = await client.mailboxOpen('INBOX', { readOnly: true }).catch(() => undefined)
              const seen = r.folders.find((f) => f.serverPath.toUpperCase() === 'INBOX')
              if (box !== undefined && seen !== undefined && box.exists !== seen.messages) sig.wakeNow()
              // IDLE now: imapflow would start it only after 15 s without commands, and until then the
              // server reports nothing (the next command breaks it).
              if (box !== undefined) void client.idle().catch(() => undefined)
            }
          } catch (e) {
            if (!(e instanceof CliFailure)) throw e
            if (e.exitCode === ExitCode.STORE) throw e
            failures.push({ account: a, error: e.message })
            ctx.note(`mailtime: ${e.message}`)
            clients.delete(a)
            client.close()
          }
        }
        if (watch.right && !sig.stopped()) await sig.sleep(interval * 1000)
      } while (watch.right && !sig.stopped())
    } finally {
      sig.dispose()
      for (const c of clients.values()) await c.logout().catch(() => undefined)
    }
    const totals = new Map<string, number>()
    for (const r of reports) totals.set(r.account, (totals.get(r.account) ?? 0) + r.eventsAppended)
    return {
      json: { rounds, accounts: [...totals.entries()].map(([account, events]) => ({ account, eventsAppended: events })), failures, scans: reports.map(reportJson) },
      text: [
        ...(watch.right ? [`stopped after ${rounds} round(s)`] : reports.map(reportText)),
        ...(watch.right ? [table([['account', 'events recorded'], ...[...totals.entries()].map(([a, n]) => [a, String(n)])])] : []),
        ...failures.map((f) => `FAILED ${f.account}: ${f.error}`),
      ].join('\n'),
      exitCode: failures.length > 0 ? (scanned > 0 ? ExitCode.PARTIAL : ExitCode.UNAVAILABLE) : ExitCode.OK,
      ...(failures.length > 0 && { error: `${new Set(failures.map((f) => f.account)).size} account(s) not scanned to the end: ${[...new Set(failures.map((f) => f.account))].join(', ')} (see failures)` }),
    }
  },
}

