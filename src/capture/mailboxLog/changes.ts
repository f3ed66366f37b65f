/**
 * What a mailbox.log message says about items: the catalogue of item-change lines from
 * carbonio-reference.md §6.2, turned into change descriptions. Pure; lines that record no item
 * change give `undefined` and are counted by the importer.
 */
import type { ItemType } from '../../../domain/itemTypes'

export type LogChange =
  | {
      readonly kind: 'created'
      readonly itemType: ItemType
      readonly itemId: number
      readonly folderId: number
      readonly name?: string
      readonly messageId?: string
      readonly subject?: string
      readonly uid?: string
      readonly email?: string
    }
  | { readonly kind: 'moved'; readonly itemType: ItemType; readonly itemIds: readonly number[]; readonly folderId: number; readonly folderName: string }
  | { readonly kind: 'deleted'; readonly itemType: ItemType; readonly itemIds: readonly number[] }
  | { readonly kind: 'emptied'; readonly folderPath: string; readonly count: number; readonly removeSubfolders: boolean }
  | { readonly kind: 'renamed'; readonly itemType: ItemType; readonly itemId: number; readonly name: string }
  /** `itemId` is the copy's id, `originalId` the item it was copied from. */
  | { readonly kind: 'copied'; readonly itemType: ItemType; readonly itemId: number; readonly originalId: number; readonly folderId: number }

const TYPE_OF_CLASS: Readonly<Record<string, ItemType>> = {
  Message: 'message',
  Folder: 'folder',
  Contact: 'contact',
  Conversation: 'conversation',
  VirtualConversation: 'conversation',
  Appointment: 'appointment',
  Task: 'task',
  CalendarItem: 'appointment',
  Document: 'document',
  Tag: 'tag',
  SearchFolder: 'search',
  Mountpoint: 'folder',
  Chat: 'chat',
}
const typeOf = (cls: string): ItemType =>
  TYPE_OF_CLASS[cls] ??
  TYPE_OF_CLASS[
    cls
      .replace(/S$/, '')
      .toLowerCase()
      .replace(/^./, (c) => c.toUpperCase())
  ] ??
  'unknown'
const ids = (list: string): number[] =>
  list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^-?\d+$/.test(s))
    .map(Number)
    .filter((n) => n > 0)

// `<ctx>` is `Folder <name> (id=N)`, `Contact <email> (id=N)` or `<Class> (id=N)`.
const CTX = '([A-Za-z]+)(?: (.*?))? \\(id=(-?\\d+)\\)'

const RULES: readonly [RegExp, (m: RegExpExecArray) => LogChange | undefined][] = [
  [
    /^Adding Message: id=(\d+), (?:sender=.*?, )?Message-ID=(.*?), parentId=-?\d+, folderId=(\d+), folderName=(.*?)(?:,? acct=.*?)?\.?$/,
    (m) => ({ kind: 'created', itemType: 'message', itemId: Number(m[1]), folderId: Number(m[3]), messageId: m[2] as string }),
  ],
  [
    new RegExp(`^Moving Conversation \\(id=(-?\\d+)\\) to Folder (.*?) \\(id=(\\d+)\\)\\.\\s+Affected message ids: ([\\d,\\s-]+)\\.?$`),
    (m) => ({ kind: 'moved', itemType: 'message', itemIds: ids(m[4] as string), folderId: Number(m[3]), folderName: m[2] as string }),
  ],
  [
    new RegExp(`^[Mm]oving ${CTX} to Folder (.*?) \\(id=(\\d+)\\)\\.?$`),
    (m) => {
      const id = Number(m[3])
      return id > 0 ? { kind: 'moved', itemType: typeOf(m[1] as string), itemIds: [id], folderId: Number(m[5]), folderName: m[4] as string } : undefined
    },
  ],
  [
    /^Moving CalendarItem: id=(\d+), src=.*?, dest=Folder (.*?) \(id=(\d+)\)/,
    (m) => ({ kind: 'moved', itemType: 'appointment', itemIds: [Number(m[1])], folderId: Number(m[3]), folderName: m[2] as string }),
  ],
  [
    /^Deleting ([A-Z_]+)S: ([\d,\s]+)\.?$/,
    (m) => ({ kind: 'deleted', itemType: typeOf((m[1] as string).charAt(0) + (m[1] as string).slice(1).toLowerCase()), itemIds: ids(m[2] as string) }),
  ],
  [
    new RegExp(`^Deleting ${CTX}\\.?$`),
    (m) => {
      const id = Number(m[3])
      return id > 0 ? { kind: 'deleted', itemType: typeOf(m[1] as string), itemIds: [id] } : undefined
    },
  ],
  [
    /^Emptying (\d+) items from (.*?), removeSubfolders=(true|false)\.?$/,
    (m) => ({ kind: 'emptied', folderPath: m[2] as string, count: Number(m[1]), removeSubfolders: m[3] === 'true' }),
  ],
  [
    new RegExp(`^(?:Copying|Performing IMAP copy of) ${CTX}: copyId=(\\d+), folderId=(\\d+), folderName=.*?, parentId=-?\\d+\\.?$`),
    (m) => ({ kind: 'copied', itemType: typeOf(m[1] as string), itemId: Number(m[4]), originalId: Number(m[3]), folderId: Number(m[5]) }),
  ],
  [
    /^[Aa]dding [Cc]ontact (.*?): id=(\d+), folderId=(\d+), folderName=.*?\.?$/,
    (m) => ({ kind: 'created', itemType: 'contact', itemId: Number(m[2]), folderId: Number(m[3]), ...(m[1] !== '<undefined>' && { email: m[1] as string, name: m[1] as string }) }),
  ],
  [
    /^Adding CalendarItem: id=(\d+), Message-ID="(.*?)", folderId=(\d+), subject="(.*?)", UID=(\S+?)(?:, recurId=.*)?$/,
    (m) => ({ kind: 'created', itemType: 'appointment', itemId: Number(m[1]), folderId: Number(m[3]), subject: m[4] as string, name: m[4] as string, uid: m[5] as string }),
  ],
  [
    /^[Aa]dding [Ff]older (.*?): id=(\d+), parentId=(\d+)\.?$/,
    (m) => ({ kind: 'created', itemType: 'folder', itemId: Number(m[2]), folderId: Number(m[3]), name: m[1] as string }),
  ],
  [/^Adding SearchFolder (.*?): id=(\d+), parentId=(\d+)/, (m) => ({ kind: 'created', itemType: 'search', itemId: Number(m[2]), folderId: Number(m[3]), name: m[1] as string })],
  [/^Adding Mountpoint (.*?): id=(\d+), parentId=(\d+)/, (m) => ({ kind: 'created', itemType: 'folder', itemId: Number(m[2]), folderId: Number(m[3]), name: m[1] as string })],
  [/^Adding Tag (.*?): id=(\d+)\.?$/, (m) => ({ kind: 'created', itemType: 'tag', itemId: Number(m[2]), folderId: 8, name: m[1] as string })],
  [new RegExp(`^renaming ${CTX} to (.+?)\\.?$`), (m) => ({ kind: 'renamed', itemType: typeOf(m[1] as string), itemId: Number(m[3]), name: m[4] as string })],
]

/** Loggers whose lines can record item changes; everything else is skipped without a look. */
export const CHANGE_LOGGERS: ReadonlySet<string> = new Set(['mailop', 'mailbox', 'calendar'])

export const classify = (message: string): LogChange | undefined => {
  for (const [re, make] of RULES) {
    const m = re.exec(message)
    if (m !== null) return make(m)
  }
  return undefined
}
