/** Where an export keeps things: the content directories and file names, and listing its files. */
import * as fs from 'fs'
import * as path from 'path'

const PLACES: Readonly<Record<string, { dir: string; ext: string }>> = {
  contact: { dir: 'contacts', ext: 'vcf' },
  appointment: { dir: 'calendar', ext: 'ics' },
  task: { dir: 'calendar', ext: 'ics' },
}

/** The content file of an item type's body: `messages/<sha256>.eml`, `contacts/….vcf`, `calendar/….ics`. */
export const contentPlace = (itemType: string): { dir: string; ext: string } => PLACES[itemType] ?? { dir: 'messages', ext: 'eml' }

/** A content file's path, with the digest its name claims. */
export const CONTENT_FILE = /^(?:messages|contacts|calendar)\/([0-9a-f]{64})\.(?:eml|vcf|ics)$/

/** Every file under a directory, as `/`-separated paths relative to it. */
export const filesUnder = (root: string, rel = ''): string[] =>
  fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? filesUnder(root, path.posix.join(rel, d.name)) : [path.posix.join(rel, d.name)]))
