/**
 * Carbonio's command grammar: `mailtime <verb> <positional…> [attribute value]…`. Each verb
 * declares its positionals and attributes as data; `parseWords` checks the words against that
 * declaration and reports the first mistake in the user's terms.
 */
import * as E from 'fp-ts/Either'
import type { Backend } from '../app/ports'
import type { Settings } from '../config'
import type { Instant } from '../../domain/instant'
import type { ExitCode } from './failure'

export interface Positional {
  readonly name: string
  readonly help: string
  readonly optional?: boolean
  /** Takes every word up to the first attribute name (only as the last positional). */
  readonly variadic?: boolean
}

export interface Attribute {
  readonly name: string
  readonly help: string
  /** Allowed values, when the attribute is an enumeration. */
  readonly values?: readonly string[]
}

export interface Output {
  /** The `--json` document (printed with stable key order). */
  readonly json: unknown
  /** What people see without `--json`. */
  readonly text: string
  readonly exitCode?: ExitCode
  /**
   * What went wrong when the verb did only part of its work (its output says what it did): one
   * line on stderr, `mailtime: <error>`, as for any failure, with or without `--json`.
   */
  readonly error?: string
  /** Print the `--json` document on one line (the last line of a JSON-lines stream). */
  readonly jsonLine?: boolean
}

export interface Progress {
  start(label: string, total: number): void
  update(done: number, detail?: string): void
  stop(): void
}

export interface Context {
  readonly settings: Settings
  readonly zone: string
  /** Opens the store on first use; later calls return the same backend. */
  backend(): Promise<Backend>
  readonly now: () => Instant
  readonly progress: Progress
  /** One line for people on stderr (silenced by --quiet and --json). */
  readonly note: (line: string) => void
  /**
   * One line on stderr that --json does not silence (only --quiet): what a script's caller should
   * see too, such as a date in the future. Never on stdout, which --json keeps one document.
   */
  readonly warn: (line: string) => void
  /** One line on stdout at once, for verbs that stream (JSON lines). */
  readonly emitLine: (line: string) => void
}

export interface Args {
  readonly positionals: readonly string[]
  readonly attrs: Readonly<Record<string, string>>
}

export interface Verb {
  readonly name: string
  readonly summary: string
  readonly positionals: readonly Positional[]
  readonly attributes: readonly Attribute[]
  readonly examples: readonly string[]
  /** Exit codes specific to this verb, beyond the common ones. */
  readonly exitCodes?: readonly string[]
  run(ctx: Context, args: Args): Promise<Output>
}

export const parseWords = (verb: Verb, words: readonly string[]): E.Either<string, Args> => {
  const required = verb.positionals.filter((p) => p.optional !== true).length
  const positionals: string[] = []
  let i = 0
  const isAttr = (w: string) => verb.attributes.some((a) => a.name === w.toLowerCase())
  const variadic = verb.positionals[verb.positionals.length - 1]?.variadic === true
  while (i < words.length && (positionals.length < verb.positionals.length || variadic)) {
    const w = words[i] ?? ''
    // An optional (or further variadic) positional is absent when the word is an attribute name.
    if (positionals.length >= required && isAttr(w)) break
    positionals.push(w)
    i++
  }
  if (positionals.length < required) {
    const missing = verb.positionals[positionals.length]
    return E.left(`${verb.name}: missing <${missing?.name ?? '?'}>. Usage: ${usageLine(verb)}`)
  }
  const attrs: Record<string, string> = {}
  while (i < words.length) {
    const name = (words[i] ?? '').toLowerCase()
    const spec = verb.attributes.find((a) => a.name === name)
    if (spec === undefined) {
      const known = verb.attributes.map((a) => a.name).join(', ')
      return E.left(`${verb.name}: unknown attribute ${JSON.stringify(words[i])}${known ? ` (known: ${known})` : ''}`)
    }
    const value = words[i + 1]
    if (value === undefined) return E.left(`${verb.name}: attribute ${name} needs a value`)
    if (spec.values !== undefined && !spec.values.includes(value.toLowerCase()))
      return E.left(`${verb.name}: ${name} must be one of ${spec.values.join('|')}, got ${JSON.stringify(value)}`)
    if (name in attrs) return E.left(`${verb.name}: attribute ${name} given twice`)
    attrs[name] = spec.values !== undefined ? value.toLowerCase() : value
    i += 2
  }
  return E.right({ positionals, attrs })
}

export const usageLine = (v: Verb): string =>
  [
    'mailtime',
    v.name,
    ...v.positionals.map((p) => (p.optional === true ? `[${p.name}]` : `<${p.name}>`) + (p.variadic === true ? '…' : '')),
    ...v.attributes.map((a) => `[${a.name} ${a.values !== undefined ? a.values.join('|') : '<value>'}]`),
  ].join(' ')

export const booleanAttr = (raw: string | undefined, name: string, dflt: boolean): E.Either<string, boolean> => {
  if (raw === undefined) return E.right(dflt)
  const v = raw.toLowerCase()
  if (v === 'true' || v === 'yes' || v === '1') return E.right(true)
  if (v === 'false' || v === 'no' || v === '0') return E.right(false)
  return E.left(`${name} must be true or false, got ${JSON.stringify(raw)}`)
}
