/** mboxrd entries: the fast path (no `From ` in the message) gives the same bytes as quoting every line. */
import fc from 'fast-check'
import { mboxEntry } from '../../src/export/mbox'

/** The plain definition: decode, quote every line that starts with `>*From `, end with a blank line. */
const reference = (bytes: Buffer, date: number): Buffer => {
  const d = new Date(date)
  const asctime = d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, wd: string, day: string, mon: string, y: string, t: string) => `${wd} ${mon} ${day.padStart(2, ' ')} ${t} ${y}`)
  const body = bytes.toString('latin1').replace(/^(>*From )/gm, '>$1')
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n${body}${body.endsWith('\n') ? '' : '\n'}\n`, 'latin1')
}

const pieces = fc.constantFrom('From ', '>From ', '>>From x', 'From: a@b', '\n', '\r\n', 'body ', 'é', '\u0000', 'Fro', 'm ')

describe('mboxEntry', () => {
  it('equals the line-by-line definition for any bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)), fc.array(pieces, { maxLength: 30 }).map((p) => Buffer.from(p.join(''), 'utf8'))),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (bytes, date) => {
          expect(mboxEntry(bytes, date).equals(reference(bytes, date))).toBe(true)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
