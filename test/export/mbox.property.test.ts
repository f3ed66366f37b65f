/** mboxrd entries: the fast paths (no `From ` in the message, the separator's date) give the same bytes as the plain definition. */
import fc from 'fast-check'
import { mboxEntry } from '../../src/export/mbox'

/**
 * The plain definition: an asctime date (day padded with a space, as C's asctime prints it), the
 * body with every line that starts with `>*From ` quoted, and a blank line at the end.
 */
const reference = (bytes: Buffer, date: number): Buffer => {
  const d = new Date(date)
  const asctime = d
    .toUTCString()
    .replace(
      /^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/,
      (_, wd: string, day: string, mon: string, y: string, t: string) => `${wd} ${mon} ${String(Number(day)).padStart(2, ' ')} ${t} ${y}`,
    )
  const body = bytes.toString('latin1').replace(/^(>*From )/gm, '>$1')
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n${body}${body.endsWith('\n') ? '' : '\n'}\n`, 'latin1')
}

const pieces = fc.constantFrom('From ', '>From ', '>>From x', 'From: a@b', '\n', '\r\n', 'body ', 'é', '\u0000', 'Fro', 'm ')

describe('mboxEntry', () => {
  it('equals the line-by-line definition for any bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc.array(pieces, { maxLength: 30 }).map((p) => Buffer.from(p.join(''), 'utf8')),
        ),
        fc.integer({ min: 0, max: 4_102_444_800_000 }),
        (bytes, date) => {
          const entry = Buffer.concat(mboxEntry(bytes, date).map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)))
          expect(entry.equals(reference(bytes, date))).toBe(true)
        },
      ),
      { numRuns: 3000 },
    )
  })
})
