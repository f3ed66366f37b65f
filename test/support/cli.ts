/** Runs the built `mailtime` binary as a user would, capturing its output and exit code. */
import { spawnSync } from 'child_process'
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
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', ...env },
    ...(cwd !== undefined && { cwd }),
    maxBuffer: 256 * 1024 * 1024,
  })
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
