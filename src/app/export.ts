/**
 * The legal export as a use case: the verifiable full history of an account (src/export/
 * exportHistory.ts) written into `<dest>.partial` and renamed when complete (so an interrupted export
 * never looks finished), or zipped; recorded as an operation. A dry run says what would be written.
 * An export that `dest` already holds, with these parameters, and that verifies is reported, not
 * written again (a run killed after its last rename is then finished).
 */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { MAX_INSTANT, type Instant } from '../../domain/instant'
import { exportHistory as writeExport } from '../export/exportHistory'
import { ManifestCodec, verifyExport } from '../export/verifyExport'
import { zipDirectory } from '../export/zip'
import { formatInstant } from '../time/dates'
import { VERSION } from '../version'
import { type AppError, type Outcome, attempt, fail, usageError } from './errors'
import { when } from './json'
import { recorded } from './operations'
import type { AppDeps } from './ports'
import { booleanWord, instantArg, must, resolveAccount } from './support'

export interface ExportRequest {
  readonly account: string
  readonly from?: string
  readonly to?: string
  /** More instants to write states for, comma separated. */
  readonly at?: string
  readonly format?: 'dir' | 'zip'
  readonly dest?: string
  readonly force?: string
  readonly dryRun?: string
}

export type ExportResult =
  | {
      readonly kind: 'already'
      readonly outcome: 'done'
      readonly json: Record<string, unknown>
      readonly dest: string
      readonly events: number
      readonly files: number
      readonly head: string
    }
  | {
      readonly kind: 'dryRun'
      readonly outcome: 'done'
      readonly json: Record<string, unknown>
      readonly account: AccountId
      readonly dest: string
      readonly itemChanges: number
      readonly liveItemsAtTo: number
      readonly foldersAtTo: number
      readonly states: readonly number[]
      readonly to: number
    }
  | {
      readonly kind: 'written'
      readonly outcome: Outcome
      readonly json: Record<string, unknown>
      readonly account: AccountId
      readonly dest: string
      readonly events: number
      readonly files: number
      readonly bytes: number
      readonly head: string
      readonly missing: readonly { readonly digest: string; readonly reason: string }[]
    }

const sameExport = async (dest: string, p: { account: string; from: number; to: number; at: number[] }): Promise<ExportResult | undefined> => {
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
    kind: 'already',
    outcome: 'done',
    dest,
    events: m.right.timeline.events,
    files: m.right.files.length,
    head: m.right.timeline.head,
    json: { alreadyExported: true, dest, format: 'dir', events: m.right.timeline.events, files: m.right.files.length, bytes, head: m.right.timeline.head, missing: [] },
  }
}

/** `afterStep`: the test-only fault hook after each step (MAILTIME_FAULT=kill-after-step:N). */
export const exportHistory = (deps: AppDeps, req: ExportRequest, hooks: { readonly afterStep?: (step: number) => Promise<void> } = {}): Promise<E.Either<AppError, ExportResult>> =>
  attempt(async () => {
    const b = await deps.backend()
    const account = await resolveAccount(b, req.account)
    const from = req.from === undefined ? (0 as Instant) : instantArg(req.from, deps.zone, 'from', { first: true })
    const toRaw = req.to === undefined ? (MAX_INSTANT as Instant) : instantArg(req.to, deps.zone, 'to', { last: true })
    const to = Math.min(toRaw, deps.now()) as Instant
    const at = (req.at ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map((s) => instantArg(s, deps.zone, 'at'))
    if (from > to) fail(usageError('exportHistory: from is after to'))
    const late = at.find((t) => t > to)
    if (late !== undefined) fail(usageError(`exportHistory: at ${formatInstant(late, deps.zone)} is after to`))
    const force = booleanWord(req.force, 'force', false)
    const dry = booleanWord(req.dryRun, 'dry_run', false)
    const zip = req.format === 'zip'
    const stamp = new Date(deps.now()).toISOString().replace(/[-:]/g, '').slice(0, 15)
    const dest = path.resolve(req.dest ?? `mailtime-export-${account.replace(/[^A-Za-z0-9.@_-]/g, '_')}-${stamp}${zip ? '.zip' : ''}`)
    if (fs.existsSync(dest)) {
      const empty = fs.statSync(dest).isDirectory() && fs.readdirSync(dest).length === 0
      if (!empty && !(force && !zip)) {
        // The same export, finished by a run killed before it could report: verified, not written again.
        const done = !zip && !dry ? await sameExport(dest, { account, from, to, at }) : undefined
        if (done !== undefined) return done
        fail(usageError(`exportHistory: ${dest} exists and is not empty (give another dest, or force true to write into it)`))
      }
    }
    if (dry) {
      const changes = await must(b.index.changesBetween(account, { from: 0 as Instant, to }))
      const live = await must(b.index.liveItemsAsOf(account, { validAt: to }))
      const folders = live.filter((i) => i.itemType === 'folder').length
      const states = [from, to, ...at]
      const preview = {
        dryRun: true,
        account,
        dest,
        format: zip ? 'zip' : 'dir',
        from: when(from, deps.zone),
        to: when(to, deps.zone),
        states: states.map((t) => when(t, deps.zone)),
        itemChanges: changes.length,
        liveItemsAtTo: live.length - folders,
        foldersAtTo: folders,
      }
      return {
        kind: 'dryRun',
        outcome: 'done',
        json: preview,
        account,
        dest,
        itemChanges: preview.itemChanges,
        liveItemsAtTo: preview.liveItemsAtTo,
        foldersAtTo: folders,
        states,
        to,
      }
    }
    let steps = 0
    const afterStep = hooks.afterStep === undefined ? undefined : () => (hooks.afterStep as (n: number) => Promise<void>)(++steps)
    const work = zip ? fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-export-')) : `${dest}.partial`
    fs.rmSync(work, { recursive: true, force: true })
    fs.mkdirSync(work, { recursive: true })
    deps.progress.start(`exporting ${account}`, 0)
    const params: Record<string, string> = {
      account,
      ...(req.from !== undefined && { from: req.from }),
      ...(req.to !== undefined && { to: req.to }),
      ...(req.at !== undefined && { at: req.at }),
      ...(req.format !== undefined && { format: req.format }),
      ...(req.dest !== undefined && { dest: req.dest }),
      ...(req.force !== undefined && { force: req.force }),
      ...(req.dryRun !== undefined && { dry_run: req.dryRun }),
    }
    const { operationId, result: manifest } = await recorded(deps, { kind: 'export', verb: 'exportHistory', params }, async () => {
      const m = await writeExport(b, work, { account, from, to, at, toolVersion: VERSION, createdAt: deps.now(), ...(afterStep !== undefined && { afterStep }) }, (d, n) =>
        deps.progress.update(d, `${n}`),
      )
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
    })
    deps.progress.stop()
    const bytes = manifest.files.reduce((n, f) => n + f.size, 0)
    return {
      kind: 'written',
      outcome: manifest.missing.length > 0 ? 'partial' : 'done',
      account,
      dest,
      events: manifest.timeline.events,
      files: manifest.files.length,
      bytes,
      head: manifest.timeline.head,
      missing: manifest.missing,
      json: {
        operationId,
        dest,
        format: zip ? 'zip' : 'dir',
        events: manifest.timeline.events,
        files: manifest.files.length,
        bytes,
        head: manifest.timeline.head,
        missing: manifest.missing,
      },
    }
  })
