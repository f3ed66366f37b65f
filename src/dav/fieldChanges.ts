/**
 * What changed, field by field, between two versions of a contact, appointment or task: the
 * phrases the CLI's `getItem … date all` and the web console's item panel show. Import-free and
 * pure, so the console's bundle and the CLI share it.
 */

/** The searchable fields of a version (the shape of `davFields` in the events and the --json). */
export interface DavFieldsView {
  readonly emails?: readonly string[]
  readonly n?: string
  readonly component?: string
  readonly start?: string
  readonly tzid?: string
  readonly recurring?: boolean
  readonly organizer?: string
  readonly attendees?: readonly string[]
  readonly problem?: string
}

export interface DavVersionView {
  /** FN or SUMMARY: not said here (the caller says renames), but a change of it explains new bytes. */
  readonly name?: string | null
  readonly uid?: string | null
  readonly href?: string | null
  readonly digest?: string | null
  readonly fields?: DavFieldsView | null
}

const listChange = (label: string, before: readonly string[] = [], after: readonly string[] = []): string[] => {
  const plus = after.filter((x) => !before.includes(x)).map((x) => `+${x}`)
  const minus = before.filter((x) => !after.includes(x)).map((x) => `−${x}`)
  return plus.length + minus.length > 0 ? [`${label} ${[...plus, ...minus].join(' ')}`] : []
}

const valueChange = (label: string, before: string | undefined, after: string | undefined): string[] =>
  (before ?? '') === (after ?? '') ? [] : [`${label} ${before ?? '(none)'} → ${after ?? '(none)'}`]

/**
 * The phrases for `after` compared with `before`, besides its name (said elsewhere): UID, path,
 * e-mail addresses, N, start and time zone, recurrence, organizer, attendees, a parse problem; and
 * "content changed" when the bytes changed and no field shows it (a phone number, a description).
 */
export const davFieldChanges = (before: DavVersionView, after: DavVersionView): string[] => {
  const b = before.fields ?? {}
  const a = after.fields ?? {}
  const out = [
    ...valueChange('uid', before.uid ?? undefined, after.uid ?? undefined),
    ...valueChange('path', before.href ?? undefined, after.href ?? undefined),
    ...listChange('e-mail', b.emails, a.emails),
    ...valueChange('N', b.n, a.n),
    ...valueChange(
      'start',
      b.start === undefined ? undefined : `${b.start}${b.tzid !== undefined ? ` ${b.tzid}` : ''}`,
      a.start === undefined ? undefined : `${a.start}${a.tzid !== undefined ? ` ${a.tzid}` : ''}`,
    ),
    ...(b.recurring === a.recurring || (b.recurring !== true && a.recurring !== true) ? [] : [a.recurring === true ? 'now recurring' : 'no longer recurring']),
    ...valueChange('organizer', b.organizer, a.organizer),
    ...listChange('attendees', b.attendees, a.attendees),
    ...valueChange('problem', b.problem, a.problem),
  ]
  const bytes = (before.digest ?? null) !== (after.digest ?? null) && before.digest != null && after.digest != null
  const named = (before.name ?? null) !== (after.name ?? null)
  return bytes && !named && out.filter((p) => !p.startsWith('path ')).length === 0 ? [...out, 'content changed'] : out
}
