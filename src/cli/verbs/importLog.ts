/**
 * `importLog`: records the item changes of Zimbra/Carbonio mailbox.log or Dovecot mail_log files.
 * With `dry_run true --json` it writes one JSON object per line for each event a real run would
 * append (the importers resolve every line as a real run does), then a summary line.
 */
import * as E from 'fp-ts/Either'
import { parseAccountId } from '../../../domain/ids'
import { isItemEvent } from '../../../domain/events'
import { type ImportError, type ImportSummary, openLines } from '../../capture/logImport/common'
import { importMailboxLogs } from '../../capture/mailboxLog/importer'
import { importMailLogs } from '../../capture/mailLog/importer'
import { looksLikeMailLog } from '../../capture/mailLog/parse'
import { validZone, isoInZone } from '../../time/dates'
import { CliFailure, ExitCode, fromDateError, fromStoreError, usage } from '../failure'
import { booleanAttr, type Verb } from '../grammar'
import { table } from '../render'
import { stableStringify } from '../stableJson'

const summaryJson = (s: ImportSummary, dryRun: boolean, format: string) => ({
  dryRun,
  format,
  files: s.files,
  linesRead: s.linesRead,
  records: s.records,
  events: s.events,
  appended: s.appended,
  duplicates: s.duplicates,
  skipped: s.skipped,
  malformed: s.malformed,
  malformedSamples: s.malformedSamples,
  byType: s.byType,
  accounts: s.accounts,
  dstAdjusted: s.dstAdjusted,
  notes: s.notes,
})

/** Why a file is not a log the import can read, with its first bad line and what to do. */
const unusableMessage = (u: Extract<ImportError, { _tag: 'Unusable' }>, format: string): string => {
  const text = u.first.text !== undefined && !u.first.reason.includes('"') ? ` (${JSON.stringify(u.first.text)})` : ''
  const kind = format === 'dovecot' ? 'a Dovecot log' : 'a Zimbra/Carbonio mailbox.log'
  return `${u.file} is not a log importLog can read (read as ${kind}): ${u.malformed} of its ${u.lines} lines are malformed, the first at line ${u.first.line}${text}: ${u.first.reason}. ${u.hint}`
}

/** The format of a log, from its first non-empty line. */
const detectFormat = async (file: string): Promise<'mailbox' | 'dovecot'> => {
  let rl: ReturnType<typeof openLines> | undefined
  try {
    rl = openLines(file)
    for await (const line of rl) if (line.trim() !== '') return looksLikeMailLog(line) ? 'dovecot' : 'mailbox'
  } catch {
    // An unreadable file is reported by the importer, with its name and exit code 4.
  } finally {
    rl?.close()
  }
  return 'mailbox'
}

export const importLog: Verb = {
  name: 'importLog',
  summary: 'Records the item changes in Zimbra/Carbonio mailbox.log or Dovecot mail_log files (plain or gzipped, rotated files in date order).',
  positionals: [{ name: 'file', help: 'one or more log files', variadic: true }],
  attributes: [
    { name: 'account', help: 'only lines about this account (name= in the context)' },
    { name: 'tz', help: "the mail server's time zone (log times carry none); default --tz" },
    { name: 'dry_run', help: 'true: show the events a real run would append, append nothing' },
    { name: 'format', help: 'auto (default: from the first line), mailbox (Zimbra/Carbonio) or dovecot (mail_log plugin)', values: ['auto', 'mailbox', 'dovecot'] },
  ],
  examples: [
    'mailtime importLog /opt/zextras/log/mailbox.log.2026-03-0*.gz /opt/zextras/log/mailbox.log tz Europe/Rome',
    'mailtime importLog mailbox.log account alice@example.com dry_run true --json',
    'mailtime importLog /var/log/dovecot.log format dovecot tz Europe/Rome',
  ],
  exitCodes: [
    '4: a file cannot be read, is not a log importLog can read (no usable line, or more malformed lines than usable ones), or the store failed (a few malformed lines do not stop the import; they are counted and named)',
  ],
  run: async (ctx, { positionals: files, attrs }) => {
    const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
    if (E.isLeft(dry)) throw usage(dry.left)
    const zone = attrs.tz ?? ctx.zone
    const z = validZone(zone)
    if (E.isLeft(z)) throw fromDateError(z.left)
    const account = attrs.account === undefined ? undefined : parseAccountId(attrs.account)
    if (attrs.account !== undefined && account === undefined) throw usage(`not a valid account name: ${JSON.stringify(attrs.account)}`)
    const b = await ctx.backend()
    const format = attrs.format === undefined || attrs.format === 'auto' ? await detectFormat(files[0] ?? '') : attrs.format
    ctx.progress.start('importing', 100)
    const r = await (format === 'dovecot' ? importMailLogs : importMailboxLogs)(b.store, b.index, {
      files,
      zone,
      ...(account !== undefined && { account }),
      dryRun: dry.right,
      now: ctx.now(),
      onProgress: (done, total) => ctx.progress.update(Math.floor((100 * done) / Math.max(total, 1))),
      ...(dry.right &&
        ctx.settings.json && {
          onDryEvent: (e, name) =>
            ctx.emitLine(
              stableStringify(
                {
                  account: e.accountId,
                  type: e.type,
                  itemId: isItemEvent(e) ? e.itemId : null,
                  itemType: 'itemType' in e ? (e.itemType ?? null) : null,
                  folderId: e.type === 'ItemCreated' || e.type === 'ItemMoved' ? e.folderId : undefined,
                  occurredAt: isoInZone(e.occurredAt, zone),
                  eventId: e.eventId,
                  source: { file: name, line: e.source.line },
                },
                0,
              ),
            ),
        }),
    })
    ctx.progress.stop()
    if (E.isLeft(r)) {
      if (r.left._tag === 'Store') throw fromStoreError(r.left.error)
      if (r.left._tag === 'Unusable') throw new CliFailure(unusableMessage(r.left, format), ExitCode.STORE)
      throw new CliFailure(`cannot read ${r.left.file}: ${r.left.reason}`, ExitCode.STORE)
    }
    const s = r.right
    return {
      json: dry.right ? { summary: true, ...summaryJson(s, true, format) } : summaryJson(s, false, format),
      jsonLine: dry.right,
      text: [
        `${dry.right ? 'dry run: ' : ''}${s.linesRead} lines, ${s.records} records: ${s.events} events, ${dry.right ? `${s.events - s.duplicates} would be appended` : `${s.appended} appended`}, ${s.duplicates} already recorded, ${s.malformed} malformed`,
        table([
          ['event', 'count'],
          ...Object.entries(s.byType)
            .sort()
            .map(([k, v]) => [k, String(v)]),
        ]),
        table([
          ['skipped', 'count'],
          ...Object.entries(s.skipped)
            .sort()
            .map(([k, v]) => [k, String(v)]),
        ]),
        ...s.malformedSamples.slice(0, 20).map((m) => `malformed ${m.file}:${m.line}: ${m.reason}`),
        ...s.notes.slice(0, 20).map((n) => `note ${n.file}:${n.line}: ${n.note}`),
        ...(s.dstAdjusted > 0 ? [`${s.dstAdjusted} line(s) fell in a DST gap or overlap of ${zone}; they were read with the later offset`] : []),
      ].join('\n'),
    }
  },
}
