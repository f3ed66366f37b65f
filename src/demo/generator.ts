/**
 * The demo history: three accounts living through 90 days of mail, with deliveries, sent mail,
 * reading and flagging, tags, filing into folders, Trash and emptied Trash, folder renames and
 * deletions, contacts and appointments, and one mass deletion (Alice's account is wiped on day
 * 80). The generator is pure and seeded: the same seed and end instant give the same events.
 */
import { createHash } from 'crypto'
import type { AccountId, ItemId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { Flag, Tag } from '../../domain/flags'
import type { MailEvent } from '../../domain/events'
import { FolderIds } from '../../domain/folders'
import { type Payload, makeEvent } from '../../domain/makeEvent'
import type { EventType } from '../../domain/events'
import { icalBytes, messageBytes, person, sentence, vcardBytes } from './corpus'
import { type Rng, rng } from './random'

const HOUR = 3600_000
const DAY = 24 * HOUR

export interface DemoAccount {
  readonly accountId: AccountId
  readonly events: MailEvent[]
  /** Bodies to store before the events that reference them, by digest. */
  readonly blobs: Map<string, Buffer>
  /** When the account's mass deletion happened, if it had one. */
  readonly massDeletionAt?: Instant
  /** An item whose life shows a move to Trash and a deletion. */
  readonly showcaseItem?: ItemId
}

interface Profile {
  readonly id: string
  readonly perDay: number
  readonly folders: readonly [string, string | null][]
  readonly contacts: number
  readonly appointments: number
}

const PROFILES: readonly Profile[] = [
  {
    id: 'alice@example.com',
    perDay: 20,
    folders: [
      ['Projects', null],
      ['Alpha', 'Projects'],
      ['Beta', 'Projects'],
      ['Receipts', null],
      ['Travel', null],
    ],
    contacts: 10,
    appointments: 10,
  },
  {
    id: 'bob@example.com',
    perDay: 15,
    folders: [
      ['Receipts', null],
      ['Newsletters', null],
      ['Family', null],
    ],
    contacts: 10,
    appointments: 20,
  },
  {
    id: 'carol@example.com',
    perDay: 10,
    folders: [
      ['Clients', null],
      ['Invoices', 'Clients'],
      ['Personal', null],
    ],
    contacts: 60,
    appointments: 40,
  },
]

type Action = { readonly at: number; readonly order: number; readonly run: () => void }

interface Item {
  readonly id: ItemId
  folder: number
  flags: string[]
  tags: string[]
  live: boolean
  readonly type: 'message' | 'folder' | 'contact' | 'appointment'
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

const simulate = (p: Profile, end: Instant, seed: number): DemoAccount => {
  const r: Rng = rng(seed)
  const accountId = p.id as AccountId
  // Days start at midnight UTC, so the demo's landmarks fall at the same clock times on every run.
  const start = Math.floor(end / DAY) * DAY - 89 * DAY
  const events: MailEvent[] = []
  const blobs = new Map<string, Buffer>()
  const items = new Map<number, Item>()
  const folderIds = new Map<string, number>()
  const actions: Action[] = []
  let nextId = 256
  let seq = 0
  let order = 0
  let massDeletionAt: Instant | undefined
  let showcaseItem: ItemId | undefined

  let running: ActionQueue | undefined
  const schedule = (at: number, run: () => void) => {
    const a = { at: Math.min(at, end - 1), order: order++, run }
    if (running === undefined) actions.push(a)
    else running.push(a)
  }
  const emit = <K extends EventType>(type: K, at: number, payload: Payload<K>) =>
    events.push(makeEvent(type, { accountId, observedVia: 'demo', source: { kind: 'demo', seq: seq++ }, recordedAt: instant(at + 2 * 60_000) }, instant(at), payload))
  const workTime = (day: number) => start + day * DAY + r.int(7, 19) * HOUR + r.int(0, 3599) * 1000

  emit('AccountCreated', start - DAY, { name: p.id })
  let t0 = start - DAY + 60_000
  for (const [name, parent] of p.folders) {
    const id = nextId++
    folderIds.set(name, id)
    items.set(id, { id: id as ItemId, folder: parent === null ? 1 : (folderIds.get(parent) ?? 1), flags: [], tags: [], live: true, type: 'folder' })
    emit('ItemCreated', (t0 += 1000), {
      itemId: id as ItemId,
      itemType: 'folder',
      folderId: (parent === null ? FolderIds.USER_ROOT : (folderIds.get(parent) ?? 1)) as ItemId,
      name,
      flags: [],
      tags: [],
    })
  }
  const userFolders = [...folderIds.values()]

  const setFlags = (it: Item, at: number, flags: string[]) => {
    if (!it.live) return
    it.flags = [...new Set(flags)].sort()
    emit('ItemFlagsChanged', at, { itemId: it.id, flags: it.flags as Flag[] })
  }
  const move = (it: Item, at: number, folder: number) => {
    // Nothing is filed into a folder that was deleted (Bob's Newsletters on day 70).
    if (!it.live || it.folder === folder || items.get(folder)?.live === false) return
    const from = it.folder
    it.folder = folder
    emit('ItemMoved', at, { itemId: it.id, folderId: folder as ItemId, fromFolderId: from as ItemId })
  }
  const remove = (it: Item, at: number) => {
    if (!it.live) return
    it.live = false
    emit('ItemDeleted', at, { itemId: it.id, itemType: it.type, folderId: it.folder as ItemId })
  }

  const deliver = (at: number, folder: number, outgoing: boolean) => {
    const id = nextId++
    const from = outgoing ? { name: p.id.split('@')[0] ?? p.id, address: p.id } : person(r)
    const subject = sentence(r, r.int(2, 7))
    const messageId = `<${sha256(Buffer.from(`${p.id}/${id}`)).slice(0, 16)}@${outgoing ? 'example.com' : from.address.split('@')[1]}>`
    const bytes = messageBytes(r, { from, to: outgoing ? person(r).address : p.id, subject, messageId, date: at })
    const digest = sha256(bytes)
    blobs.set(digest, bytes)
    const it: Item = { id: id as ItemId, folder, flags: outgoing ? ['\\Seen'] : [], tags: [], live: true, type: 'message' }
    items.set(id, it)
    emit('ItemCreated', at, {
      itemId: it.id,
      itemType: 'message',
      folderId: folder as ItemId,
      flags: it.flags as Flag[],
      tags: [],
      content: { digest, size: bytes.length },
      headers: { subject, from: `${from.name} <${from.address}>`, to: outgoing ? 'someone' : p.id, messageId, date: new Date(at).toUTCString() },
      internalDate: instant(at),
    })
    if (outgoing) return
    // What the user does with it later.
    if (r.chance(0.8)) schedule(at + (r.int(1, 30) * HOUR) / 3, () => setFlags(it, 0, [...it.flags, '\\Seen']))
    if (r.chance(0.1)) schedule(at + r.int(2, 48) * HOUR, () => setFlags(it, 0, [...it.flags, '\\Flagged']))
    if (r.chance(0.15)) schedule(at + r.int(3, 60) * HOUR, () => setFlags(it, 0, [...it.flags, '\\Seen', '\\Answered']))
    if (r.chance(0.25))
      schedule(at + r.int(1, 72) * HOUR, () => {
        if (!it.live) return
        it.tags = [...new Set([...it.tags, r.pick(['work', 'urgent', 'personal', 'later'])])].sort()
        emit('ItemTagsChanged', 0, { itemId: it.id, tags: it.tags as Tag[] })
      })
    if (r.chance(0.3)) schedule(at + r.int(1, 72) * HOUR, () => move(it, 0, r.pick(userFolders)))
    if (r.chance(0.12)) schedule(at + r.int(1, 200) * HOUR, () => move(it, 0, FolderIds.TRASH))
  }

  for (let day = 0; day < 90; day++) {
    const n = Math.max(0, p.perDay + r.int(-5, 5))
    for (let k = 0; k < n; k++) {
      const at = workTime(day)
      schedule(at, () => deliver(at, FolderIds.INBOX, false))
    }
    if (r.chance(0.8)) {
      const at = workTime(day)
      schedule(at, () => deliver(at, FolderIds.SENT, true))
    }
  }
  for (let k = 0; k < p.contacts; k++) {
    const at = workTime(r.int(0, 89))
    schedule(at, () => {
      const id = nextId++
      const who = person(r)
      const uid = `contact-${p.id}-${id}`
      const bytes = vcardBytes(who, uid)
      const digest = sha256(bytes)
      blobs.set(digest, bytes)
      items.set(id, { id: id as ItemId, folder: FolderIds.CONTACTS, flags: [], tags: [], live: true, type: 'contact' })
      emit('ItemCreated', at, {
        itemId: id as ItemId,
        itemType: 'contact',
        folderId: FolderIds.CONTACTS as ItemId,
        flags: [],
        tags: [],
        name: who.name,
        uid,
        content: { digest, size: bytes.length },
        headers: { from: who.address },
      })
    })
  }
  for (let k = 0; k < p.appointments; k++) {
    const at = workTime(r.int(0, 89))
    schedule(at, () => {
      const id = nextId++
      const uid = `appt-${p.id}-${id}`
      const summary = sentence(r, 3)
      const bytes = icalBytes(uid, summary, at + DAY)
      const digest = sha256(bytes)
      blobs.set(digest, bytes)
      items.set(id, { id: id as ItemId, folder: FolderIds.CALENDAR, flags: [], tags: [], live: true, type: 'appointment' })
      emit('ItemCreated', at, {
        itemId: id as ItemId,
        itemType: 'appointment',
        folderId: FolderIds.CALENDAR as ItemId,
        flags: [],
        tags: [],
        name: summary,
        uid,
        content: { digest, size: bytes.length },
        headers: { subject: summary },
      })
    })
  }
  // Emptying Trash deletes (hard) everything in it at that instant.
  for (const day of [30, 60]) {
    const at = start + day * DAY + 18 * HOUR
    schedule(at, () => {
      let i = 0
      for (const it of items.values())
        if (it.live && it.folder === FolderIds.TRASH && it.type === 'message') {
          if (showcaseItem === undefined && events.some((e) => e.type === 'ItemMoved' && e.itemId === it.id)) showcaseItem = it.id
          remove(it, at + i++ * 50)
        }
    })
  }
  const firstFolder = userFolders[0]
  const lastFolder = userFolders[userFolders.length - 1]
  if (p.id.startsWith('alice') && lastFolder !== undefined && firstFolder !== undefined) {
    schedule(start + 45 * DAY + 9 * HOUR, () => emit('ItemRenamed', start + 45 * DAY + 9 * HOUR, { itemId: lastFolder as ItemId, name: 'Trips 2026' }))
    // The wipe: everything in Inbox and under Projects, hard-deleted within a couple of minutes.
    const at = start + 80 * DAY + 14 * HOUR + 2 * 60_000
    schedule(at, () => {
      massDeletionAt = instant(at)
      const projects = new Set(userFolders.filter((f) => f === firstFolder || items.get(f)?.folder === firstFolder))
      let i = 0
      for (const it of items.values()) if (it.live && it.type === 'message' && (it.folder === FolderIds.INBOX || projects.has(it.folder))) remove(it, at + i++ * 100)
    })
  }
  if (p.id.startsWith('bob') && userFolders[0] !== undefined && userFolders[1] !== undefined) {
    const receipts = userFolders[0]
    const newsletters = userFolders[1]
    schedule(start + 20 * DAY + 10 * HOUR, () => emit('ItemRenamed', start + 20 * DAY + 10 * HOUR, { itemId: receipts as ItemId, name: 'Receipts 2026' }))
    const at = start + 70 * DAY + 16 * HOUR
    schedule(at, () => {
      let i = 0
      for (const it of items.values()) if (it.live && it.type === 'message' && it.folder === newsletters) remove(it, at + i++ * 100)
      const f = items.get(newsletters)
      if (f !== undefined) remove(f, at + i * 100 + 1000)
    })
  }

  // A time-ordered queue: follow-ups scheduled while an action runs take their place in it.
  const queue = new ActionQueue(actions)
  running = queue
  for (let a = queue.pop(); a !== undefined; a = queue.pop()) {
    const before = events.length
    a.run()
    for (let j = before; j < events.length; j++) {
      const e = events[j]
      if (e !== undefined && e.occurredAt === 0) events[j] = restamp(e, a.at)
    }
  }
  return {
    accountId,
    events,
    blobs,
    ...(massDeletionAt !== undefined && { massDeletionAt }),
    ...(showcaseItem !== undefined && { showcaseItem }),
  }
}

/** A binary min-heap of actions by (time, scheduling order). */
class ActionQueue {
  private readonly heap: Action[] = []
  constructor(initial: readonly Action[]) {
    for (const a of initial) this.push(a)
  }
  private less(i: number, j: number): boolean {
    const a = this.heap[i] as Action
    const b = this.heap[j] as Action
    return a.at < b.at || (a.at === b.at && a.order < b.order)
  }
  private swap(i: number, j: number): void {
    const t = this.heap[i] as Action
    this.heap[i] = this.heap[j] as Action
    this.heap[j] = t
  }
  push(a: Action): void {
    this.heap.push(a)
    for (let i = this.heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) break
      this.swap(i, p)
      i = p
    }
  }
  pop(): Action | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (this.heap.length > 0 && last !== undefined) {
      this.heap[0] = last
      for (let i = 0; ; ) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < this.heap.length && this.less(l, m)) m = l
        if (r < this.heap.length && this.less(r, m)) m = r
        if (m === i) break
        this.swap(i, m)
        i = m
      }
    }
    return top
  }
}

const restamp = (e: MailEvent, at: number): MailEvent => ({ ...e, occurredAt: instant(at), recordedAt: instant(at + 2 * 60_000) })

export const demoHistory = (end: Instant, seed = 20260303): DemoAccount[] => PROFILES.map((p, i) => simulate(p, end, seed + i))
