/** mboxrd: a `From ` line before each message, `>` added to lines that start with `>*From `. */

const FROM = Buffer.from('From ')

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const two = (n: number) => (n < 10 ? `0${n}` : `${n}`)

/**
 * The `From ` separator line of an entry: the envelope sender and the date in asctime form
 * (`Thu Mar  5 14:02:09 2026`, UTC). Built from the date's fields: formatting through
 * `toUTCString` and a regular expression was a twelfth of an export's content writing.
 */
export const separator = (date: number): string => {
  const d = new Date(date)
  const day = d.getUTCDate()
  return `From MAILER-DAEMON ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${day < 10 ? ` ${day}` : day} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}\n`
}

/**
 * One mboxrd entry, as the parts to write in order. A message with no `From ` anywhere needs no
 * quoting and its bytes are taken as they are (most messages: what this saves is a text copy and
 * a regular expression over each, 50 MB attachments included); the others are quoted line by line.
 */
export const mboxEntry = (bytes: Buffer, date: number): [string, Buffer, string] => {
  const body = bytes.indexOf(FROM) < 0 ? bytes : Buffer.from(bytes.toString('latin1').replace(/^(>*From )/gm, '>$1'), 'latin1')
  const endsWithLf = body.length > 0 && body[body.length - 1] === 0x0a
  return [separator(date), body, endsWithLf ? '\n' : '\n\n']
}
