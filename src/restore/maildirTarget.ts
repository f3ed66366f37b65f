/**
 * The Maildir target: writes a restore plan as a standard Maildir++ tree that Dovecot (and Courier,
 * mutt) serve as is. INBOX is the root; other folders are `.Name.Sub` directories with names in
 * modified UTF-7; flags are in the file names (`:2,FRS`), keywords in each folder's
 * `dovecot-keywords`, and INTERNALDATE is the file's modification time.
 *
 * Guarantees:
 * 1. Nothing is written outside the target directory, whatever the folder names (names are mapped,
 *    and every path is checked).
 * 2. A message is written to `tmp/` and renamed into `cur/`, so a crash never leaves half a message.
 * 3. File names are derived from the operation and the item, so running the same restore again
 *    writes nothing twice; such items are reported as skipped.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { RestoreItem, RestorePlan } from '../../domain/restore/plan'
import { type BlobStore, describeBlobError } from '../blobs/blobStore'
import { encodeModifiedUtf7, safeSegment } from './folderNames'
import type { MaterializeReport, RestoreTarget, TargetError } from './target'

const FLAG_LETTERS: Readonly<Record<string, string>> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' }
const INBOX_NAMES = new Set(['inbox'])

interface Folder {
  readonly dir: string
  readonly keywords: string[]
  readonly existing: Set<string>
}

export const maildirTarget = (root: string): RestoreTarget => {
  const top = path.resolve(root)
  const inside = (p: string): string => {
    const r = path.resolve(p)
    if (r !== top && !r.startsWith(top + path.sep)) throw new Error(`refusing to write outside the target: ${r}`)
    return r
  }
  return {
    description: `maildir:${top}`,
    materialize: async (plan: RestorePlan, blobs: BlobStore, opKey: string, onProgress?: (done: number, total: number) => void): Promise<E.Either<TargetError, MaterializeReport>> => {
      const report: MaterializeReport = { restored: 0, skipped: 0, unrestored: [], renamedFolders: [], locations: [] }
      const folders = new Map<string, Folder>()
      const openFolder = (segments: readonly string[]): Folder => {
        const key = JSON.stringify(segments)
        const hit = folders.get(key)
        if (hit !== undefined) return hit
        const mapped = segments.map((s) => safeSegment(s, ['.']))
        if (mapped.some((m, i) => m !== segments[i])) report.renamedFolders.push({ original: [...segments], mapped: mapped.join('/') })
        const isInbox = mapped.length === 0 || (mapped.length === 1 && INBOX_NAMES.has((mapped[0] ?? '').toLowerCase()))
        const dir = inside(isInbox ? top : path.join(top, `.${mapped.map(encodeModifiedUtf7).join('.')}`))
        for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true })
        if (!isInbox) fs.writeFileSync(path.join(dir, 'maildirfolder'), '')
        const kwFile = path.join(dir, 'dovecot-keywords')
        const keywords = fs.existsSync(kwFile)
          ? fs
              .readFileSync(kwFile, 'utf8')
              .split('\n')
              .map((l) => /^(\d+) (.+)$/.exec(l))
              .filter((m): m is RegExpExecArray => m !== null)
              .sort((a, b) => Number(a[1]) - Number(b[1]))
              .map((m) => m[2] as string)
          : []
        const existing = new Set([...fs.readdirSync(path.join(dir, 'cur')), ...fs.readdirSync(path.join(dir, 'new'))].map((f) => f.split(':')[0] ?? f))
        const f = { dir, keywords, existing }
        folders.set(key, f)
        return f
      }
      const letters = (f: Folder, item: RestoreItem): string => {
        const out = item.flags.map((x) => FLAG_LETTERS[x]).filter((x): x is string => x !== undefined)
        for (const tag of item.tags) {
          let i = f.keywords.indexOf(tag)
          if (i < 0 && f.keywords.length < 26) {
            f.keywords.push(tag)
            i = f.keywords.length - 1
            fs.writeFileSync(path.join(f.dir, 'dovecot-keywords'), f.keywords.map((k, n) => `${n} ${k}\n`).join(''))
          }
          if (i >= 0) out.push(String.fromCharCode(97 + i))
        }
        return [...new Set(out)].sort().join('')
      }
      try {
        for (const seg of plan.folders) openFolder(seg)
        let done = 0
        for (const item of plan.items) {
          const f = openFolder(item.folder)
          const seconds = Math.floor((item.internalDate ?? 0) / 1000)
          const base = `${seconds}.M${item.itemId}P${opKey}.mailtime`
          if (f.existing.has(base)) {
            report.skipped++
          } else {
            const bytes = blobs.get(item.digest)
            if (E.isLeft(bytes)) report.unrestored.push({ itemId: item.itemId, reason: describeBlobError(bytes.left) })
            else {
              const tmp = inside(path.join(f.dir, 'tmp', base))
              fs.writeFileSync(tmp, bytes.right)
              if (item.internalDate !== undefined) fs.utimesSync(tmp, seconds, seconds)
              const name = `${base}:2,${letters(f, item)}`
              fs.renameSync(tmp, inside(path.join(f.dir, 'cur', name)))
              f.existing.add(base)
              report.restored++
              report.locations.push({ itemId: item.itemId, location: path.relative(top, path.join(f.dir, 'cur', name)) })
            }
          }
          onProgress?.(++done, plan.items.length)
        }
      } catch (e) {
        return E.left({ _tag: 'TargetFailure', target: `maildir:${top}`, reason: (e as Error).message })
      }
      return E.right(report)
    },
  }
}
