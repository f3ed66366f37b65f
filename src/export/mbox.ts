/** mboxrd: a `From ` line before each message, `>` added to lines that start with `>*From `. */
export const mboxEntry = (bytes: Buffer, date: number): Buffer => {
  const d = new Date(date)
  const asctime = d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, (_, wd: string, day: string, mon: string, y: string, t: string) => `${wd} ${mon} ${day.padStart(2, ' ')} ${t} ${y}`)
  const body = bytes.toString('latin1').replace(/^(>*From )/gm, '>$1')
  const end = body.endsWith('\n') ? '' : '\n'
  return Buffer.from(`From MAILER-DAEMON ${asctime}\n${body}${end}\n`, 'latin1')
}

