/** mboxrd: a `From ` line before each message, `>` added to lines that start with `>*From `. */

const FROM = Buffer.from('From ')
const LF = Buffer.from('\n')
const LF2 = Buffer.from('\n\n')

/** The `From ` separator line of an entry: the envelope sender and the date in asctime form. */
const separator = (date: number): Buffer => {
  const asctime = new Date(date)
    .toUTCString()
    .replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, wd: string, day: string, mon: string, y: string, t: string) => `${wd} ${mon} ${day.padStart(2, ' ')} ${t} ${y}`)
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n`, 'latin1')
}

/**
 * One mboxrd entry. A message with no `From ` anywhere needs no quoting and its bytes are taken as
 * they are (most messages: what this saves is a text copy and a regular expression over each,
 * 50 MB attachments included); the others are quoted line by line.
 */
export const mboxEntry = (bytes: Buffer, date: number): Buffer => {
  const body = bytes.indexOf(FROM) < 0 ? bytes : Buffer.from(bytes.toString('latin1').replace(/^(>*From )/gm, '>$1'), 'latin1')
  const endsWithLf = body.length > 0 && body[body.length - 1] === 0x0a
  return Buffer.concat([separator(date), body, endsWithLf ? LF : LF2])
}
