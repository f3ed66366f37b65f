/**
 * `npm run bench`: runs benchmark rows, each run in its own process (so each reports its own peak
 * memory), prints their table, and replaces those rows in docs/performance.md (report.ts): a row
 * with a goal runs at least three times and reports its median run and in how many runs the goal
 * was met; each row records when it ran, the commit, the machine and the command.
 *
 *   npm run bench                        every row at full size (100,000 items, 1,000,000 events)
 *   npm run bench -- --rows asof,export  only these rows (asof reads the store the append row wrote)
 *   npm run bench -- --runs 5            runs per row with a goal (at least 3; rows without one run once)
 *   npm run bench -- --quick             a tenth of the size (--scale 0.1): a check of the bench,
 *                                        recorded as such, its goals not judged
 *   npm run bench -- --scale 0.02        any fraction of the size
 *   npm run bench -- --no-write          print only
 *   npm run bench -- --rows dav          CardDAV/CalDAV capture (10,000 contacts + 10,000 events in Radicale)
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import type { RowParams, RowResult, RowSpec } from './row'
import { appendRow, asOfRow } from './rows/core'
import { logImportRow } from './rows/logImport'
import { restoreRow } from './rows/restore'
import { exportRow } from './rows/export'
import { pgStoreRow } from './rows/pgStore'
import { davRow } from './rows/dav'
import { REGION_END, REGION_START, type RowReport, replaceRows, sizeText, summarize } from './report'

const ROWS: readonly RowSpec[] = [appendRow, asOfRow, logImportRow, restoreRow, exportRow, pgStoreRow, davRow]
const ROOT = path.join(__dirname, '..', '..', '..')
const DOC = path.join(ROOT, 'docs', 'performance.md')

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}

const child = async (): Promise<void> => {
  const row = ROWS.find((r) => r.name === arg('--row'))
  if (row === undefined) throw new Error(`unknown row ${arg('--row')}`)
  const params = JSON.parse(arg('--params') ?? '{}') as RowParams
  const result = await row.run(params)
  process.stdout.write(`\nBENCH-RESULT ${JSON.stringify(result)}\n`)
}

const git = (...args: string[]): string | undefined => {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** What the figures depend on: the code and its dependencies, not the docs (which the bench itself writes). */
const CODE = ['domain', 'projections', 'src', 'test/bench', 'test/support', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']

/** The commit measured; `+changes` when the code differs from it (the figures are then of code no commit holds). */
const commit = (): string => {
  const head = git('rev-parse', '--short', 'HEAD')
  if (head === undefined) return 'unknown (not a git work tree)'
  return git('status', '--porcelain', '--', ...CODE) === '' ? head : `${head}+changes`
}

const machine = (): string =>
  `${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg()[0]?.toFixed(1)} at start, Node ${process.version}, ${os.platform()} ${os.release()}`

const usage = (message: string): never => {
  process.stderr.write(`bench: ${message}\n`)
  process.exit(2)
}

const parent = (): void => {
  const scale = process.argv.includes('--quick') ? 0.1 : Number(arg('--scale') ?? '1')
  if (!(scale > 0 && scale <= 1)) usage(`--scale must be in (0, 1], got ${arg('--scale')}`)
  const runsArg = arg('--runs')
  const runs = runsArg === undefined ? undefined : Number(runsArg)
  if (runs !== undefined && !(Number.isInteger(runs) && runs >= 1)) usage(`--runs must be a positive integer, got ${runsArg}`)
  const only = arg('--rows')?.split(',')
  const unknown = only?.filter((n) => !ROWS.some((r) => r.name === n)) ?? []
  if (unknown.length > 0) usage(`unknown row(s) ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.name).join(', ')}`)
  const write = !process.argv.includes('--no-write')
  const data = path.resolve(arg('--data') ?? path.join(os.tmpdir(), 'mailtime-bench'))
  fs.mkdirSync(data, { recursive: true })
  const params: RowParams = {
    data,
    scale,
    items: Math.round(100_000 * scale),
    events: Math.round(1_000_000 * scale),
    samples: scale >= 1 ? 100 : 30,
    replaySamples: 3,
  }
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')
  const host = machine()
  const code = commit()
  process.stderr.write(`bench: ${sizeText(scale)}, commit ${code}, ${host}\n`)
  const reports: RowReport[] = []
  for (const spec of ROWS.filter((r) => only === undefined || only.includes(r.name))) {
    const n = spec.hasGoal ? Math.max(3, runs ?? 3) : (runs ?? 1)
    const results: RowResult[] = []
    for (let k = 1; k <= n; k++) {
      process.stderr.write(`bench: ${spec.title} (run ${k} of ${n})…\n`)
      const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--row', spec.name, '--params', JSON.stringify(params)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 64 * 1024 * 1024,
      })
      const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH-RESULT '))
      if (r.status !== 0 || line === undefined) {
        process.stderr.write(`bench: row ${spec.name} failed in run ${k} (exit ${r.status}); its rows in the doc are left as they were\n${r.stdout}\n`)
        process.exitCode = 1
        break
      }
      results.push(JSON.parse(line.slice('BENCH-RESULT '.length)) as RowResult)
    }
    if (results.length < n) continue
    const report = summarize(spec.name, results, { at: new Date().toISOString(), commit: code, machine: host, command, scale })
    reports.push(report)
    // Written after each row, so that a long run stopped midway keeps the rows it finished.
    if (write) {
      const w = replaceRows(
        fs.readFileSync(DOC, 'utf8'),
        [report],
        ROWS.map((r) => r.name),
      )
      if (!w.ok) {
        process.stderr.write(`bench: cannot write ${DOC}: ${w.error}\n`)
        process.exitCode = 1
      } else {
        fs.writeFileSync(DOC, w.doc)
        process.stderr.write(`bench: wrote the ${spec.name} rows in ${DOC}\n`)
      }
    }
  }
  const printed = replaceRows(
    `${REGION_START}\n${REGION_END}`,
    reports,
    ROWS.map((r) => r.name),
  )
  if (printed.ok)
    process.stdout.write(
      `${printed.doc
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .join('\n')}\n`,
    )
}

if (process.argv.includes('--row')) {
  child().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
    process.exit(1)
  })
} else parent()
