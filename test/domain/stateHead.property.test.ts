/**
 * The head of a stored state (id, type, folder), read without decoding it, is the decoded state's,
 * for all states of random histories, alone or inside a newline-joined run as the index reads them;
 * and anything else is refused rather than misread.
 */
import fc from 'fast-check'
import { isItemEvent } from '../../domain/events'
import { type StateHead, readStateHead, stateText } from '../../domain/stateText'
import { itemVersions } from '../../projections/versions'
import { pushJoinedRefs, sortRefs, stateRef } from '../../src/store/stateRefs'
import type { LiveItemRef } from '../../projections/timeTravel'
import { historyArb } from '../support/histories'

const stateHead = (text: string): StateHead | undefined => {
  const h: StateHead = { itemId: 0, itemType: 'message', folderId: 0 }
  return readStateHead(text, 0, h) ? h : undefined
}

describe('stored state heads', () => {
  it('agree with the decoded state, alone and joined, and references decode to the same state', () => {
    fc.assert(
      fc.property(historyArb, (h) => {
        const items = h.batches
          .flat()
          .filter(isItemEvent)
          .map((event, revision) => ({ event, revision }))
        const states = itemVersions(items).map((v) => v.state)
        for (const s of states) {
          expect(stateHead(stateText(s))).toEqual({ itemId: s.itemId, itemType: s.itemType, folderId: s.folderId })
          expect(stateRef(stateText(s)).state()).toEqual(s)
        }
        const refs: LiveItemRef[] = []
        pushJoinedRefs(states.map(stateText).join('\n'), refs)
        expect(refs.map((r) => [r.itemId, r.itemType, r.folderId, r.state()])).toEqual(states.map((s) => [s.itemId, s.itemType, s.folderId, s]))
        expect(sortRefs(refs).map((r) => r.itemId)).toEqual(states.map((s) => s.itemId).sort((a, b) => a - b))
      }),
      { numRuns: 100 },
    )
  })

  it('refuses what does not start as a stored state', () => {
    for (const bad of [
      '',
      '[',
      '[2,5,"message",2,',
      '[1,0,"message",2,',
      '[1,05,"message",2,',
      '[1,5,"messages",2,',
      '[1,5,"message",x,',
      '[1,5,message,2,',
      '[1,5,"message",2]',
      '[1,1234567890123456,"message",2,',
      '{"itemId":5}',
    ])
      expect(stateHead(bad)).toBeUndefined()
    expect(() => stateRef('[1,5,"message"')).toThrow(/not a stored item state/)
    expect(() => pushJoinedRefs(`${'[1,5,"message",2,[],[],"live",1,null,null,null,null,null,null,null,null,null,null]'}\ngarbage`, [])).toThrow(
      /not a stored item state: "garbage"/,
    )
  })

  it('a reference whose state is corrupt raises a store error naming it when read', () => {
    const r = stateRef('[1,5,"message",2,"not flags"]')
    expect(r.itemId).toBe(5)
    expect(() => r.state()).toThrow(/item_versions.*stored item state/)
  })
})
