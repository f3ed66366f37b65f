/**
 * A durable position in a spool directory: for each hourly file not yet deleted, how far it has
 * been read (byte offset, and line number for reports). Pure: model, codec, operations.
 *
 * Why one cursor per file rather than one (file, offset): a mail process that took the file name
 * at 10:59:59.999 may append to `…10.jsonl` after the first line of `…11.jsonl` was read. Each file
 * is therefore followed until it is deleted, and a file missing from the position (new, or
 * recreated after its deletion by such a late writer) is read from its start.
 */
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { describeErrors } from '../../../domain/decode'

export interface FileCursor {
  readonly name: string
  /** Bytes read, always at the end of a line. */
  readonly offset: number
  /** Lines read (the next line is `line + 1`). */
  readonly line: number
}

/** Cursors sorted by file name. */
export interface SpoolPosition {
  readonly files: readonly FileCursor[]
}

export const startOfSpool: SpoolPosition = { files: [] }

const NonNegativeInt = t.refinement(t.Int, (n) => n >= 0, 'NonNegativeInt')
const PositionCodec = t.type({ v: t.literal(1), files: t.array(t.type({ name: t.string, offset: NonNegativeInt, line: NonNegativeInt })) })

/** Spool files are named after the UTC hour they were opened in: `YYYYMMDDHH.jsonl`. */
export const SPOOL_FILE = /^(\d{4})(\d{2})(\d{2})(\d{2})\.jsonl$/

export const isSpoolFile = (name: string): boolean => hourEndOf(name) !== undefined

/** The instant (ms) the file's hour ends, or undefined for a name that is not a spool file. */
export const hourEndOf = (name: string): number | undefined => {
  const m = SPOOL_FILE.exec(name)
  if (m === null) return undefined
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])]
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23) return undefined
  return Date.UTC(y, mo - 1, d, h + 1)
}

export const encodePosition = (p: SpoolPosition): string => JSON.stringify({ v: 1, files: p.files.map((f) => ({ name: f.name, offset: f.offset, line: f.line })) })

export const decodePosition = (text: string): E.Either<string, SpoolPosition> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(`not JSON (${(e as Error).message})`)
  }
  const r = PositionCodec.decode(json)
  if (E.isLeft(r)) return E.left(describeErrors(r.left))
  return E.right(positionOf(r.right.files))
}

/** A position from cursors in any order (the last cursor of a name wins). */
export const positionOf = (cursors: Iterable<FileCursor>): SpoolPosition => {
  const byName = new Map<string, FileCursor>()
  for (const c of cursors) byName.set(c.name, c)
  return { files: [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) }
}

export const cursorOf = (p: SpoolPosition, name: string): FileCursor | undefined => p.files.find((f) => f.name === name)

export const withoutFiles = (p: SpoolPosition, names: ReadonlySet<string>): SpoolPosition => ({ files: p.files.filter((f) => !names.has(f.name)) })
