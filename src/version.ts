/** The tool's version, from the package.json above this file (in the sources or in dist/). */
import * as fs from 'fs'
import * as path from 'path'

const find = (dir: string): string => {
  const f = path.join(dir, 'package.json')
  if (fs.existsSync(f)) return (JSON.parse(fs.readFileSync(f, 'utf8')) as { version?: string }).version ?? '0.0.0'
  const up = path.dirname(dir)
  return up === dir ? '0.0.0' : find(up)
}

export const VERSION: string = find(__dirname)
