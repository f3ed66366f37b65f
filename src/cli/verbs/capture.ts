/**
 * Capture verbs: `doAccountScan` (one account) and `doSmartScan` (every configured account, once or
 * continuously with `watch true`), reading a real IMAP server and, when one is configured, the
 * account's address books and calendars on a CardDAV/CalDAV server (src/dav/scan.ts), into the same
 * account stream.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import { type AccountId, parseAccountId } from '../../../domain/ids'
import { listAccountIds } from '../../app/accounts'
import { restoredInto } from '../../capture/restoredInto'
import { type ImapSource, imapConnectionsOf, imapSourceOf } from '../../capture/imap/source'
import { type ConnectError, connectAs, describeConnectError } from '../../imap/connection'
import { connectionPool } from '../../imap/pool'
import { siteScheduler } from '../../capture/site/schedule'
import { type ScanDeps, scanAccount } from '../../capture/imap/scanner'
import { type ScanError, type ScanReport, scannedToTheEnd } from '../../capture/imap/report'
import { type CaptureResult, captureFromSpool, describeFollowerError, describeSpoolCaptureError, triggerOnSignal } from '../../capture/feeds/feedCapture'
import { type FeedInstants, feedInstants } from '../../capture/feeds/instants'
import type { ChangeSignal } from '../../capture/feeds/signals'
import { type SpoolFollower, openSpoolFollower } from '../../capture/feeds/spoolFollower'
import { nodeSpoolFs } from '../../capture/feeds/nodeSpoolFs'
import { storeCheckpoints } from '../../capture/feeds/checkpoints'
import { type NotifyWatcher, describeNotifyError, watchAccount } from '../../imap/notify'
import type { DavCaptureReport } from '../../dav/capture'
import type { DavSource } from '../../dav/source'
import { type DavScanError, davReportJson, davReportText, davRoundIncomplete, davSourceOfSettings, describeDavScanError, imapConfigured, scanDav } from '../../dav/scan'
import { CliFailure, ExitCode, fromStoreError, usage } from '../failure'
import { stopSignal } from '../stopSignal'
import { faultAfter } from '../../wiring/faults'
import { booleanAttr, type Context, type Output, type Verb } from '../grammar'
import { must, table } from '../render'
import type { Settings } from '../../config'
import * as os from 'os'
import { holderOf } from '../../capture/fleet/leases'
import { localLeases } from '../../capture/fleet/localLeases'
import { joinFleet } from '../../capture/fleet/member'

const connectFailure = (e: ConnectError): CliFailure =>
  new CliFailure(describeConnectError(e), e._tag === 'NoCredentials' ? ExitCode.USAGE : e._tag === 'NoSuchAccount' ? ExitCode.NOT_FOUND : ExitCode.UNAVAILABLE)

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

/**
 * What this installation captures: the IMAP server, the DAV server, or both. A DAV server alone is
 * enough (an installation that backs up only address books and calendars); neither is a usage error.
 */
const sources = (ctx: Context): { imap?: ImapSource; dav?: DavSource } => {
  const dav = davSourceOfSettings(ctx.settings)
  if (E.isLeft(dav)) throw usage(dav.left.reason)
  if (dav.right !== undefined && !imapConfigured(ctx.settings)) return { dav: dav.right }
  const s = imapSourceOf(ctx.settings)
  if (E.isLeft(s)) throw usage(dav.right === undefined ? `${s.left.reason}; or MAILTIME_DAV_URL for address books and calendars only` : s.left.reason)
  return { imap: s.right, ...(dav.right !== undefined && { dav: dav.right }) }
}

const davFailure = (e: DavScanError, src: DavSource): CliFailure => {
  switch (e._tag) {
    case 'Store':
      return fromStoreError(e.error)
    case 'Blob':
    case 'BadCheckpoint':
      return new CliFailure(describeDavScanError(e, src), ExitCode.STORE)
    case 'BadDavSource':
      return usage(e.reason)
    case 'Dav':
      return new CliFailure(describeDavScanError(e, src), ExitCode.UNAVAILABLE)
  }
}

/** One DAV round for the account; a round that failed throws, one that could not read some collections returns them. */
const davScanOne = async (ctx: Context, src: DavSource, account: AccountId, stopped: () => boolean): Promise<DavCaptureReport> => {
  const b = await ctx.backend()
  ctx.progress.start(`reading address books and calendars of ${account}`, 1)
  const batch = ctx.settings.scan.batchSize
  const afterBatch = faultAfter(ctx.settings.test.fault, 'batch')
  const r = await scanDav(src, account, b, {
    now: ctx.now,
    batchSize: batch,
    shouldStop: stopped,
    ...(afterBatch !== undefined && { afterBatch }),
    onProgress: (p) => {
      ctx.progress.start(`reading address books and calendars of ${account}`, p.collections)
      ctx.progress.update(p.done, p.collection)
    },
  })
  ctx.progress.stop()
  if (E.isLeft(r)) throw davFailure(r.left, src)
  return r.right
}

const reportJson = (r: ScanReport) => ({
  account: r.account,
  firstScan: r.firstScan,
  unchanged: r.unchanged,
  complete: scannedToTheEnd(r),
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

const scanOne = async (ctx: Context, account: AccountId, client: ImapFlow, server: string, stopped: () => boolean, instants?: FeedInstants): Promise<ScanReport> => {
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
    restored: restoredInto(b.operations, account, server),
    ...scanFaults(ctx.settings.test),
    ...(instants !== undefined && { instants }),
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
  summary:
    'Scans one account on the configured IMAP server (and its address books and calendars on the configured CardDAV/CalDAV server) and records what changed since the last scan.',
  positionals: [{ name: 'account', help: 'IMAP login name, such as alice or alice@example.com' }],
  attributes: [],
  examples: [
    'MAILTIME_IMAP_URL=imap://mail.example.com:143 MAILTIME_IMAP_USER=admin MAILTIME_IMAP_PASSWORD=… mailtime doAccountScan alice@example.com',
    'MAILTIME_DAV_URL=http://dav.example.com:5232 MAILTIME_DAV_USER=admin MAILTIME_DAV_PASSWORD=… mailtime doAccountScan alice',
  ],
  exitCodes: [
    '6: the IMAP or DAV server is unreachable, refused the login, or the connection failed before every folder was read (what was read is recorded; run again)',
    '7: the server refused to open some folders, or an address book, calendar or home could not be read (named; everything else is recorded)',
    '5: another scan of the same account recorded first (this one recorded nothing); run again',
    '130: interrupted; run again to resume',
  ],
  run: async (ctx, { positionals: [raw = ''] }): Promise<Output> => {
    const account = parseAccountId(raw)
    if (account === undefined) throw usage(`not a valid account name: ${JSON.stringify(raw)}`)
    const src = sources(ctx)
    const sig = stopSignal()
    try {
      let mail: ScanReport | undefined
      if (src.imap !== undefined) {
        const c = await connectAs(src.imap, account)
        if (E.isLeft(c)) throw connectFailure(c.left)
        try {
          mail = await scanOne(ctx, account, c.right, src.imap.description, sig.stopped)
        } finally {
          await c.right.logout().catch(() => undefined)
        }
      }
      const mailFailed = mail === undefined || src.imap === undefined ? undefined : incompleteScan(mail, src.imap.description)
      // Mail first, then address books and calendars: one writer of the account stream at a time.
      const dav = src.dav !== undefined && mail?.interrupted !== true && !sig.stopped() ? await davScanOne(ctx, src.dav, account, sig.stopped) : undefined
      const davFailed = dav === undefined ? undefined : davRoundIncomplete(dav)
      const interrupted = mail?.interrupted === true || dav?.interrupted === true || (src.dav !== undefined && dav === undefined)
      const errors = [mailFailed?.error, davFailed].filter((x): x is string => x !== undefined)
      return {
        json: { ...(mail !== undefined ? reportJson(mail) : { account }), ...(dav !== undefined && { dav: davReportJson(dav) }) },
        text: [
          ...(mail !== undefined ? [reportText(mail)] : []),
          ...(dav !== undefined ? davReportText(dav) : []),
          ...(src.dav !== undefined && dav === undefined ? ['address books and calendars not read (stopped); run again'] : []),
        ].join('\n'),
        exitCode: interrupted ? ExitCode.INTERRUPTED : mailFailed?.exitCode === ExitCode.UNAVAILABLE ? ExitCode.UNAVAILABLE : errors.length > 0 ? ExitCode.PARTIAL : ExitCode.OK,
        ...(errors.length > 0 && { error: errors.join('; ') }),
      }
    } finally {
      sig.dispose()
    }
  },
}

/** The lazy_expunge folder of contrib/dovecot: its changes are the copies expunges keep, not the user's. */
const LAZY_EXPUNGE_FOLDER = 'EXPUNGED'

export const doSmartScan: Verb = {
  name: 'doSmartScan',
  summary:
    'Scans every configured account (mail, and address books and calendars when a DAV server is configured); with watch true, keeps capturing changes in near real time. On a PostgreSQL store, workers on several machines share the accounts through leases (getCaptureStatus shows them).',
  positionals: [{ name: 'start', help: 'the word "start", as in Carbonio (optional)', optional: true }],
  attributes: [
    {
      name: 'watch',
      help: 'true: keep running; each change is captured as the Dovecot change feed (spool), or else IMAP NOTIFY in every folder, or else IDLE in INBOX, reports it, and every account is rescanned every interval; address books and calendars are polled every interval (default false)',
    },
    { name: 'interval', help: 'seconds between full rescans in watch mode, the safety net behind the feeds (default 60)' },
    {
      name: 'spool',
      help: 'with watch true: the spool directory of the Dovecot change feed (contrib/dovecot/); default: feed.spool in the config file or MAILTIME_FEED_SPOOL',
    },
    { name: 'notify', help: 'with watch true and no spool: false to watch INBOX with IDLE even where the server offers NOTIFY (default true)' },
    {
      name: 'connections',
      help: 'at most this many IMAP connections, reused across rounds and triggers, and as many accounts captured at once (one capture per account at a time); default: MAILTIME_IMAP_CONNECTIONS, imap.connections in the config file, or 4. An account unchanged since a scan that recorded nothing costs one LIST-STATUS command where the server offers LIST-STATUS and CONDSTORE',
    },
  ],
  examples: [
    'mailtime doSmartScan',
    'mailtime doSmartScan start connections 8',
    'mailtime doSmartScan start watch true interval 30',
    'mailtime doSmartScan start watch true spool /var/spool/mailtime/dovecot',
  ],
  exitCodes: [
    '6: no account was scanned to the end (the IMAP or DAV server is unreachable, or every scan failed or was incomplete)',
    '7: some accounts, address books or calendars failed or were not scanned to the end (the others were)',
    "4: the store failed, or the change feed's position could not be read or written (what was recorded stays; the feed resumes from its last position)",
  ],
  run: async (ctx, { positionals, attrs }): Promise<Output> => {
    if (positionals[0] !== undefined && positionals[0].toLowerCase() !== 'start') throw usage(`doSmartScan: unexpected ${JSON.stringify(positionals[0])}`)
    const watch = booleanAttr(attrs.watch, 'watch', false)
    if (E.isLeft(watch)) throw usage(watch.left)
    const interval = Number(attrs.interval ?? '60')
    if (!Number.isFinite(interval) || interval < 1) throw usage('interval must be a number of seconds ≥ 1')
    const notify = booleanAttr(attrs.notify, 'notify', true)
    if (E.isLeft(notify)) throw usage(notify.left)
    if (!watch.right && (attrs.spool !== undefined || attrs.notify !== undefined)) throw usage('spool and notify apply to watch true only')
    const spoolDir = watch.right ? (attrs.spool ?? ctx.settings.config.feed?.spool) : undefined
    const connections = imapConnectionsOf(ctx.settings, attrs.connections)
    if (E.isLeft(connections)) throw usage(connections.left)
    if (spoolDir !== undefined && spoolDir.trim() === '') throw usage('spool: an empty directory name')
    const both = sources(ctx)
    const src = both.imap
    const configured = accountsToScan(ctx, src)
      .map((a) => parseAccountId(a))
      .filter((a): a is AccountId => a !== undefined)
    // With a spool and no configured accounts, capture is site-wide: every account the feed names.
    const accounts = configured.length > 0 ? configured : await must(listAccountIds(await ctx.backend()))
    if (accounts.length === 0 && spoolDir === undefined)
      throw usage('no accounts to scan: set MAILTIME_IMAP_ACCOUNTS or imap.accounts, or scan one account first with doAccountScan')
    const sig = stopSignal()
    // Capture leases (src/capture/fleet): on a PostgreSQL store the workers share the accounts, each
    // capturing only those it holds; elsewhere this process holds every account.
    const joined = await joinFleet((await ctx.backend()).leases ?? localLeases(), holderOf(os.hostname(), process.pid), {
      accounts: () => accounts,
      note: ctx.note,
      // A single run takes each account as it comes to it; a watching worker takes its fair share.
      share: watch.right,
      onGained: () => sig.wakeNow(),
    })
    if (E.isLeft(joined)) {
      sig.dispose()
      throw fromStoreError(joined.left)
    }
    const fleet = joined.right
    /** Accounts a single run left to the live worker holding them. */
    const heldElsewhere: AccountId[] = []
    // At most `connections` IMAP connections, each kept for its account between captures (src/imap/pool.ts).
    const pool =
      src === undefined
        ? undefined
        : connectionPool<ImapFlow>(connections.right, {
            open: (a) => connectAs(src, a),
            alive: (c) => c.usable,
            close: async (c) => {
              await c.logout().catch(() => undefined)
              c.close()
            },
          })
    const reports: ScanReport[] = []
    const davReports: DavCaptureReport[] = []
    const failures: { account: string; error: string }[] = []
    // Scans that read every folder: an incomplete one is a failure, whatever it recorded.
    /** Accounts whose mail was read to the end, and those whose address books and calendars were not: an account is scanned to the end only when both were. */
    const mailScanned = new Set<AccountId>()
    const davIncomplete = new Set<AccountId>()
    let rounds = 0
    /** A stop came before a round had scanned every account (the scans cut short say so themselves). */
    let cutShort = false
    /** Accounts whose INBOX is watched with IDLE (no spool, no NOTIFY). */
    const idling = new Set<AccountId>()
    const notifiers = new Map<AccountId, NotifyWatcher>()
    /** Signals of captures that failed, for the next round's scan of the account (they date its changes). */
    const pending = new Map<AccountId, ChangeSignal[]>()
    /** A failure that ends the watch (the store, the feed's position): thrown once the loops stopped. */
    let fatal: CliFailure | undefined

    const watchChanges = (src: ImapSource, a: AccountId, client: ImapFlow): void => {
      if (!watch.right || spoolDir !== undefined || notifiers.has(a)) return
      if (notify.right && client.capabilities.has('NOTIFY')) {
        const login =
          src.passwords[a] !== undefined
            ? { user: a, password: src.passwords[a] as string, onBehalf: false }
            : { user: src.admin?.user ?? '', password: src.admin?.password ?? '', onBehalf: true }
        notifiers.set(
          a,
          watchAccount({ host: src.host, port: src.port, secure: src.secure, account: a, login }, (e) => {
            // Every (re)connection may have missed changes made before NOTIFY was set: catch up.
            if (e._tag === 'Watching') trigger(a, [])
            else if (e._tag === 'Signal') trigger(a, [e.signal])
            else if (e._tag === 'Failed') ctx.note(`mailtime: NOTIFY for ${a}: ${describeNotifyError(e.error)}; again in ${Math.round(e.retryInMs / 1000)} s (the rounds go on)`)
            else if (e._tag === 'Unsupported') ctx.note(`mailtime: NOTIFY for ${a}: ${e.reason}; the rounds go on`)
          }),
        )
        return
      }
      idling.add(a)
      for (const ev of ['exists', 'expunge', 'flags']) client.on(ev, () => sig.wakeNow())
    }

    /** Scans one account's mail now (one scan at a time per account: the scheduler's job); signals date what it records. */
    const captureMail = async (a: AccountId, signals: readonly ChangeSignal[]): Promise<CaptureResult> => {
      if (src === undefined || pool === undefined) return { _tag: 'Captured', events: 0 }
      const waiting = pending.get(a) ?? []
      pending.delete(a)
      const all = [...waiting, ...signals]
      for (let attempt = 1; ; attempt++) {
        const leased = await pool.acquire(a)
        if (E.isLeft(leased)) {
          if (leased.left._tag === 'PoolClosed') {
            if (all.length > 0) pending.set(a, all)
            return { _tag: 'Interrupted' }
          }
          const c = leased.left
          if (!watch.right && accounts.length === 1) throw connectFailure(c)
          failures.push({ account: a, error: describeConnectError(c) })
          ctx.note(`mailtime: ${describeConnectError(c)}`)
          if (all.length > 0) pending.set(a, all)
          return { _tag: 'Failed', reason: describeConnectError(c), fatal: false }
        }
        const lease = leased.right
        const client = lease.client
        if (!lease.reused) watchChanges(src, a, client)
        // A connection kept between scans may have been closed by the server meanwhile (an idle
        // timeout, a restart, a folder renamed under the session, which Dovecot answers with BYE):
        // the scan runs once more on a new connection before it counts as failed.
        const again = (lost: boolean): boolean => attempt === 1 && lease.reused && lost
        let broken = false
        try {
          const r = await scanOne(ctx, a, client, src.description, () => sig.stopped() || !fleet.holds(a), all.length > 0 ? feedInstants(all) : undefined)
          reports.push(r)
          if (r.interrupted && !sig.stopped()) {
            // Its lease could not be renewed in time: another worker may hold the account now.
            const error = `the capture lease of ${a} could not be renewed in time (${fleet.leases.description}); this worker stopped writing the account after ${r.eventsAppended} events, and the worker that holds it now captures the rest`
            failures.push({ account: a, error })
            ctx.note(`mailtime: ${error}`)
            if (all.length > 0) pending.set(a, all)
            return { _tag: 'Failed', reason: error, fatal: false }
          }
          const failed = incompleteScan(r, src.description)
          if (watch.right && r.eventsAppended > 0) ctx.note(`${new Date(ctx.now()).toISOString()} ${a}: ${r.eventsAppended} events`)
          if (failed !== undefined && again(!client.usable)) {
            broken = true
            continue
          }
          if (failed !== undefined) {
            failures.push({ account: a, error: failed.error })
            ctx.note(`mailtime: ${failed.error}`)
            // The next round reads what this scan could not, dated by these signals.
            if (all.length > 0) pending.set(a, all)
          } else mailScanned.add(a)
          // Sit in INBOX so the server's IDLE notifications wake the next round early. Mail that
          // arrived between the scan's listing and this open raises no notification: rescan at once.
          if (idling.has(a) && client.usable) {
            const box = await client.mailboxOpen('INBOX', { readOnly: true }).catch(() => undefined)
            const seen = r.folders.find((f) => f.serverPath.toUpperCase() === 'INBOX')
            if (box !== undefined && seen !== undefined && box.exists !== seen.messages) sig.wakeNow()
            // IDLE now: imapflow would start it only after 15 s without commands, and until then the
            // server reports nothing (the next command breaks it).
            if (box !== undefined) void client.idle().catch(() => undefined)
          }
          if (r.interrupted) return { _tag: 'Interrupted' }
          return failed === undefined ? { _tag: 'Captured', events: r.eventsAppended } : { _tag: 'Failed', reason: failed.error, fatal: false }
        } catch (e) {
          broken = true
          if (!(e instanceof CliFailure)) throw e
          if (e.exitCode === ExitCode.STORE) throw e
          if (again(e.exitCode === ExitCode.UNAVAILABLE)) continue
          failures.push({ account: a, error: e.message })
          ctx.note(`mailtime: ${e.message}`)
          if (all.length > 0) pending.set(a, all)
          return { _tag: 'Failed', reason: e.message, fatal: false }
        } finally {
          await lease.release(broken)
        }
      }
    }

    /** The account's address books and calendars, polled every round (a sync token per collection makes an unchanged round one PROPFIND per home); true when read to the end. */
    const scanDavOf = async (a: AccountId): Promise<boolean> => {
      const dav = both.dav
      if (dav !== undefined && sig.stopped()) cutShort = true
      if (dav === undefined || sig.stopped()) return dav === undefined
      let davScanned = false
      // Polled every round: a sync token per collection makes an unchanged round one PROPFIND per home.
      try {
        const d = await davScanOne(ctx, dav, a, sig.stopped)
        davReports.push(d)
        const incomplete = davRoundIncomplete(d)
        if (incomplete !== undefined) {
          failures.push({ account: a, error: `${incomplete}: ${d.failed.map((f) => f.reason).join('; ')}` })
          ctx.note(`mailtime: ${incomplete}`)
        } else davScanned = true
        if (watch.right && d.eventsAppended > 0) ctx.note(`${new Date(ctx.now()).toISOString()} ${a}: ${d.eventsAppended} events (CardDAV/CalDAV)`)
      } catch (e) {
        if (!(e instanceof CliFailure)) throw e
        if (e.exitCode === ExitCode.STORE || e.exitCode === ExitCode.USAGE) throw e
        failures.push({ account: a, error: e.message })
        ctx.note(`mailtime: ${e.message}`)
      }
      return davScanned
    }

    /**
     * What the scheduler runs for an account: its mail, then (in a round) its address books and
     * calendars, one writer of the account stream at a time; at most `connections` accounts at once.
     */
    const runJob = async (a: AccountId, job: { readonly signals: readonly ChangeSignal[]; readonly round: boolean }): Promise<CaptureResult> => {
      if (fatal !== undefined) return { _tag: 'Failed', reason: fatal.message, fatal: true }
      if (sig.stopped()) {
        // A round cut short before this account's turn: the run says it was interrupted.
        if (job.round) cutShort = true
        if (job.signals.length > 0) pending.set(a, [...(pending.get(a) ?? []), ...job.signals])
        return { _tag: 'Interrupted' }
      }
      // Only the holder of the account's lease writes it (an account a feed names for the first time
      // is taken at once when this process holds every account).
      if (!fleet.holds(a) && !fleet.leases.shared) await fleet.claim(a)
      if (!fleet.begin(a)) return { _tag: 'Captured', events: 0 }
      let mail: CaptureResult | undefined
      try {
        mail = await captureMail(a, job.signals)
      } finally {
        await fleet.end(a, mail === undefined ? 'the capture failed' : mail._tag === 'Failed' ? mail.reason : mail._tag === 'Interrupted' ? 'stopped before the end' : null)
      }
      if (job.round && fatal === undefined && !sig.stopped()) {
        const davOk = fleet.begin(a) ? await scanDavOf(a).finally(() => fleet.end(a, undefined)) : true
        if (!davOk && both.dav !== undefined) davIncomplete.add(a)
        if (davOk && src === undefined) mailScanned.add(a)
      }
      return mail
    }
    const scheduler = siteScheduler(
      connections.right,
      (a: string, job: { readonly signals: readonly ChangeSignal[]; readonly round: boolean }) => runJob(a as AccountId, job),
      (x, y) => ({
        signals: [...x.signals, ...y.signals],
        round: x.round || y.round,
      }),
    )
    const scanNow = (a: AccountId, signals: readonly ChangeSignal[]): Promise<CaptureResult> => scheduler.submit(a, { signals, round: false })

    /** A capture a feed triggered: what would end a round's scan ends the watch. */
    const capture = (a: AccountId, signals: readonly ChangeSignal[]): Promise<CaptureResult> =>
      scanNow(a, signals).catch((e: unknown): CaptureResult => {
        fatal ??= e instanceof CliFailure ? e : new CliFailure(`capturing ${a}: ${String(e)}`, ExitCode.STORE)
        sig.wakeNow()
        return { _tag: 'Failed', reason: fatal.message, fatal: true }
      })
    const trigger = triggerOnSignal(
      (a, s) => capture(a as AccountId, s),
      () => undefined,
    )

    let follower: SpoolFollower | undefined
    let following: Promise<void> = Promise.resolve()
    let caughtUp = true
    try {
      if (spoolDir !== undefined) {
        const b = await ctx.backend()
        caughtUp = false
        const opened = await openSpoolFollower(
          { fs: nodeSpoolFs, checkpoints: storeCheckpoints(b.store), clock: { now: () => Date.now() } },
          {
            spoolDir,
            // doveadm writes a MOVE as two transactions tens of milliseconds apart (services.md):
            // captured between them, it would be recorded as a copy and a deletion.
            settleMs: 300,
            onCaughtUp: () => {
              if (caughtUp) return
              caughtUp = true
              sig.wakeNow()
            },
          },
        )
        if (E.isLeft(opened)) throw new CliFailure(describeFollowerError(opened.left), ExitCode.STORE)
        follower = opened.right
        const afterFeed = faultAfter(ctx.settings.test.fault, 'feed')
        let feedBatches = 0
        ctx.note(`mailtime: following the Dovecot change feed in ${spoolDir}`)
        following = captureFromSpool(follower, (a, s) => capture(a as AccountId, s), {
          ignoreMailboxes: [LAZY_EXPUNGE_FOLDER],
          accept: (a) => {
            const id = parseAccountId(a)
            if (id === undefined) return false
            if (configured.length > 0) return configured.includes(id)
            // Site-wide: an account the feed names is in the rounds from now on.
            if (!accounts.includes(id)) accounts.push(id)
            return true
          },
          note: ctx.note,
          onFailed: () => undefined,
          ...(afterFeed !== undefined && { beforeCommit: () => afterFeed(++feedBatches) }),
        }).then((r) => {
          if (E.isLeft(r)) {
            fatal ??= new CliFailure(describeSpoolCaptureError(r.left), ExitCode.STORE)
            sig.wakeNow()
          }
        })
        // The backlog the spool kept while Mailtime was stopped is captured, at its instants, before
        // the first round (which would date those changes at its own window).
        while (!caughtUp && !sig.stopped() && fatal === undefined) await sig.sleep(interval * 1000)
      }
      do {
        rounds++
        // Every account, `connections` at a time (a trigger for an account still waiting is merged
        // into its round capture). What ends a round's scan ends the run.
        // A single run takes each account whose lease it can have (the others are held by a live
        // worker of the fleet, which captures them) and gives it back when done.
        await Promise.all(
          [...accounts].map(async (a) => {
            if (!watch.right && !(await fleet.claim(a))) {
              heldElsewhere.push(a)
              return
            }
            if (!fleet.holds(a)) return
            await scheduler.submit(a, { signals: [], round: true }).catch((e: unknown) => {
              fatal ??= e instanceof CliFailure ? e : new CliFailure(`capturing ${a}: ${String(e)}`, ExitCode.STORE)
            })
            if (!watch.right) await fleet.release(a)
          }),
        )
        await fleet.roundDone()
        if (fatal !== undefined) break
        if (watch.right && !sig.stopped()) await sig.sleep(interval * 1000)
      } while (watch.right && !sig.stopped() && fatal === undefined)
    } finally {
      sig.dispose()
      follower?.stop()
      await following
      await Promise.all([...notifiers.values()].map((n) => n.stop()))
      await scheduler.idle()
      await pool?.close()
      await fleet.stop()
    }
    if (fatal !== undefined) throw fatal
    // Captures end in any order: reports and failures are listed in the order of the accounts.
    const rank = (a: string): number => accounts.indexOf(a as AccountId)
    const byAccount = <T extends { readonly account: string }>(xs: T[]): T[] => xs.sort((x, y) => rank(x.account) - rank(y.account))
    byAccount(reports)
    byAccount(davReports)
    byAccount(failures)
    const totals = new Map<string, number>()
    for (const r of [...reports, ...davReports]) totals.set(r.account, (totals.get(r.account) ?? 0) + r.eventsAppended)
    const interrupted = cutShort || reports.some((r) => r.interrupted) || davReports.some((d) => d.interrupted)
    return {
      json: {
        rounds,
        heldElsewhere,
        interrupted,
        accounts: [...totals.entries()].map(([account, events]) => ({ account, eventsAppended: events })),
        failures,
        scans: reports.map(reportJson),
        davScans: davReports.map(davReportJson),
        // The pool's own count of what it did (src/imap/pool.ts): how many logins, how many captures reused a connection.
        ...(pool !== undefined && { connections: { limit: connections.right, ...pool.stats() } }),
      },
      text: [
        ...(watch.right ? [`stopped after ${rounds} round(s)`] : [...reports.map(reportText), ...davReports.flatMap(davReportText)]),
        ...(watch.right ? [table([['account', 'events recorded'], ...[...totals.entries()].map(([a, n]) => [a, String(n)])])] : []),
        ...(heldElsewhere.length > 0
          ? [`not captured by this run: ${heldElsewhere.length} account(s) held by another worker of the fleet, which captures them: ${heldElsewhere.join(', ')}`]
          : []),
        ...failures.map((f) => `FAILED ${f.account}: ${f.error}`),
        ...(interrupted && !watch.right ? ['stopped before every account was scanned to the end; run again to resume'] : []),
      ].join('\n'),
      // A watch runs until it is stopped: that is its end (exit 0), even in the middle of a round,
      // which the next start resumes. A single round stopped early has not done its work: 130.
      exitCode:
        interrupted && !watch.right
          ? ExitCode.INTERRUPTED
          : failures.length > 0
            ? [...mailScanned].some((a) => !davIncomplete.has(a))
              ? ExitCode.PARTIAL
              : ExitCode.UNAVAILABLE
            : ExitCode.OK,
      ...(failures.length > 0 && {
        error: `${new Set(failures.map((f) => f.account)).size} account(s) not scanned to the end: ${[...new Set(failures.map((f) => f.account))].join(', ')} (see failures)`,
      }),
    }
  },
}

/** The accounts doSmartScan scans: `imap.accounts` (or MAILTIME_IMAP_ACCOUNTS), also when only a DAV server is configured. */
const accountsToScan = (ctx: Context, imap: ImapSource | undefined): readonly string[] =>
  imap?.accounts ?? (ctx.settings.config.imap?.accounts ?? []).map((a) => a.trim()).filter((a) => a.length > 0)
