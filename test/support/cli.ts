/** Runs the built `mailtime` binary as a user would, capturing its output and exit code. */
import { type ChildProcess, spawn, spawnSync } from 'child_process'
import * as path from 'path'

export const BIN = path.join(__dirname, '..', '..', 'dist', 'src', 'cli', 'main.js')

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const mailtime = (args: readonly string[], env: Record<string, string> = {}, cwd?: string): CliResult => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: envOf(env),
    ...(cwd !== undefined && { cwd }),
    maxBuffer: 256 * 1024 * 1024,
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}

/** MAILTIME_TEST_MODE=1 lets the test-only switches act (src/cli/testSwitches.ts); a test may override it. */
const envOf = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', MAILTIME_TEST_MODE: '1', ...env })

/** stderr without the warning that test-only switches act (src/cli/testSwitches.ts), for tests that set MAILTIME_NOW. */
export const withoutTestWarning = (stderr: string): string =>
  stderr
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith('mailtime: WARNING: TEST-ONLY SWITCHES ACTIVE'))
    .join('')

/** The same, without blocking the test's event loop (for servers the test itself runs, and for killing it midway). */
export const mailtimeAsync = (args: readonly string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<CliResult> } => {
  const child = spawn(process.execPath, [BIN, ...args], { env: envOf(env), stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString('utf8')))
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString('utf8')))
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : -1), stdout, stderr })))
  return { child, done }
}
