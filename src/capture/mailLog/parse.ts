/**
 * One line of Dovecot's mail_log plugin (with `log_timestamp = "%Y-%m-%d %H:%M:%S "`):
 * `2026-03-03 14:02:11 imap(alice)<pid><session>: Info: expunge: box=INBOX, uid=7, msgid=<x@y>, …`.
 * Pure parsing into the change it records.
 */
export type MailLogChange =
  | {
      readonly kind: 'save' | 'expunge' | 'flag_change' | 'delete' | 'undelete'
      readonly box: string
      readonly uid: number
      readonly msgid?: string
      readonly flags?: readonly string[]
    }
  | { readonly kind: 'copy'; readonly from: string; readonly box: string; readonly uid: number; readonly msgid?: string }
  | { readonly kind: 'mailbox_create' | 'mailbox_delete'; readonly box: string }
  | { readonly kind: 'mailbox_rename'; readonly from: string; readonly box: string }

export interface MailLogLine {
  readonly timestamp: string
  readonly service: string
  readonly user: string
  readonly change: MailLogChange | undefined
}

const LINE = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\w+)\(([^)]+)\)(?:<[^>]*>)*: Info: (.*)$/

/**
 * A Dovecot log line (`… master: Info: …`, `… imap(alice)<…>: Info: …`); mailbox.log times carry
 * `,SSS` instead. Also one written with Dovecot's default log_timestamp (`Dec 07 19:26:09 …`, no
 * year), so that the import reads it as Dovecot's and says why it cannot date it.
 */
export const looksLikeMailLog = (line: string): boolean =>
  /^(\d{4}-\d{2}-\d{2}|[A-Z][a-z]{2} [ \d]\d) \d{2}:\d{2}:\d{2} [\w-]+(\([^)]*\))?(<[^>]*>)*: (Info|Warning|Error|Fatal|Panic|Debug):/.test(line)

/** The `key=value, …` fields; box names may hold commas only when quoted, which mail_log does not do. */
const fields = (s: string): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const m of s.matchAll(/(\w+)=(\([^)]*\)|[^,]*)(?:, |$)/g)) out[m[1] as string] = (m[2] as string).trim()
  return out
}

const flagList = (raw: string | undefined): string[] | undefined =>
  raw === undefined
    ? undefined
    : raw
        .replace(/^\(|\)$/g, '')
        .split(/\s+/)
        .filter((f) => f.length > 0)

export const parseMailLogLine = (line: string): MailLogLine | undefined => {
  const m = LINE.exec(line)
  if (m === null) return undefined
  const [, timestamp, service, user, rest] = m as unknown as [string, string, string, string, string]
  let change: MailLogChange | undefined
  const c = /^(save|expunge|flag_change|delete|undelete|copy from (.+?)): (.*)$/.exec(rest)
  if (c !== null) {
    const f = fields(c[3] as string)
    const uid = Number(f.uid)
    const box = f.box
    if (box !== undefined && Number.isInteger(uid) && uid > 0) {
      const common = { box, uid, ...(f.msgid !== undefined && f.msgid !== '' && { msgid: f.msgid }) }
      if ((c[1] as string).startsWith('copy from')) change = { kind: 'copy', from: c[2] as string, ...common }
      else change = { kind: c[1] as 'save', ...common, ...(flagList(f.flags) !== undefined && { flags: flagList(f.flags) as string[] }) }
    }
  } else {
    const created = /^Mailbox created: (.+)$/.exec(rest)
    const deleted = /^Mailbox deleted: (.+)$/.exec(rest)
    const renamed = /^Mailbox renamed: (.+?) -> (.+)$/.exec(rest)
    if (created !== null) change = { kind: 'mailbox_create', box: created[1] as string }
    else if (deleted !== null) change = { kind: 'mailbox_delete', box: deleted[1] as string }
    else if (renamed !== null) change = { kind: 'mailbox_rename', from: renamed[1] as string, box: renamed[2] as string }
  }
  return { timestamp, service, user, change }
}
