/**
 * fast-check generators of account histories: folders and messages created, moved, renamed,
 * re-flagged, re-tagged, deleted and purged, with instants that collide and arrive late, appended
 * in batches whose system time may also go backwards. Some facts repeat an earlier one (the same
 * change of the same item) at another instant, often earlier and recorded later: a scan dates a
 * change at the end of its window, and a log line imported afterwards pins it before.
 */
import fc from 'fast-check'
import type { MailEvent } from '../../domain/events'
import { ev } from './build'

export const ACCOUNT = 'prop@example.com'
const FOLDERS = [256, 257, 258]
const MESSAGES = [300, 301, 302, 303, 304, 305, 306, 307]
const PARENTS = [1, 2, 3, ...FOLDERS]
const FLAGS = ['\\Seen', '\\Flagged', '\\Answered', '\\Deleted']
const TAGS = ['work', 'home', 'undelete_01_01_26']

const instantArb = fc.integer({ min: 1, max: 40 }).map((n) => n * 1000)

type Spec = { kind: string; item: number; at: number; arg: number; set: string[] }

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom('create', 'create', 'move', 'rename', 'flags', 'tags', 'content', 'delete', 'purge', 'account', 'repeat', 'repeat'),
  item: fc.constantFrom(...FOLDERS, ...MESSAGES),
  at: instantArb,
  arg: fc.nat({ max: 100 }),
  set: fc.subarray([...FLAGS, ...TAGS]),
})

const toEvent = (s: Spec, recordedAt: number, seq: number): MailEvent => {
  const isFolder = FOLDERS.includes(s.item)
  const itemId = s.item as never
  const o = { recordedAt, seq }
  const flags = s.set.filter((f) => f.startsWith('\\')) as never[]
  const tags = s.set.filter((f) => !f.startsWith('\\')) as never[]
  const parent = PARENTS[s.arg % PARENTS.length]! as never
  switch (s.kind) {
    case 'create':
      return isFolder
        ? ev('ItemCreated', ACCOUNT, s.at, { itemId, itemType: 'folder', folderId: parent, name: `F${s.arg}`, flags: [], tags: [] }, o)
        : ev(
            'ItemCreated',
            ACCOUNT,
            s.at,
            {
              itemId,
              itemType: 'message',
              folderId: parent,
              flags,
              tags,
              content: { digest: `d${s.arg}`, size: s.arg },
              headers: { subject: `s${s.arg}` },
            },
            o,
          )
    case 'move':
      return ev('ItemMoved', ACCOUNT, s.at, { itemId, folderId: parent }, o)
    case 'rename':
      return ev('ItemRenamed', ACCOUNT, s.at, { itemId, name: `R${s.arg}` }, o)
    case 'flags':
      return ev('ItemFlagsChanged', ACCOUNT, s.at, { itemId, flags }, o)
    case 'tags':
      return ev('ItemTagsChanged', ACCOUNT, s.at, { itemId, tags }, o)
    case 'content':
      return ev('ItemContentChanged', ACCOUNT, s.at, { itemId, content: { digest: `c${s.arg}`, size: s.arg } }, o)
    case 'delete':
      return ev('ItemDeleted', ACCOUNT, s.at, { itemId }, o)
    case 'purge':
      return ev('ItemPurged', ACCOUNT, s.at, { itemId, reason: 'retention' }, o)
    default:
      return s.arg % 3 === 0
        ? ev('AccountCreated', ACCOUNT, s.at, { name: ACCOUNT }, o)
        : s.arg % 3 === 1
          ? ev('LegalHoldSet', ACCOUNT, s.at, {}, o)
          : ev('AccountRenamed', ACCOUNT, s.at, { name: `renamed${s.arg}@example.com` }, o)
  }
}

export interface History {
  /** Batches in append order; each batch shares one system time unless `skewed`. */
  readonly batches: MailEvent[][]
  readonly recordedTimes: number[]
}

export const historyArb: fc.Arbitrary<History> = fc
  .array(
    fc.record({
      specs: fc.array(specArb, { minLength: 1, maxLength: 6 }),
      // Most batches are recorded after the previous one; some go back in system time.
      recordedStep: fc.integer({ min: -3, max: 10 }),
      skewed: fc.boolean(),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((bs) => {
    let recorded = 50_000
    let seq = 0
    const recordedTimes: number[] = []
    const earlier: Spec[] = []
    // A repeat takes an earlier fact's change (item and payload) and gives it its own instant, so
    // that it changes nothing where it lands, or something when facts between them differ.
    const resolve = (s: Spec): Spec => {
      if (s.kind !== 'repeat') return s
      const o = earlier[s.arg % Math.max(1, earlier.length)]
      return o === undefined ? { ...s, kind: 'flags' } : { ...o, at: s.set.length % 2 === 0 ? Math.max(1000, o.at - 1000 * (1 + (s.arg % 5))) : s.at }
    }
    const batches = bs.map((b) => {
      recorded += b.recordedStep * 1000
      return b.specs.map((raw) => {
        const s = resolve(raw)
        earlier.push(s)
        const r = b.skewed ? recorded + (s.arg % 4) * 100 : recorded
        recordedTimes.push(r)
        return toEvent(s, r, seq++)
      })
    })
    return { batches, recordedTimes }
  })
