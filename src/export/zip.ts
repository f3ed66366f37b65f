/** `format zip` for exports: a directory zipped with yazl, and read back with yauzl for verification. */
import * as fs from 'fs'
import * as path from 'path'
import * as yazl from 'yazl'
import * as yauzl from 'yauzl'
import { filesUnder } from './layout'

export const zipDirectory = (dir: string, zipFile: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const z = new yazl.ZipFile()
    for (const f of filesUnder(dir).sort()) z.addFile(path.join(dir, f), f)
    const out = fs.createWriteStream(zipFile, { flags: 'wx' })
    out.on('error', reject)
    out.on('close', () => resolve())
    z.outputStream.pipe(out)
    z.end()
  })

/** Extracts a zip into `dir`, refusing any entry that would land outside it. */
export const unzipTo = (zipFile: string, dir: string): Promise<void> =>
  new Promise((resolve, reject) => {
    yauzl.open(zipFile, { lazyEntries: true }, (err, zip) => {
      if (err !== null || zip === undefined) return reject(err ?? new Error('cannot open zip'))
      zip.on('error', reject)
      zip.on('end', () => resolve())
      zip.on('entry', (entry: yauzl.Entry) => {
        const target = path.resolve(dir, entry.fileName)
        if (!target.startsWith(path.resolve(dir) + path.sep)) return reject(new Error(`zip entry ${JSON.stringify(entry.fileName)} would be written outside the export`))
        if (entry.fileName.endsWith('/')) return zip.readEntry()
        zip.openReadStream(entry, (e, stream) => {
          if (e !== null || stream === undefined) return reject(e ?? new Error('cannot read zip entry'))
          fs.mkdirSync(path.dirname(target), { recursive: true })
          const out = fs.createWriteStream(target)
          out.on('close', () => zip.readEntry())
          out.on('error', reject)
          stream.pipe(out)
        })
      })
      zip.readEntry()
    })
  })
