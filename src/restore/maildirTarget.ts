/**
 * The Maildir target: writes a restore plan as a standard Maildir++ tree that Dovecot (and Courier,
 * mutt) serve as is. INBOX is the root, always with its `cur/`, `new/` and `tmp/`; other folders are
 * `.Name.Sub` directories with names in modified UTF-7; flags are in the file names (`:2,FRS`),
 * keywords in each folder's `dovecot-keywords`, and INTERNALDATE is the file's modification time.
 * Every file and directory it writes goes to `owner` when given (see maildirOwner.ts), with the
 * permissions of the tree's root as Dovecot does (0700 and 0600 for a root it creates).
 *
 * Guarantees:
 * 1. Nothing is written outside the target directory, whatever the folder names (names are mapped,
 *    and every path is checked).
 * 2. A message is written to `tmp/` and renamed into `cur/`, so a crash never leaves half a message.
 * 3. File names are derived from the restore's resume key and the item, so running the same
 *    restore again writes nothing twice, even when a crash came between the write and its record in
 *    the operations stream; such items are reported as skipped.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { ItemOutcome } from '../../domain/operations'
import type { RestoreItem, RestorePlan } from '../../domain/restore/plan'
import { type BlobStore, describeBlobError } from '../blobs/blobStore'
import { encodeModifiedUtf7, mapFolder } from './folderNames'
import { keywordsOf } from './keywords'
import type { Owner } from './maildirOwner'
import { type Journal, type MaterializeReport, type RestoreTarget, type TargetError, folderItemOutcomes, refusedFolders } from './target'

const FLAG_LETTERS: Readonly<Record<string, string>> = { '\\Draft': 'D', '\\Flagged': 'F', '\\Answered': 'R', '\\Seen': 'S', '\\Deleted': 'T' }
/** Keywords are the letters `a` to `z` of the file names (Dovecot keeps more in its own index only). */
const MAX_KEYWORDS = 26
/** Outcomes are recorded in the operations stream in batches of this many items. */
const RECORD_EVERY = 200

/**
 * Dovecot's `subscriptions` file (version 2) with `names` added: a header, a blank line, then one
 * folder per line, its modified UTF-7 segments separated by tabs. Undefined when the file is in
 * another format, which is then left as it is.
 */
export const withSubscriptions = (existing: string | undefined, names: readonly (readonly string[])[]): string | undefined => {
  const HEADER = 'V\t2\n\n'
  if (existing !== undefined && existing.length > 0 && !existing.startsWith(HEADER)) return undefined
  const lines = (existing ?? '')
    .slice(HEADER.length)
    .split('\n')
    .filter((l) => l.length > 0)
  const all = [...new Set([...lines, ...names.map((n) => n.map(encodeModifiedUtf7).join('\t'))])]
  return `${HEADER}${all.map((l) => `${l}\n`).join('')}`
}

/**
 * The report's warning for the keywords one folder could not hold: which, and on which messages
 * (at most 50 ids listed).
 */
export const lostKeywordsWarning = (folder: string, lost: ReadonlyMap<string, readonly number[]>): string => {
  const ids = [...new Set([...lost.values()].flat())].sort((a, b) => a - b)
  const shown = `${ids.slice(0, 50).join(', ')}${ids.length > 50 ? `, … ${ids.length - 50} more` : ''}`
  return `${ids.length} message(s) in ${folder} written without keyword(s) ${[...lost.keys()].join(', ')} (items ${shown}): a Maildir folder holds at most ${MAX_KEYWORDS} keywords (the letters a to z of its file names); an IMAP target keeps them all`
}

interface Folder {
  readonly dir: string
  readonly keywords: string[]
  /** Base name (before `:2,`) → file name, for the messages already in the folder. */
  readonly existing: Map<string, string>
}

export interface MaildirOptions {
  /** Whom every file and directory written goes to (root only can give them away). */
  readonly owner?: Owner
}

export const maildirTarget = (root: string, options: MaildirOptions = {}): RestoreTarget => {
  const top = path.resolve(root)
  const owner = options.owner
  const inside = (p: string): string => {
    const r = path.resolve(p)
    if (r !== top && !r.startsWith(top + path.sep)) throw new Error(`refusing to write outside the target: ${r}`)
    return r
  }
  return {
    description: `maildir:${top}`,
    materialize: async (
      plan: RestorePlan,
      blobs: BlobStore,
      journal: Journal,
      onProgress?: (done: number, total: number) => void,
    ): Promise<E.Either<TargetError, MaterializeReport>> => {
      const renamedFolders: MaterializeReport['renamedFolders'] = []
      // Keyed by directory: "Inbox", "INBOX" and the root are one folder, with one keyword list.
      const folders = new Map<string, Folder>()
      // Dovecot gives new directories the root's permissions, and files the same without execute.
      let dirMode = 0o700
      const own = (p: string, mode: number) => {
        fs.chmodSync(p, mode)
        if (owner !== undefined) fs.chownSync(p, owner.uid, owner.gid)
      }
      const makeDir = (dir: string) => {
        if (fs.existsSync(dir)) return
        fs.mkdirSync(dir)
        own(dir, dirMode)
      }
      const writeFile = (file: string, data: string | Uint8Array) => {
        fs.writeFileSync(file, data)
        own(file, dirMode & 0o666)
      }
      const bySegments = new Map<string, Folder>()
      const openFolder = (segments: readonly string[]): Folder => {
        const key = JSON.stringify(segments)
        const known = bySegments.get(key)
        if (known !== undefined) return known
        const f = folderAt(segments)
        bySegments.set(key, f)
        return f
      }
      // Folders whose directory the file system refuses: a Maildir++ folder is one directory named
      // after its whole path, in modified UTF-7, and a name may have at most 255 bytes.
      const refused = refusedFolders()
      const tryOpen = (segments: readonly string[]): Folder | undefined => {
        if (refused.reasonFor(segments) !== undefined) return undefined
        try {
          return openFolder(segments)
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw e
          refused.refuse(segments, `its Maildir++ directory name would be longer than the file system allows (ENAMETOOLONG)`)
          return undefined
        }
      }
      const folderAt = (segments: readonly string[]): Folder => {
        const m = mapFolder(segments, ['.'])
        const dir = inside(m.isInbox ? top : path.join(top, `.${m.segments.map(encodeModifiedUtf7).join('.')}`))
        if (m.renamed !== undefined) renamedFolders.push(m.renamed)
        const hit = folders.get(dir)
        if (hit !== undefined) return hit
        makeDir(dir)
        for (const sub of ['cur', 'new', 'tmp']) makeDir(path.join(dir, sub))
        if (!m.isInbox && !fs.existsSync(path.join(dir, 'maildirfolder'))) writeFile(path.join(dir, 'maildirfolder'), '')
        const kwFile = path.join(dir, 'dovecot-keywords')
        const keywords = fs.existsSync(kwFile)
          ? fs
              .readFileSync(kwFile, 'utf8')
              .split('\n')
              .map((l) => /^(\d+) (.+)$/.exec(l))
              .filter((x): x is RegExpExecArray => x !== null)
              .sort((a, b) => Number(a[1]) - Number(b[1]))
              .map((x) => x[2] as string)
          : []
        const existing = new Map([...fs.readdirSync(path.join(dir, 'cur')), ...fs.readdirSync(path.join(dir, 'new'))].map((f) => [f.split(':')[0] ?? f, f]))
        const f = { dir, keywords, existing }
        folders.set(dir, f)
        return f
      }
      // Keywords a folder could not hold (its 26 letters were taken), by folder: keyword → item ids.
      const lostKeywords = new Map<string, Map<string, number[]>>()
      const letters = (f: Folder, item: RestoreItem): string => {
        const out = item.flags.map((x) => FLAG_LETTERS[x]).filter((x): x is string => x !== undefined)
        for (const kw of keywordsOf(item.tags)) {
          let i = f.keywords.indexOf(kw)
          if (i < 0 && f.keywords.length < MAX_KEYWORDS) {
            f.keywords.push(kw)
            i = f.keywords.length - 1
            writeFile(path.join(f.dir, 'dovecot-keywords'), f.keywords.map((k, n) => `${n} ${k}\n`).join(''))
          }
          if (i >= 0) out.push(String.fromCharCode(97 + i))
          else {
            const where = path.relative(top, f.dir) || '.'
            const lost = lostKeywords.get(where) ?? new Map<string, number[]>()
            lost.set(kw, [...(lost.get(kw) ?? []), item.itemId])
            lostKeywords.set(where, lost)
          }
        }
        return [...new Set(out)].sort().join('')
      }
      const account = plan.targetAccount
      const key = journal.key.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)
      let pending: ItemOutcome[] = []
      const flush = async () => {
        if (pending.length > 0) await journal.record(pending)
        pending = []
      }
      let stopped = false
      try {
        if (fs.existsSync(top)) dirMode = fs.statSync(top).mode & 0o777
        else {
          fs.mkdirSync(path.dirname(top), { recursive: true })
          makeDir(top)
        }
        if (owner !== undefined) fs.chownSync(top, owner.uid, owner.gid)
        // INBOX in full even when nothing goes into it: Dovecot would have to create it, as a user
        // that may not write in the root.
        openFolder([])
        for (const seg of plan.folders) tryOpen(seg)
        // Subscribed, as the IMAP target subscribes what it creates: many clients show only those.
        const subscriptions = path.join(top, 'subscriptions')
        const names = plan.folders
          .filter((seg) => refused.reasonFor(seg) === undefined)
          .map((seg) => mapFolder(seg, ['.']))
          .filter((m) => !m.isInbox)
          .map((m) => m.segments)
        const before = fs.existsSync(subscriptions) ? fs.readFileSync(subscriptions, 'utf8') : undefined
        const subscribed = withSubscriptions(before, names)
        if (names.length > 0 && subscribed !== undefined && subscribed !== before) {
          writeFile(`${subscriptions}.mailtime`, subscribed)
          fs.renameSync(`${subscriptions}.mailtime`, subscriptions)
        }
        await journal.record(folderItemOutcomes(plan, journal, (seg) => path.relative(top, openFolder(seg).dir) || '.', refused))
        let done = 0
        for (const item of plan.items) {
          if (done % RECORD_EVERY === 0 && done > 0) {
            await flush()
            if (await journal.stopRequested()) {
              stopped = true
              break
            }
          }
          const f = tryOpen(item.folder)
          const seconds = Math.floor((item.internalDate ?? 0) / 1000)
          const base = `${seconds}.M${item.itemId}P${key}.mailtime`
          const earlier = journal.doneAt(account, item.itemId)
          const onDisk = f?.existing.get(base)
          if (f === undefined) {
            pending.push({ account, itemId: item.itemId, outcome: 'unrestored', reason: refused.reasonFor(item.folder) ?? 'its folder could not be created' })
          } else if (earlier !== undefined || onDisk !== undefined) {
            pending.push({ account, itemId: item.itemId, outcome: 'skipped', location: earlier ?? path.relative(top, path.join(f.dir, 'cur', onDisk ?? '')) })
          } else {
            const bytes = blobs.get(item.digest)
            if (E.isLeft(bytes)) pending.push({ account, itemId: item.itemId, outcome: 'unrestored', reason: describeBlobError(bytes.left) })
            else {
              const tmp = inside(path.join(f.dir, 'tmp', base))
              writeFile(tmp, bytes.right)
              if (item.internalDate !== undefined) fs.utimesSync(tmp, seconds, seconds)
              const name = `${base}:2,${letters(f, item)}`
              fs.renameSync(tmp, inside(path.join(f.dir, 'cur', name)))
              f.existing.set(base, name)
              pending.push({ account, itemId: item.itemId, outcome: 'restored', location: path.relative(top, path.join(f.dir, 'cur', name)) })
            }
          }
          // Counted apart from the callback, which is optional: the count is what records and stops go by.
          done++
          onProgress?.(done, plan.items.length)
        }
        await flush()
      } catch (e) {
        await flush().catch(() => undefined)
        return E.left({ _tag: 'TargetFailure', target: `maildir:${top}`, reason: (e as Error).message })
      }
      return E.right({ renamedFolders, warnings: [...lostKeywords].map(([folder, lost]) => lostKeywordsWarning(folder, lost)), stopped })
    },
  }
}
