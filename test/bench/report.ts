/**
 * The bench's report, as data and as the results region of docs/performance.md: each row's runs
 * reduced to the median run and how many met the goal, and the region rewritten so that a run of
 * some rows replaces those rows only (the others, and everything outside the region, stay as they
 * are). Pure; run.ts does the I/O.
 */
import { fmt } from './measure'
import type { RowResult } from './row'

/** Where and how a row was measured. */
export interface RunInfo {
  /** ISO-8601 instant at which the row's runs ended. */
  readonly at: string
  /** Commit of the code measured, `+changes` when the work tree differed from it. */
  readonly commit: string
  readonly machine: string
  readonly command: string
  readonly scale: number
}

export interface ReportLine {
  readonly what: string
  readonly ours: string
  readonly baseline: string
  readonly ratio: string
  readonly goal: string
  readonly met: string
  readonly runs: string
}

export interface RowReport {
  readonly name: string
  readonly lines: readonly ReportLine[]
  readonly peakRssMB: number
  readonly info: RunInfo
}

/** Index of the median of the values (the lower one of an even count); NaN values count as the lowest. */
export const medianIndex = (values: readonly number[]): number => {
  const order = values.map((v, i) => ({ v: Number.isNaN(v) ? -Infinity : v, i })).sort((a, b) => a.v - b.v || a.i - b.i)
  return order[Math.floor((order.length - 1) / 2)]?.i ?? 0
}

const ratioText = (r: number): string => (Number.isFinite(r) ? `${fmt(r, 2)}×` : '')

/**
 * The runs of one row reduced to its report lines: for each line, the run whose figure (or ratio) is
 * the median is shown, with every run's figure, and a goal line says in how many runs it was met.
 * Below full size (`scale` < 1) a goal is not judged: the goals are set for the full data.
 */
export const summarize = (name: string, runs: readonly RowResult[], info: RunInfo): RowReport => {
  if (runs.length === 0) throw new Error(`row ${name}: no run to report`)
  const first = runs[0] as RowResult
  const lines = first.rows.map((_, i): ReportLine => {
    const all = runs.map((r) => r.rows[i]).filter((l) => l !== undefined)
    const m = all[medianIndex(all.map((l) => l.figure?.value ?? l.ratio))] ?? first.rows[i]
    if (m === undefined) throw new Error(`row ${name}: line ${i} missing`)
    const isGoal = all.some((l) => l.pass !== undefined)
    const met = all.filter((l) => l.pass === true).length
    return {
      what: m.what,
      ours: m.ours,
      baseline: m.baseline,
      ratio: ratioText(m.ratio),
      goal: m.goal,
      met: !isGoal ? '' : info.scale < 1 ? `not judged (scale ${info.scale})` : `${met} of ${all.length}`,
      runs: all.length < 2 || all.every((l) => l.figure === undefined && !Number.isFinite(l.ratio)) ? '' : all.map((l) => l.figure?.text ?? ratioText(l.ratio)).join(', '),
    }
  })
  return { name, lines, peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)), info }
}

export const REGION_START = '<!-- bench:results: written by `npm run bench`; a run replaces the rows it ran, nothing else -->'
export const REGION_END = '<!-- /bench:results -->'

const RESULT_HEADER = ['row', 'measure', 'Mailtime (median run)', 'baseline (same run)', 'ratio', 'goal', 'met', 'runs', 'peak RSS']
const RUN_HEADER = ['row', 'ended (UTC)', 'commit', 'machine', 'command', 'size']

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const tableLine = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`
const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim())

export const sizeText = (scale: number): string => (scale === 1 ? 'full' : `scale ${scale} (a check of the bench, not a figure to quote)`)

/** A row's lines in the results table, and its line in the runs table. */
const rendered = (r: RowReport): { lines: string[]; run: string } => ({
  lines: r.lines.map((l, i) => tableLine([i === 0 ? r.name : '', l.what, l.ours, l.baseline, l.ratio, l.goal, l.met, l.runs, i === 0 ? `${fmt(r.peakRssMB)} MB` : ''])),
  run: tableLine([r.name, r.info.at.replace('T', ' ').replace(/\.\d+Z$/, ''), r.info.commit, r.info.machine, r.info.command, sizeText(r.info.scale)]),
})

interface Region {
  readonly lines: Map<string, string[]>
  readonly runs: Map<string, string>
}

/** The rows already in the region, by name: the results table's lines of each and its runs line. */
export const parseRegion = (text: string): Region => {
  const lines = new Map<string, string[]>()
  const runs = new Map<string, string>()
  let table: 'results' | 'runs' | undefined
  let current: string | undefined
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      table = undefined
      continue
    }
    const cells = cellsOf(line)
    if (cells[1] === RESULT_HEADER[1]) table = 'results'
    else if (cells[1] === RUN_HEADER[1]) table = 'runs'
    else if (cells.every((c) => /^-+$/.test(c))) continue
    else if (table === 'results') {
      if ((cells[0] ?? '') !== '') current = cells[0] as string
      if (current !== undefined) lines.set(current, [...(lines.get(current) ?? []), line])
    } else if (table === 'runs' && (cells[0] ?? '') !== '') runs.set(cells[0] as string, line)
  }
  return { lines, runs }
}

/**
 * The document with the reported rows replaced (or added) in its results region, rows in `order`
 * (rows not in it keep their place after those), or why it cannot be written.
 */
export const replaceRows = (doc: string, reports: readonly RowReport[], order: readonly string[]): { ok: true; doc: string } | { ok: false; error: string } => {
  const start = doc.indexOf(REGION_START)
  const end = doc.indexOf(REGION_END)
  if (start < 0 || end < start) return { ok: false, error: `no results region (${REGION_START} … ${REGION_END})` }
  const old = parseRegion(doc.slice(start + REGION_START.length, end))
  for (const r of reports) {
    const x = rendered(r)
    old.lines.set(r.name, x.lines)
    old.runs.set(r.name, x.run)
  }
  const names = [...order.filter((n) => old.lines.has(n)), ...[...old.lines.keys()].filter((n) => !order.includes(n))]
  const region = [
    REGION_START,
    '',
    tableLine(RESULT_HEADER),
    tableLine(RESULT_HEADER.map(() => '---')),
    ...names.flatMap((n) => old.lines.get(n) ?? []),
    '',
    tableLine(RUN_HEADER),
    tableLine(RUN_HEADER.map(() => '---')),
    ...names.flatMap((n) => old.runs.get(n) ?? []),
    '',
    REGION_END,
  ].join('\n')
  return { ok: true, doc: doc.slice(0, start) + region + doc.slice(end + REGION_END.length) }
}
