/**
 * Every command example with output in README.md and docs/*.md, run as a reader would run it (with
 * `sh`, `npx mailtime` being the built CLI) and compared with what the doc shows. When a change makes
 * the program print something else, this test shows the difference: run the example and put its real
 * output in the doc. How blocks are marked: examples.ts.
 */
import { spawn } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { BIN, mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { type Example, type Problem, DEMO_END, comparable, lineDiff, matches, parseExamples } from './examples'

afterAll(cleanupTmp)
jest.setTimeout(300_000)

const ROOT = path.join(__dirname, '..', '..')
const FILES = [
  'README.md',
  ...fs
    .readdirSync(path.join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
]
const parsed = FILES.map((f) => parseExamples(f, fs.readFileSync(path.join(ROOT, f), 'utf8')))
const examples: Example[] = parsed.flatMap((p) => p.examples)
const problems: Problem[] = parsed.flatMap((p) => p.problems)

/** `npx mailtime …` and `mailtime …` run the CLI this test built; any other npx package is refused. */
const shims = (): string => {
  const bin = tmpDir('mailtime-docs-bin-')
  const run = `exec "${process.execPath}" "${BIN}" "$@"`
  fs.writeFileSync(path.join(bin, 'mailtime'), `#!/bin/sh\n${run}\n`, { mode: 0o755 })
  fs.writeFileSync(path.join(bin, 'npx'), `#!/bin/sh\n[ "$1" = mailtime ] || { echo "npx $1: the docs' examples run only npx mailtime" >&2; exit 127; }\nshift\n${run}\n`, {
    mode: 0o755,
  })
  return bin
}

interface Session {
  readonly dir: string
  readonly env: Record<string, string>
}

let bin: string | undefined
let demoTemplate: string | undefined
const sessions = new Map<string, Session>()

/** The directory of the docs' demo (`mailtime demo end DEMO_END` in an empty directory), written once and copied for each session that starts from it. */
const demoDir = (): string => {
  if (demoTemplate === undefined) {
    const dir = tmpDir('mailtime-docs-demo-')
    const r = mailtime(['--quiet', 'demo', 'end', DEMO_END], {}, dir)
    if (r.code !== 0) throw new Error(`the docs' demo failed (exit ${r.code}): ${r.stderr}`)
    demoTemplate = dir
  }
  return demoTemplate
}

const sessionOf = (ex: Example): Session => {
  const key = `${ex.file}#${ex.marker.session}`
  const known = sessions.get(key)
  if (known !== undefined) return known
  bin ??= shims()
  const dir = tmpDir('mailtime-docs-')
  if (ex.marker.setup === 'demo') fs.cpSync(demoDir(), dir, { recursive: true })
  const s = { dir, env: { PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: dir, TZ: 'UTC', LANG: 'C.UTF-8' } }
  sessions.set(key, s)
  return s
}

/** Runs one command with sh in the session's directory, stdout and stderr in one stream as a terminal shows them. With `stopAfter`, sends SIGINT once that many lines were printed. */
const runCommand = (command: string, s: Session, stopAfter: number | undefined): Promise<{ code: number; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `exec 2>&1\n${stopAfter === undefined ? '' : 'exec '}${command}`], {
      cwd: s.dir,
      env: s.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    let shown: string | undefined
    let stopped = false
    const stop = () => {
      if (stopped || child.pid === undefined) return
      stopped = true
      try {
        process.kill(-child.pid, 'SIGINT')
      } catch {
        // Already gone.
      }
    }
    // A server that never prints what the doc shows: stop it rather than wait for ever.
    const guard = stopAfter === undefined ? undefined : setTimeout(stop, 120_000)
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString('utf8')
      if (stopAfter !== undefined && shown === undefined && comparable(output).length >= stopAfter && output.endsWith('\n')) {
        shown = output
        stop()
      }
    })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (guard !== undefined) clearTimeout(guard)
      if (child.pid !== undefined && stopAfter !== undefined)
        try {
          process.kill(-child.pid, 'SIGKILL')
        } catch {
          // The group has ended.
        }
      resolve({ code: code ?? (signal === null ? -1 : 128), output: shown ?? output })
    })
  })

const EXPORT = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/

const runExample = async (ex: Example): Promise<string[]> => {
  const s = sessionOf(ex)
  const failures: string[] = []
  for (const [k, c] of ex.commands.entries()) {
    const where = `${ex.file}:${c.line}: \`${c.command}\``
    const exported = EXPORT.exec(c.command.replace(/\s+#.*$/, '').trim())
    if (exported !== null) {
      s.env[exported[1] as string] = (exported[2] as string).replace(/^'(.*)'$|^"(.*)"$/, '$1$2')
      if (comparable(c.expected).length > 0) failures.push(`${where} prints nothing, but the doc shows lines after it`)
      continue
    }
    const last = k === ex.commands.length - 1
    const stopAfter = ex.marker.stop && last ? Math.max(1, comparable(c.expected).filter((l) => l.trim() !== '…').length) : undefined
    const r = await runCommand(c.command, s, stopAfter)
    const real = comparable(r.output)
    if (r.code !== 0 && r.code !== ex.marker.exit && !(stopAfter !== undefined && r.code === 130))
      failures.push(`${where} exited ${r.code}${ex.marker.exit === undefined ? '' : ` (the block allows 0 or ${ex.marker.exit})`}; it printed:\n${real.join('\n')}`)
    else if (!matches(c.expected, real, ex.marker.elided))
      failures.push(
        `${where} prints something else than the doc shows (- the doc, + the program${ex.marker.elided ? '; … is elided text' : ''}):\n${lineDiff(c.expected, real, ex.marker.elided)}`,
      )
  }
  return failures
}

describe('the examples in the docs', () => {
  it('every block that shows commands with their output is marked as an example, so that this test runs it', () => {
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.message}`)).toEqual([])
    expect(examples.filter((e) => e.file === 'README.md').length).toBeGreaterThan(0)
  })

  for (const ex of examples)
    it(`${ex.file}:${ex.line} prints what it shows (${ex.commands.map((c) => c.command.split(/\s+/).slice(0, 3).join(' ')).join('; ')})`, async () => {
      const failures = await runExample(ex)
      if (failures.length > 0) throw new Error(`${failures.join('\n\n')}\n\nRun the example and put its real output in ${ex.file}.`)
    })
})
