/**
 * What the two log importers (Zimbra/Carbonio mailbox.log, Dovecot mail_log) share: their options,
 * summary and errors, reading log files (plain or gzipped, rotated files in date order), and
 * emitting events.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as zlib from 'zlib'
import type { AccountId } from '../../../domain/ids'
import type { Instant } from '../../../domain/instant'
import type { EventType, MailEvent } from '../../../domain/events'
import { type EventOf, type Payload, type Provenance, makeEvent } from '../../../domain/makeEvent'
import type { StoreError } from '../../../projections/errors'

export interface ImportOptions {
  readonly files: readonly string[]
  readonly zone: string
  /** Only lines about this account. */
  readonly account?: AccountId
  readonly dryRun: boolean
  readonly now: Instant
  /** Called for each event in a dry run, instead of appending it. */
  readonly onDryEvent?: (e: MailEvent, fileName: string) => void
  readonly onProgress?: (bytes: number, totalBytes: number) => void
}

export interface Malformed {
  readonly file: string
  readonly line: number
  readonly reason: string
}

export interface ImportSummary {
  readonly files: readonly string[]
  linesRead: number
  records: number
  events: number
  appended: number
  duplicates: number
  malformed: number
  readonly malformedSamples: Malformed[]
  readonly skipped: Record<string, number>
  readonly byType: Record<string, number>
  readonly accounts: string[]
  dstAdjusted: number
}

export type ImportError = { readonly _tag: 'Store'; readonly error: StoreError } | { readonly _tag: 'File'; readonly file: string; readonly reason: string }

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
})

/** The function a log line's changes are emitted through: builds the event, queues it, counts it. */
export type Emit = <K extends EventType>(type: K, payload: Payload<K>) => EventOf<K>

export const emitter =
  (summary: ImportSummary, out: MailEvent[], p: Provenance, at: Instant, fileName: string, onDryEvent: ImportOptions['onDryEvent']): Emit =>
  (type, payload) => {
    const e = makeEvent(type, p, at, payload)
    out.push(e)
    summary.events++
    bump(summary.byType, type)
    onDryEvent?.(e, fileName)
    return e
  }

/** Counts a malformed line, keeping the first 50 for the report. */
export const noteMalformed = (summary: ImportSummary, m: Malformed): void => {
  summary.malformed++
  if (summary.malformedSamples.length < 50) summary.malformedSamples.push(m)
}
