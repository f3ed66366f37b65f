/**
 * `exportHistory` writes the verifiable full history of an account (see src/export/exportHistory.ts);
 * `verifyExport` checks one. An export is written into `<dest>.partial` and renamed when complete,
 * so an interrupted export never looks finished; running the command again starts it over.
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { MAX_INSTANT, type Instant } from '../../../domain/instant'
import { findAccount } from '../../app/accounts'
import { exportHistory } from '../../export/exportHistory'
import { ManifestCodec, verifyExport } from '../../export/verifyExport'
import { unzipTo, zipDirectory } from '../../export/zip'
import { recorded } from '../../app/operations'
import { appDeps } from '../appDeps'
import { CliFailure, ExitCode, usage } from '../failure'
import { faultAfter } from '../faults'
import { booleanAttr, type Output, type Verb } from '../grammar'
import { foundOrFail, human, must, when } from '../render'
import { instantArg } from '../dateArgs'

import { VERSION } from '../../version'

/**
 * When `dest` already holds an export with these exact parameters that verifies, the report of it:
 * a run killed after its last rename (before it could print) is then finished, and running the
 * command again is idempotent. Anything else in `dest` is left alone and refused by the caller.
 */
const sameExport = async (dest: string, p: { account: string; from: number; to: number; at: number[] }): Promise<Output | undefined> => {
  const file = path.join(dest, 'manifest.json')
  if (!fs.existsSync(file)) return undefined
  const m = ManifestCodec.decode(JSON.parse(fs.readFileSync(file, 'utf8')) as unknown)
  if (E.isLeft(m)) return undefined
  const iso = (t: number) => new Date(t).toISOString()
  const q = m.right.parameters
  if (q.account !== p.account || q.from !== iso(p.from) || q.to !== iso(p.to) || q.at.join(',') !== p.at.map(iso).join(',')) return undefined
  const v = await verifyExport(dest)
  if (E.isLeft(v)) return undefined
  const bytes = m.right.files.reduce((n, f) => n + f.size, 0)
  return {
    json: { alreadyExported: true, dest, format: 'dir', events: m.right.timeline.events, files: m.right.files.length, bytes, head: m.right.timeline.head, missing: [] },
    text: `${dest} already holds this export, and it verifies: ${m.right.timeline.events} events, ${m.right.files.length} files, timeline head ${m.right.timeline.head}`,
  }
}

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
  examples: ['mailtime exportHistory alice@example.com dest /srv/legal/case-117', 'mailtime exportHistory alice@example.com from "01/03/2026 00:00:00" to last at "03/03/2026 14:02:00" format zip'],
  exitCodes: ['2: dest is not empty (force true overrides), or from/at are after to'],
  run: async (ctx, { positionals: [raw = ''], attrs }) => {
    const b = await ctx.backend()
    const account = foundOrFail(raw, await must(findAccount(b, raw)))
    const from = attrs.from === undefined ? (0 as Instant) : instantArg(attrs.from, ctx.zone, 'from', { first: true })
    const toRaw = attrs.to === undefined ? (MAX_INSTANT as Instant) : instantArg(attrs.to, ctx.zone, 'to', { last: true })
    const to = Math.min(toRaw, ctx.now()) as Instant
    const at = (attrs.at ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => instantArg(s, ctx.zone, 'at'))
    if (from > to) throw usage('exportHistory: from is after to')
    const late = at.find((t) => t > to)
    if (late !== undefined) throw usage(`exportHistory: at ${human(late, ctx.zone)} is after to`)
    const force = booleanAttr(attrs.force, 'force', false)
    if (E.isLeft(force)) throw usage(force.left)
    const dry = booleanAttr(attrs.dry_run, 'dry_run', false)
    if (E.isLeft(dry)) throw usage(dry.left)
    const zip = attrs.format === 'zip'
    const stamp = new Date(ctx.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)
    const dest = path.resolve(attrs.dest ?? `mailtime-export-${account.replace(/[^A-Za-z0-9.@_-]/g, '_')}-${stamp}${zip ? '.zip' : ''}`)
    if (fs.existsSync(dest)) {
      const empty = fs.statSync(dest).isDirectory() && fs.readdirSync(dest).length === 0
      if (!empty && !(force.right && !zip)) {
        // The same export, finished by a run killed before it could report: verified, not written again.
        const done = !zip && !dry.right ? await sameExport(dest, { account, from, to, at }) : undefined
        if (done !== undefined) return done
        throw usage(`exportHistory: ${dest} exists and is not empty (give another dest, or force true to write into it)`)
      }
    }
    if (dry.right) {
      const changes = await must(b.index.changesBetween(account, { from: 0 as Instant, to }))
      const live = await must(b.index.liveItemsAsOf(account, { validAt: to }))
      const folders = live.filter((i) => i.itemType === 'folder').length
      const preview = {
        dryRun: true,
        account,
        dest,
        format: zip ? 'zip' : 'dir',
        from: when(from, ctx.zone),
        to: when(to, ctx.zone),
        states: [from, to, ...at].map((t) => when(t, ctx.zone)),
        itemChanges: changes.length,
        liveItemsAtTo: live.length - folders,
        foldersAtTo: folders,
      }
      return {
        json: preview,
        text: `dry run: nothing written\nwould export ${account} to ${dest}: ${preview.itemChanges} item changes up to ${human(to, ctx.zone)}, ${preview.liveItemsAtTo} items in ${folders} folders then, states at ${[from, to, ...at].map((t) => human(t, ctx.zone)).join(', ')}`,
      }
    }
    // Test-only (faults.ts): MAILTIME_FAULT=kill-after-step:N.
    const fault = faultAfter(ctx.settings.test.fault, 'step')
    let steps = 0
    const afterStep = fault === undefined ? undefined : () => fault(++steps)
    const work = zip ? fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-export-')) : `${dest}.partial`
    fs.rmSync(work, { recursive: true, force: true })
    fs.mkdirSync(work, { recursive: true })
    ctx.progress.start(`exporting ${account}`, 0)
    const { operationId, result: manifest } = await recorded(
      appDeps(ctx),
      { kind: 'export', verb: 'exportHistory', params: { account, ...attrs } },
      async () => {
        const m = await exportHistory(b, work, { account, from, to, at, toolVersion: VERSION, createdAt: ctx.now(), ...(afterStep !== undefined && { afterStep }) }, (d, n) => ctx.progress.update(d, `${n}`))
          if (zip) {
            await zipDirectory(work, dest)
            fs.rmSync(work, { recursive: true, force: true })
          } else {
            if (fs.existsSync(dest)) {
              for (const f of fs.readdirSync(work)) fs.renameSync(path.join(work, f), path.join(dest, f))
              fs.rmdirSync(work)
            } else fs.renameSync(work, dest)
          }
          await afterStep?.()
          return { result: m, status: 'done', counts: { events: m.timeline.events, files: m.files.length, missing: m.missing.length } }
      },
    )
    ctx.progress.stop()
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0)
    return {
      json: { operationId, dest, format: zip ? 'zip' : 'dir', events: manifest.timeline.events, files: manifest.files.length, bytes, head: manifest.timeline.head, missing: manifest.missing },
      text: [
        `exported ${account} to ${dest}: ${manifest.timeline.events} events, ${manifest.files.length} files, ${(bytes / 1e6).toFixed(1)} MB`,
        `timeline head ${manifest.timeline.head}`,
        ...manifest.missing.map((m) => `content ${m.digest} not exported: ${m.reason}`),
        `verify with: mailtime verifyExport ${dest}`,
      ].join('\n'),
      exitCode: manifest.missing.length > 0 ? ExitCode.PARTIAL : ExitCode.OK,
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
      return { json: { path: p, verified: true, ...r.right }, text: `${p}: verified (${r.right.events} events in an unbroken chain, ${r.right.files} files, ${r.right.states} states equal to the replayed timeline)` }
    } finally {
      if (tmp !== undefined) fs.rmSync(tmp, { recursive: true, force: true })
    }
  },
}
