import { evolveAccount, evolveItem } from '../../domain/evolve'
import type { ItemEvent, AccountEvent } from '../../domain/events'
import type { ItemState } from '../../domain/state'
import { initialAccountState } from '../../domain/state'
import { A, ev, T } from '../support/build'

const fold = (events: ItemEvent[]): ItemState | undefined => events.reduce<ItemState | undefined>((s, e) => evolveItem(s, e), undefined)
const t1 = T('2026-03-01T10:00:00Z')
const t2 = T('2026-03-02T10:00:00Z')
const t3 = T('2026-03-03T10:00:00Z')
const msg = ev('ItemCreated', 'a', t1, {
  itemId: 300 as never,
  itemType: 'message',
  folderId: 2 as never,
  flags: ['\\Seen', '\\Flagged', '\\Seen'] as never,
  tags: [],
  content: { digest: 'd1', size: 10 },
}) as ItemEvent

describe('evolve', () => {
  it('a created message is live in its folder with de-duplicated, sorted flags', () => {
    expect(fold([msg])).toMatchObject({ itemId: 300, folderId: 2, status: 'live', known: true, flags: ['\\Flagged', '\\Seen'], createdAt: t1 })
  })

  it('moving to Trash is a move, not a deletion', () => {
    const s = fold([msg, ev('ItemMoved', 'a', t2, { itemId: 300 as never, folderId: 3 as never }) as ItemEvent])
    expect(s).toMatchObject({ folderId: 3, status: 'live' })
  })

  it('a deletion keeps the last state and records when', () => {
    const s = fold([msg, ev('ItemMoved', 'a', t2, { itemId: 300 as never, folderId: 3 as never }) as ItemEvent, ev('ItemDeleted', 'a', t3, { itemId: 300 as never }) as ItemEvent])
    expect(s).toMatchObject({ folderId: 3, status: 'deleted', deletedAt: t3, content: { digest: 'd1', size: 10 } })
  })

  it('a change to an item never seen created yields a stub that says so', () => {
    const s = fold([ev('ItemMoved', 'a', t2, { itemId: 301 as never, folderId: 3 as never, itemType: 'message' }) as ItemEvent])
    expect(s).toEqual({ itemId: 301, itemType: 'message', folderId: 3, flags: [], tags: [], status: 'live', known: false })
  })

  it('a purge after a deletion marks the item purged with the reason', () => {
    const s = fold([
      msg,
      ev('ItemDeleted', 'a', t2, { itemId: 300 as never }) as ItemEvent,
      ev('ItemPurged', 'a', t3, { itemId: 300 as never, reason: 'retention 30 days' }) as ItemEvent,
    ])
    expect(s).toMatchObject({ status: 'purged', purgedAt: t3, purgeReason: 'retention 30 days', deletedAt: t2 })
  })

  it('account events set the name, deletion and legal hold', () => {
    const events = [
      ev('AccountCreated', 'a', t1, { name: 'a@example.com' }),
      ev('LegalHoldSet', 'a', t2, { reason: 'case 42' }),
      ev('AccountRenamed', 'a', t2, { name: 'b@example.com' }),
      ev('AccountDeleted', 'a', t3, {}),
    ] as AccountEvent[]
    const s = events.reduce(evolveAccount, initialAccountState(A('a')))
    expect(s).toMatchObject({ name: 'b@example.com', createdAt: t1, deletedAt: t3, legalHold: { since: t2, reason: 'case 42' } })
    expect(evolveAccount(s, ev('LegalHoldReleased', 'a', t3, {}) as AccountEvent).legalHold).toBeUndefined()
  })
})
