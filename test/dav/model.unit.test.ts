/** The event model's DAV additions: events carry a DAV location and fields, the fold keeps them, and the stored state text round-trips them. */
import * as E from 'fp-ts/Either'
import { decodeMailEvent } from '../../domain/decodeEvent'
import { MailEvent } from '../../domain/events'
import { evolveItem } from '../../domain/evolve'
import type { AccountId, ItemId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import { eventJson } from '../../domain/json'
import { makeEvent } from '../../domain/makeEvent'
import type { ItemState } from '../../domain/state'
import { StoredItemState, parseStateText, stateText } from '../../domain/stateText'
import { oracleApplyItem } from '../support/oracle'

const account = 'alice' as AccountId
const at = (s: string): Instant => instant(Date.parse(s))
const prov = (seq: number) => ({
  accountId: account,
  observedVia: 'dav-sync' as const,
  source: { kind: 'dav', href: '/alice/contacts/a.vcf', etag: `"e${seq}"`, seq },
  recordedAt: at('2026-03-01T10:00:00Z'),
})

const created = makeEvent('ItemCreated', prov(1), at('2026-03-01T09:00:00Z'), {
  itemId: 300 as ItemId,
  itemType: 'contact',
  folderId: 257 as ItemId,
  flags: [],
  tags: [],
  name: 'Zoë Ünal',
  uid: 'c1',
  content: { digest: 'a'.repeat(64), size: 120 },
  dav: { href: '/alice/contacts/a.vcf', etag: '"e1"' },
  davFields: { emails: ['zoe@example.com'], n: 'Ünal;Zoë;;;' },
})
const changed = makeEvent('ItemContentChanged', prov(2), at('2026-03-02T09:00:00Z'), {
  itemId: 300 as ItemId,
  itemType: 'contact',
  content: { digest: 'b'.repeat(64), size: 130 },
  name: 'Zoë Ünal-Berg',
  uid: 'c1',
  dav: { href: '/alice/contacts/a.vcf', etag: '"e2"' },
  davFields: { emails: ['zoe@example.org'] },
})
const moved = makeEvent('ItemMoved', prov(3), at('2026-03-03T09:00:00Z'), {
  itemId: 300 as ItemId,
  folderId: 258 as ItemId,
  itemType: 'contact',
  dav: { href: '/alice/work/a.vcf', etag: '"e2"' },
})

describe('DAV items in the event model', () => {
  it('events with a DAV location and fields decode through the codec and the fast path to the same value', () => {
    for (const e of [created, changed, moved]) {
      const json = JSON.parse(eventJson(e)) as unknown
      expect(MailEvent.decode(json)).toEqual(E.right(e))
      expect(decodeMailEvent(json)).toEqual(E.right(e))
    }
  })

  it('the fast path refuses a malformed DAV location, as the codec does', () => {
    const bad = { ...(JSON.parse(eventJson(created)) as Record<string, unknown>), dav: { etag: 'x' } }
    expect(E.isLeft(MailEvent.decode(bad))).toBe(true)
    expect(E.isLeft(decodeMailEvent(bad))).toBe(true)
  })

  it('a new version replaces the content, name, UID, location and fields; a move changes folder and location', () => {
    const s1 = evolveItem(undefined, created)
    const s2 = evolveItem(s1, changed)
    const s3 = evolveItem(s2, moved)
    expect(s2).toMatchObject({ name: 'Zoë Ünal-Berg', content: { digest: 'b'.repeat(64) }, dav: { etag: '"e2"' }, davFields: { emails: ['zoe@example.org'] } })
    expect(s2.davFields?.n).toBeUndefined()
    expect(s3).toMatchObject({ folderId: 258, dav: { href: '/alice/work/a.vcf' }, name: 'Zoë Ünal-Berg' })
    // The independent oracle (written from docs/events.md) folds the same.
    const o = [created, changed, moved].reduce<ItemState | undefined>((s, e) => oracleApplyItem(s, e), undefined)
    expect(o).toEqual(s3)
  })

  it('the stored state text round-trips a DAV state, and a state without DAV keeps its 18 fields', () => {
    const s = evolveItem(evolveItem(undefined, created), changed)
    const text = stateText(s)
    expect((JSON.parse(text) as unknown[]).length).toBe(19)
    expect(StoredItemState.decode(JSON.parse(text))).toEqual(E.right(s))
    const { dav: _d, davFields: _f, ...plain } = s
    expect((JSON.parse(stateText(plain)) as unknown[]).length).toBe(18)
    expect(parseStateText(stateText(plain))).toEqual({ ok: true, state: plain })
  })

  it('a stored state with a damaged DAV field is refused with the reason', () => {
    const text = stateText(evolveItem(undefined, created)).replace('"href"', '"hrefx"')
    const r = parseStateText(text)
    expect(r.ok).toBe(false)
    expect(!r.ok && r.reason).toMatch(/dav location/)
  })
})
