/**
 * Content batches as they cross to a worker: for all sequences of batches (digests, sizes, content
 * files, MBOX paths holding any character, spaces and newlines included, dates), what the worker
 * decodes is what was encoded, batch after batch, with each MBOX path sent once.
 */
import fc from 'fast-check'
import { batchDecoder, batchEncoder } from '../../src/export/contentBatch'
import type { ContentJob } from '../../src/export/contentFiles'

const hex = fc.array(fc.constantFrom(...'0123456789abcdef'), { minLength: 64, maxLength: 64 }).map((d) => d.join(''))
const job: fc.Arbitrary<ContentJob> = fc
  .record({
    digest: hex,
    size: fc.nat(),
    rel: fc.option(fc.constantFrom('messages', 'contacts', 'calendar'), { nil: undefined }),
    mbox: fc.option(
      fc.record({ rel: fc.oneof(fc.constantFrom('mbox/INBOX.mbox', 'mbox/Sent Items.mbox', 'mbox/a\nb.mbox'), fc.string()), date: fc.integer({ min: 0, max: 2 ** 43 }) }),
      { nil: undefined },
    ),
  })
  .map(({ digest, size, rel, mbox }) => ({ digest, size, ...(rel === undefined ? {} : { rel: `${rel}/${digest}.x` }), ...(mbox === undefined ? {} : { mbox }) }))

describe('content batches', () => {
  it('decode to the jobs encoded, across batches', () => {
    fc.assert(
      fc.property(fc.array(fc.array(job, { maxLength: 20 }), { maxLength: 6 }), (batches) => {
        const encode = batchEncoder()
        const decode = batchDecoder()
        const sent = new Set<string>()
        for (const jobs of batches) {
          const wire = encode(jobs)
          for (const m of wire.mboxes) {
            expect(sent.has(m)).toBe(false)
            sent.add(m)
          }
          expect(wire.jobs).toBe(jobs.length)
          expect(decode(wire)).toEqual(jobs)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('refuses a batch naming an MBOX the worker was never sent', () => {
    const encode = batchEncoder()
    const wire = encode([{ digest: 'a'.repeat(64), size: 1, mbox: { rel: 'mbox/x.mbox', date: 0 } }])
    expect(() => batchDecoder()({ ...wire, mboxes: [] })).toThrow(/MBOX 0/)
  })
})
