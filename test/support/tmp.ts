/** Temporary directories for tests, removed when the test file ends. */
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'

const made: string[] = []

export const tmpDir = (prefix = 'mailtime-test-'): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(d)
  return d
}

export const cleanupTmp = (): void => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true })
}
