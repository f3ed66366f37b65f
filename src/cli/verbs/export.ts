/**
 * `exportHistory` writes the verifiable full history of an account (see src/export/exportHistory.ts);
 * `verifyExport` checks one. An export is written into `<dest>.partial` and renamed when complete,
 * so an interrupted export never looks finished; running the command again starts it over.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { exportHistory } from '../../app/export'
import { verifyExport } from '../../export/verifyExport'
import { unzipTo } from '../../export/zip'
import { appDeps } from '../appDeps'
import { CliFailure, ExitCode, OUTCOME_EXIT_CODE, orExit } from '../failure'
import { faultAfter } from '../../wiring/faults'
import type { Verb } from '../grammar'
import { human } from '../render'

export const exportHistoryVerb: Verb = {
  name: 'exportHistory',
  summary: "Exports an account's complete history, verifiably: every message body once, the timeline with a hash chain, states, an MBOX per folder, and a manifest of hashes.",
  positionals: [{ name: 'account', help: 'account name' }],
  attributes: [
    { name: 'from', help: '"dd/MM/yyyy HH:mm:ss" or first (default): the first state written' },
    { name: 'to', help: '"dd/MM/yyyy HH:mm:ss" or last (default): the last state, and the MBOX instant' },
    { name: 'at', help: 'more instants to write states for, comma separated' },
    { name: 'format', help: 'dir (default) or zip', values: ['dir', 'zip'] },
    { name: 'dest', help: 'where to write (default ./mailtime-export-<account>-<time>[.zip])' },
    { name: 'force', help: 'true: write into a directory that is not empty' },
    { name: 'dry_run', help: 'true: say what would be exported (changes, live items and folders at to, states, dest) and write nothing' },
  ],
  examples: [
    'mailtime exportHistory alice@example.com dest /srv/legal/case-117',
    'mailtime exportHistory alice@example.com from "01/03/2026 00:00:00" to last at "03/03/2026 14:02:00" format zip',
  ],
  exitCodes: ['2: dest is not empty (force true overrides), or from/at are after to'],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    // Test-only (faults.ts): MAILTIME_FAULT=kill-after-step:N.
    const afterStep = faultAfter(ctx.settings.test.fault, 'step')
    const r = orExit(
      await exportHistory(
        appDeps(ctx),
        {
          account: raw,
          ...(attrs.from !== undefined && { from: attrs.from }),
          ...(attrs.to !== undefined && { to: attrs.to }),
          ...(attrs.at !== undefined && { at: attrs.at }),
          ...(attrs.format !== undefined && { format: attrs.format === 'zip' ? 'zip' : 'dir' }),
          ...(attrs.dest !== undefined && { dest: attrs.dest }),
          ...(attrs.force !== undefined && { force: attrs.force }),
          ...(attrs.dry_run !== undefined && { dryRun: attrs.dry_run }),
        },
        afterStep === undefined ? {} : { afterStep },
      ),
    )
    if (r.kind === 'already') return { json: r.json, text: `${r.dest} already holds this export, and it verifies: ${r.events} events, ${r.files} files, timeline head ${r.head}` }
    if (r.kind === 'dryRun')
      return {
        json: r.json,
        text: `dry run: nothing written\nwould export ${r.account} to ${r.dest}: ${r.itemChanges} item changes up to ${human(r.to, ctx.zone)}, ${r.liveItemsAtTo} items in ${r.foldersAtTo} folders then, states at ${r.states.map((t) => human(t, ctx.zone)).join(', ')}`,
      }
    return {
      json: r.json,
      text: [
        `exported ${r.account} to ${r.dest}: ${r.events} events, ${r.files} files, ${(r.bytes / 1e6).toFixed(1)} MB`,
        `timeline head ${r.head}`,
        ...r.missing.map((m) => `content ${m.digest} not exported: ${m.reason}`),
        `verify with: mailtime verifyExport ${r.dest}`,
      ].join('\n'),
      exitCode: OUTCOME_EXIT_CODE[r.outcome],
    }
  },
}

export const verifyExportVerb: Verb = {
  name: 'verifyExport',
  summary: "Verifies an export: the timeline's hash chain, every file's SHA-256, and the states against a replay of the timeline; names the first discrepancy.",
  positionals: [{ name: 'path', help: 'the export directory or .zip' }],
  attributes: [],
  examples: ['mailtime verifyExport /srv/legal/case-117'],
  exitCodes: ['8: the export does not verify (the first discrepancy is named)', '3: no such path'],
  run: async (ctx, { positionals: [p = ''] }) => {
    if (!fs.existsSync(p)) throw new CliFailure(`${p}: no such export`, ExitCode.NOT_FOUND)
    let dir = p
    let tmp: string | undefined
    if (fs.statSync(p).isFile()) {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-verify-'))
      await unzipTo(p, tmp).catch((e: Error) => {
        throw new CliFailure(`${p}: not a readable export zip (${e.message})`, ExitCode.VERIFY)
      })
      dir = tmp
    }
    try {
      const r = await verifyExport(dir)
      if (E.isLeft(r)) throw new CliFailure(`${p}: does not verify: ${r.left}`, ExitCode.VERIFY)
      return {
        json: { path: p, verified: true, ...r.right },
        text: `${p}: verified (${r.right.events} events in an unbroken chain, ${r.right.files} files, ${r.right.states} states equal to the replayed timeline)`,
      }
    } finally {
      if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true })
    }
  },
}
