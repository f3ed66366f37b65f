/**
 * `npm run bench`: runs every benchmark row in its own process (so each reports its own peak
 * memory), prints a table, and writes docs/performance.md.
 *
 *   npm run bench                    full size (100,000 items, 1,000,000 events)
 *   npm run bench -- --quick         a tenth of that, for a quick look (does not write the doc)
 *   npm run bench -- --rows asof     only some rows (the data of earlier rows must exist)
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
import { fmt } from './measure'

const ROWS: readonly RowSpec[] = [appendRow, asOfRow, logImportRow, restoreRow, exportRow, pgStoreRow]

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

const parent = (): void => {
  const quick = process.argv.includes('--quick')
  const only = arg('--rows')?.split(',')
  const data = path.resolve(arg('--data') ?? path.join(os.tmpdir(), 'mailtime-bench'))
  fs.mkdirSync(data, { recursive: true })
  const params: RowParams = quick
    ? { data, items: 10_000, events: 100_000, samples: 30, replaySamples: 3 }
    : { data, items: 100_000, events: 1_000_000, samples: 100, replaySamples: 3 }
  const results: { spec: RowSpec; result: RowResult }[] = []
  for (const spec of ROWS.filter((r) => only === undefined || only.includes(r.name))) {
    process.stderr.write(`bench: ${spec.title}…\n`)
    const r = spawnSync(process.execPath, ['--expose-gc', __filename, '--row', spec.name, '--params', JSON.stringify(params)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    })
    const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH-RESULT '))
    if (r.status !== 0 || line === undefined) {
      process.stderr.write(`bench: row ${spec.name} failed (exit ${r.status})\n${r.stdout}\n`)
      process.exitCode = 1
      continue
    }
    results.push({ spec, result: JSON.parse(line.slice('BENCH-RESULT '.length)) as RowResult })
  }
  const header = ['row', 'measure', 'Mailtime', 'baseline (same run)', 'ratio', 'goal', 'met', 'peak RSS']
  const lines = results.flatMap(({ spec, result }) =>
    result.rows.map((l, i) => [
      i === 0 ? spec.name : '',
      l.what,
      l.ours,
      l.baseline,
      Number.isFinite(l.ratio) ? `${fmt(l.ratio, 2)}×` : '',
      l.goal,
      l.pass === undefined ? '' : l.pass ? 'yes' : 'NO',
      i === 0 ? `${fmt(result.peakRssMB)} MB` : '',
    ]),
  )
  const md = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...lines.map((l) => `| ${l.join(' | ')} |`)].join('\n')
  process.stdout.write(`\n${md}\n`)
  if (quick || only !== undefined) return
  const doc = path.join(__dirname, '..', '..', '..', 'docs', 'performance.md')
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`
  const existing = fs.existsSync(doc) ? fs.readFileSync(doc, 'utf8') : ''
  const notes = existing.includes('<!-- notes -->') ? existing.slice(existing.indexOf('<!-- notes -->')) : '<!-- notes -->\n'
  fs.writeFileSync(
    doc,
    [
      '# Performance',
      '',
      'Every figure below comes from `npm run bench`, which wrote this file. Each row compares Mailtime with a',
      'baseline measured in the same run on the same data; ratios above 1 mean Mailtime is faster.',
      '',
      `- Run: ${new Date().toISOString()}`,
      `- Machine: ${machine}`,
      `- Data: ${params.items.toLocaleString('en-US')} items, ${params.events.toLocaleString('en-US')} events in one account; ${params.samples} random instants for the index, ${params.replaySamples} for the replay`,
      '',
      md,
      '',
      notes.trimEnd(),
      '',
    ].join('\n'),
  )
  process.stderr.write(`bench: wrote ${doc}\n`)
}

if (process.argv.includes('--row')) {
  child().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`)
    process.exit(1)
  })
} else parent()
