/** A state file's item line, written without sorting keys, is the sorted-keys JSON of the snapshot item. */
import fc from 'fast-check'
import { isItemEvent } from '../../domain/events'
import type { ItemState } from '../../domain/state'
import { itemVersions } from '../../projections/versions'
import { snapshotItem, snapshotItemJson } from '../../projections/snapshot'
import { stableStringify } from '../../src/cli/stableJson'
import { historyArb } from '../support/histories'

const textArb = fc.string({ unit: fc.constantFrom('a', 'é', '"', '\\', '\n', '\u0000', '/', '😀', ' ') })

describe('snapshotItemJson', () => {
  it('equals stableStringify of the snapshot item, for every state of random histories, with any folder path and subject', () => {
    fc.assert(
      fc.property(historyArb, textArb, fc.option(textArb, { nil: undefined }), (h, folder, subject) => {
        const items = h.batches
          .flat()
          .filter(isItemEvent)
          .map((event, revision) => ({ event, revision }))
        const states: ItemState[] = itemVersions(items).map((v) => v.state)
        for (const s of states) {
          const withSubject: ItemState = subject === undefined ? s : { ...s, headers: { ...s.headers, subject } }
          expect(snapshotItemJson(folder, withSubject)).toBe(stableStringify(snapshotItem(folder, withSubject), 0))
        }
      }),
      { numRuns: 200 },
    )
  })
})
