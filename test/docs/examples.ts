/**
 * The command examples of the Markdown docs, as data: which blocks show commands with their output,
 * the commands and the lines shown after each, and whether a real output matches them. Pure: the
 * runner (examples.e2e.test.ts) runs the commands.
 *
 * A block shows commands with output when it holds lines starting with `$ `; each such line is a
 * command (run with `sh` in the example's directory), and the lines after it, up to the next command,
 * are what it prints (stdout and stderr, as a terminal shows them). Such a block must follow a marker
 * on the line before its fence:
 *
 *   <!-- example session=<name> [setup=demo] [elided] [exit=<n>] [stop] -->
 *
 * - `session`: blocks of one file with the same session run in order in one directory, each
 *   continuing where the one before left off; the first starts in an empty directory, or in one
 *   holding the demo store when it says `setup=demo` (the docs' demo, DEMO_END below).
 * - `elided`: in this block, a line that is only `…` stands for any number of lines left out, and
 *   `…` within a line for any text. The doc must say so to its reader, next to the block. Without
 *   `elided`, `…` is a character like any other (the CLI prints it for open-ended times and cut text).
 * - `exit=<n>`: the block's commands may exit with n (shown failures); otherwise each must exit 0.
 * - `stop`: the last command runs until it has printed the lines shown, then gets SIGINT (a server).
 *
 * A line `$ export NAME=value` sets a variable for the rest of the session.
 */

/** The instant the docs' demo history ends at (26/11/2026 12:00:00 in Europe/Rome). */
export const DEMO_END = '2026-11-26T11:00:00Z'

export interface Command {
  /** 1-based line of the `$` line in its file. */
  readonly line: number
  readonly command: string
  readonly expected: readonly string[]
}

export interface Marker {
  readonly session: string
  readonly setup: 'empty' | 'demo'
  readonly elided: boolean
  readonly exit: number | undefined
  readonly stop: boolean
}

export interface Example {
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly marker: Marker
  readonly commands: readonly Command[]
}

export interface Problem {
  readonly file: string
  readonly line: number
  readonly message: string
}

const MARKER = /^<!--\s*example\b(.*?)-->\s*$/
const FENCE = /^\s*(```|~~~)/

const parseMarker = (text: string): Marker | string => {
  let session: string | undefined
  let setup: Marker['setup'] = 'empty'
  let elided = false
  let exit: number | undefined
  let stop = false
  for (const word of text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '')) {
    const [k, v] = word.split('=', 2) as [string, string | undefined]
    if (k === 'session' && v !== undefined && /^[\w-]+$/.test(v)) session = v
    else if (k === 'setup' && (v === 'demo' || v === 'empty')) setup = v
    else if (k === 'exit' && v !== undefined && /^\d+$/.test(v)) exit = Number(v)
    else if (word === 'elided') elided = true
    else if (word === 'stop') stop = true
    else return `unknown word ${JSON.stringify(word)} in the example marker`
  }
  if (session === undefined) return 'the example marker names no session (session=<name>)'
  return { session, setup, elided, exit, stop }
}

/** The examples of one Markdown file, and what is wrong with its blocks (an unmarked block of commands with output, a bad marker). */
export const parseExamples = (file: string, text: string): { examples: Example[]; problems: Problem[] } => {
  const lines = text.split('\n')
  const examples: Example[] = []
  const problems: Problem[] = []
  const sessions = new Set<string>()
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string)
    if (open === null) continue
    let end = i + 1
    while (end < lines.length && !(lines[end] as string).trimStart().startsWith(open[1] as string)) end++
    const body = lines.slice(i + 1, end)
    const markerText = i > 0 ? MARKER.exec(lines[i - 1] as string) : null
    const at = { file, line: i + 1 }
    const firstCommand = body.findIndex((l) => l.startsWith('$ '))
    if (markerText === null) {
      if (firstCommand >= 0 && body.slice(firstCommand + 1).some((l) => l.trim() !== '' && !l.startsWith('$ ')))
        problems.push({ ...at, message: 'a block shows commands with their output but has no example marker, so nothing checks that output' })
    } else {
      const marker = parseMarker(markerText[1] as string)
      if (typeof marker === 'string') problems.push({ ...at, message: marker })
      else if (firstCommand !== 0) problems.push({ ...at, message: 'an example block must begin with a `$ ` command line' })
      else if (marker.setup === 'demo' && sessions.has(marker.session)) problems.push({ ...at, message: `setup=demo on a block that continues session ${marker.session}` })
      else {
        sessions.add(marker.session)
        const commands: Command[] = []
        body.forEach((l, k) => {
          if (l.startsWith('$ ')) commands.push({ line: i + 2 + k, command: l.slice(2), expected: [] })
          else (commands[commands.length - 1]?.expected as string[]).push(l)
        })
        examples.push({ ...at, marker, commands })
      }
    }
    i = end
  }
  return { examples, problems }
}

/** Lines as compared: trailing spaces and trailing empty lines do not count (editors strip them). */
export const comparable = (text: string | readonly string[]): string[] => {
  const ls = (typeof text === 'string' ? text.replace(/\r?\n$/, '').split(/\r?\n/) : [...text]).map((l) => l.trimEnd())
  while (ls.length > 0 && ls[ls.length - 1] === '') ls.pop()
  return ls
}

const ELLIPSIS = '…'
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const lineMatcher = (expected: string, elided: boolean): ((actual: string) => boolean) => {
  if (!elided || !expected.includes(ELLIPSIS)) return (a) => a === expected
  const re = new RegExp(`^${expected.split(ELLIPSIS).map(escape).join('.*')}$`)
  return (a) => re.test(a)
}

/** Whether the real output matches the lines shown; `elided` as in the marker. */
export const matches = (expected: readonly string[], actual: readonly string[], elided: boolean): boolean => {
  const e = comparable(expected)
  const a = comparable(actual)
  const line = e.map((x) => lineMatcher(x, elided))
  const gap = e.map((x) => elided && x.trim() === ELLIPSIS)
  // can[i][j]: e[i..] matches a[j..]; filled from the end.
  const can = Array.from({ length: e.length + 1 }, () => new Array<boolean>(a.length + 1).fill(false))
  ;(can[e.length] as boolean[])[a.length] = true
  for (let i = e.length - 1; i >= 0; i--)
    for (let j = a.length; j >= 0; j--) {
      const row = can[i] as boolean[]
      const next = can[i + 1] as boolean[]
      row[j] = gap[i] ? next[j] === true || (j < a.length && row[j + 1] === true) : j < a.length && (line[i] as (s: string) => boolean)(a[j] as string) && next[j + 1] === true
    }
  return (can[0] as boolean[])[0] === true
}

/**
 * A line diff of the lines shown against the real output, for a failure message: `-` lines are the
 * doc's, `+` lines the program's, lines that agree are kept only near a difference, and a `…` line
 * of an elided block takes up the lines it can stand for. The smallest such diff (an edit distance).
 */
export const lineDiff = (expected: readonly string[], actual: readonly string[], elided: boolean, context = 3): string => {
  const e = comparable(expected)
  const a = comparable(actual)
  const eq = e.map((x) => lineMatcher(x, elided))
  const gap = e.map((x) => elided && x.trim() === ELLIPSIS)
  // cost[i][j]: aligning e[i..] with a[j..], the fewest lines added or removed first, then the most
  // lines matched (so that a gap stops where a line shown matches): each edit costs more than all
  // the matches together can save.
  const EDIT = e.length + 1
  const cost = Array.from({ length: e.length + 1 }, () => new Array<number>(a.length + 1).fill(0))
  const at = (i: number, j: number) => (cost[i] as number[])[j] as number
  for (let i = e.length; i >= 0; i--)
    for (let j = a.length; j >= 0; j--) {
      if (i === e.length) (cost[i] as number[])[j] = EDIT * (a.length - j)
      else if (gap[i]) (cost[i] as number[])[j] = Math.min(at(i + 1, j), j < a.length ? at(i, j + 1) : Infinity)
      else
        (cost[i] as number[])[j] = Math.min(
          EDIT + at(i + 1, j),
          j < a.length ? EDIT + at(i, j + 1) : Infinity,
          j < a.length && (eq[i] as (s: string) => boolean)(a[j] as string) ? at(i + 1, j + 1) - 1 : Infinity,
        )
    }
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < e.length || j < a.length) {
    const c = at(i, j)
    if (i < e.length && gap[i]) {
      if (j < a.length && at(i, j + 1) === c) j++
      else {
        out.push(`  ${ELLIPSIS}`)
        i++
      }
    } else if (i < e.length && j < a.length && (eq[i] as (s: string) => boolean)(a[j] as string) && at(i + 1, j + 1) - 1 === c) {
      out.push(`  ${a[j] as string}`)
      i++
      j++
    } else if (i < e.length && (j >= a.length || EDIT + at(i + 1, j) === c)) out.push(`- ${e[i++] as string}`)
    else out.push(`+ ${a[j++] as string}`)
  }
  const near = out.map((_, k) => out.slice(Math.max(0, k - context), k + context + 1).some((l) => !l.startsWith('  ')))
  return out
    .map((l, k) => (near[k] ? l : undefined))
    .filter((l, k, all) => l !== undefined || k === 0 || all[k - 1] !== undefined)
    .map((l) => l ?? '  [lines that agree]')
    .join('\n')
}
