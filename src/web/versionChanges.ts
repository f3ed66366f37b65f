/**
 * What changed from one version of an item to the next, in words a reviewer reads: the folder it
 * moved between, the flags and tags added and removed, the status; for a contact, appointment or
 * task, its fields (e-mail addresses, start, attendees…). Pure (no DOM), so it is tested
 * with the rest of the project.
 */
import { type DavFieldsView, davFieldChanges } from '../dav/fieldChanges'

/** The fields of a version's state that the item panel compares. */
export interface VersionState {
  readonly folderPath: string
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  readonly status: string
  readonly subject?: string | null
  readonly name?: string | null
  readonly digest?: string | null
  readonly uid?: string | null
  readonly dav?: { readonly href: string } | null
  readonly davFields?: DavFieldsView | null
}

export interface Version {
  readonly cause: string
  readonly validFrom: string
  readonly validTo: string | null
  readonly state: VersionState
}

const davView = (v: VersionState) => ({ name: v.name ?? null, uid: v.uid ?? null, href: v.dav?.href ?? null, digest: v.digest ?? null, fields: v.davFields ?? null })

const added = (before: readonly string[], after: readonly string[]): string[] => after.filter((x) => !before.includes(x))

/** The changes from `before` (undefined for the first version) to `after`, one phrase each. */
export const changesOf = (before: VersionState | undefined, after: VersionState): string[] => {
  if (before === undefined) return [`created in ${after.folderPath}`]
  const out: string[] = []
  if (before.status !== after.status) out.push(`${before.status} → ${after.status}`)
  if (before.folderPath !== after.folderPath) out.push(`folder ${before.folderPath} → ${after.folderPath}`)
  const flags = [...added(before.flags, after.flags).map((f) => `+${f}`), ...added(after.flags, before.flags).map((f) => `−${f}`)]
  if (flags.length > 0) out.push(`flags ${flags.join(' ')}`)
  const tags = [...added(before.tags, after.tags).map((f) => `+${f}`), ...added(after.tags, before.tags).map((f) => `−${f}`)]
  if (tags.length > 0) out.push(`tags ${tags.join(' ')}`)
  if ((before.name ?? null) !== (after.name ?? null)) out.push(`renamed ${before.name ?? ''} → ${after.name ?? ''}`)
  if ((before.subject ?? null) !== (after.subject ?? null)) out.push('content changed')
  // A contact, appointment or task: its fields, one by one.
  if (before.dav != null || after.dav != null) out.push(...davFieldChanges(davView(before), davView(after)))
  return out
}

/** Each version with the phrases of what it changed, oldest first. */
export const describeVersions = (versions: readonly Version[]): { version: Version; changes: string[] }[] =>
  versions.map((v, i) => ({ version: v, changes: changesOf(versions[i - 1]?.state, v.state) }))
