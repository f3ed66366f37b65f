/**
 * What the two log importers (Zimbra/Carbonio mailbox.log, Dovecot mail_log) share: their options,
 * summary and errors, reading log files (plain or gzipped, rotated files in date order, a file's
 * identity), and emitting events through a recorder (`recorder.ts`).
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import type { AccountId } from '../../../domain/ids'
import type { Instant } from '../../../domain/instant'
import type { EventType, MailEvent } from '../../../domain/events'
import { type EventOf, type Payload, type Provenance, makeEvent } from '../../../domain/makeEvent'
import * as E from 'fp-ts/Either'
import type { StoreError } from '../../../projections/errors'
import type { TimeTravel } from '../../../projections/timeTravel'
import type { EventStore } from '../../store/eventStore'
import { type Recorder, appendingRecorder, dryRunRecorder } from './recorder'

export interface ImportOptions {
  readonly files: readonly string[]
  readonly zone: string
  /** Only lines about this account. */
  readonly account?: AccountId
  readonly dryRun: boolean
  readonly now: Instant
  /** Called in a dry run for each event a real run would append (not for those already stored). */
  readonly onDryEvent?: (e: MailEvent, fileName: string) => void
  readonly onProgress?: (bytes: number, totalBytes: number) => void
}

export interface Malformed {
  readonly file: string
  readonly line: number
  readonly reason: string
}

/** What one file gave: its non-empty lines, how many were malformed, and the first of them. */
export interface FileTally {
  lines: number
  malformed: number
  first?: Malformed & { readonly text?: string }
}

export interface ImportSummary {
  readonly files: readonly string[]
  linesRead: number
  records: number
  /** Events the lines gave, whether or not the store already held them. */
  events: number
  appended: number
  /** Events the store already held (in a dry run: that a real run would find already recorded). */
  duplicates: number
  malformed: number
  readonly malformedSamples: Malformed[]
  readonly skipped: Record<string, number>
  readonly byType: Record<string, number>
  readonly accounts: string[]
  dstAdjusted: number
  /** Lines the import applied with a reservation (a count that differs from what the backup held). */
  readonly notes: { readonly file: string; readonly line: number; readonly note: string }[]
  /** By file name (not part of the report: `unusableFile` reads it). */
  readonly tallies: Record<string, FileTally>
}

export type ImportError =
  | { readonly _tag: 'Store'; readonly error: StoreError }
  | { readonly _tag: 'File'; readonly file: string; readonly reason: string }
  /** A file that is not a log the import can read: no usable line, or mostly malformed ones. */
  | {
      readonly _tag: 'Unusable'
      readonly file: string
      readonly lines: number
      readonly malformed: number
      readonly first: Malformed & { readonly text?: string }
      readonly hint: string
    }

/** Rotated files oldest first: `mailbox.log.2026-03-01.gz` before `mailbox.log.2026-03-02`, the live `mailbox.log` last. */
export const rotationOrder = (files: readonly string[]): string[] => {
  const dateOf = (f: string) => /\.(\d{4}-\d{2}-\d{2})(?:\.gz)?$/.exec(path.basename(f))?.[1]
  return [...files].sort((a, b) => {
    const x = dateOf(a)
    const y = dateOf(b)
    if (x !== undefined && y !== undefined) return x < y ? -1 : x > y ? 1 : 0
    if (x !== undefined) return -1
    if (y !== undefined) return 1
    return 0
  })
}

export interface Lines extends AsyncIterable<string> {
  close(): void
}

/**
 * A log file's lines, gunzipped when it is gzip, split on "\n" only (a trailing "\r" is dropped):
 * a stray carriage return or other binary junk inside a line never shifts the line numbers that
 * errors name, so they match what `sed -n Np` and editors show. Bytes that are not UTF-8 read as
 * U+FFFD.
 */
export const openLines = (file: string): Lines => {
  const fd = fs.openSync(file, 'r')
  const head = Buffer.alloc(2)
  fs.readSync(fd, head, 0, 2, 0)
  fs.closeSync(fd)
  const raw = fs.createReadStream(file)
  const input = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(zlib.createGunzip()) : raw
  const text = (b: Buffer) => {
    const s = b.toString('utf8')
    return s.endsWith('\r') ? s.slice(0, -1) : s
  }
  return {
    close: () => raw.destroy(),
    [Symbol.asyncIterator]: async function* () {
      let rest: Buffer[] = []
      for await (const chunk of input as AsyncIterable<Buffer>) {
        let from = 0
        for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, from)) {
          const piece = chunk.subarray(from, nl)
          yield text(rest.length === 0 ? piece : Buffer.concat([...rest, piece]))
          rest = []
          from = nl + 1
        }
        if (from < chunk.length) rest.push(chunk.subarray(from))
      }
      if (rest.length > 0) yield text(Buffer.concat(rest))
    },
  }
}

/**
 * A file's identity: a hash of its first line, so that a rotated (renamed, gzipped) copy of a file
 * has the same one. Event ids are built from it and the line number.
 */
export const identityOf = (firstLine: string): string => createHash('sha256').update(firstLine).digest('hex').slice(0, 24)

/** The identity of a file from its first line; undefined for an empty file. */
export const fileIdentity = async (file: string): Promise<string | undefined> => {
  const rl = openLines(file)
  try {
    for await (const line of rl) return identityOf(line)
    return undefined
  } finally {
    rl.close()
  }
}

export const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n
}

/** An empty summary for an import of these files (both log importers fill the same one). */
export const newSummary = (files: readonly string[]): ImportSummary => ({
  files: files.map((f) => path.basename(f)),
  linesRead: 0,
  records: 0,
  events: 0,
  appended: 0,
  duplicates: 0,
  malformed: 0,
  malformedSamples: [],
  skipped: {},
  byType: {},
  accounts: [],
  dstAdjusted: 0,
  notes: [],
  tallies: {},
})

const tallyOf = (summary: ImportSummary, file: string): FileTally => (summary.tallies[file] ??= { lines: 0, malformed: 0 })

/** Counts a line read from the file (empty lines are not counted). */
export const noteLine = (summary: ImportSummary, file: string, text: string): void => {
  if (text.trim() !== '') tallyOf(summary, file).lines++
}

/** Counts a malformed line, keeping the first 50 for the report, and the first of each file with its text. */
export const noteMalformed = (summary: ImportSummary, m: Malformed, text?: string): void => {
  summary.malformed++
  if (summary.malformedSamples.length < 50) summary.malformedSamples.push(m)
  const t = tallyOf(summary, m.file)
  t.malformed++
  if (t.first === undefined) t.first = { ...m, ...(text !== undefined && { text: text.slice(0, 120) }) }
}

/** Dovecot's default `log_timestamp` ("%b %d %H:%M:%S "): a time without a year, which no line can be dated by. */
const DOVECOT_WITHOUT_YEAR = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d [\w-]+(\([^)]*\))?(<[^>]*>)*: /

/**
 * Whether a file read is not a log the import can use: it has lines, and none of them, or fewer
 * than its malformed ones, could be read (a garbage file, another format, Dovecot's default
 * timestamps without a year). A few malformed lines in a log never stop an import (they are
 * counted and named); such a file does, as its changes would be silently missing. Pure.
 */
export const unusableFile = (summary: ImportSummary, name: string, file: string): ImportError | undefined => {
  const t = summary.tallies[name]
  if (t === undefined || t.first === undefined || t.lines === 0) return undefined
  const good = t.lines - t.malformed
  if (good > 0 && t.malformed <= good) return undefined
  const hint =
    t.first.text !== undefined && DOVECOT_WITHOUT_YEAR.test(t.first.text)
      ? 'Its times have no year: it is a Dovecot log written with the default log_timestamp. Set log_timestamp = "%Y-%m-%d %H:%M:%S " in Dovecot\'s configuration; lines already written without a year cannot be dated.'
      : 'importLog reads Zimbra/Carbonio mailbox.log files, and Dovecot logs written with log_timestamp = "%Y-%m-%d %H:%M:%S " (docs/capture.md).'
  return { _tag: 'Unusable', file, lines: t.lines, malformed: t.malformed, first: t.first, hint }
}

/** The function a log line's changes are emitted through: builds the event, queues it, counts it. */
export type Emit = <K extends EventType>(type: K, payload: Payload<K>) => EventOf<K>

/**
 * An emitter for one line: each event is queued in the recorder (whose account was prepared) and
 * counted; in a dry run, an event a real run would append is shown through `onDryEvent`, and one
 * the store already holds is counted as such.
 */
export const emitter =
  (summary: ImportSummary, recorder: Recorder, p: Provenance, at: Instant, fileName: string, onDryEvent: ImportOptions['onDryEvent']): Emit =>
  (type, payload) => {
    const e = makeEvent(type, p, at, payload)
    summary.events++
    bump(summary.byType, type)
    if (recorder.queue(e)) onDryEvent?.(e, fileName)
    else summary.duplicates++
    return e
  }

/** The recorder of an import: appending, or a dry run that reads back what a real run would. */
export const recorderFor = async (store: EventStore, index: TimeTravel, o: ImportOptions, files: readonly string[]): Promise<E.Either<ImportError, Recorder>> => {
  if (!o.dryRun) return E.right(appendingRecorder(store, index))
  const identities = new Set<string>()
  for (const f of files) {
    try {
      const id = await fileIdentity(f)
      if (id !== undefined) identities.add(id)
    } catch (e) {
      return E.left({ _tag: 'File', file: f, reason: (e as Error).message })
    }
  }
  return E.right(dryRunRecorder(store, index, identities))
}
