/**
 * Everything Mailtime asks of `@eventstore/db-client`, in one module: the client's names and
 * options appear nowhere else, so moving to `@kurrent/kurrentdb-client` (the same API under a new
 * name) changes this file only.
 */
import type * as Db from '@eventstore/db-client'
import type { EsdbEventData, EsdbRecorded } from './esdbMapping'

export interface EsdbClient {
  /** Appends; `expected` is a revision, -1 for "no stream yet", or 'any'. Returns the last revision. */
  append(stream: string, events: readonly EsdbEventData[], expected: number | 'any'): Promise<number>
  /** A stream's events, or [] when it does not exist. */
  read(stream: string, o: { from?: number; direction: 'forwards' | 'backwards'; maxCount?: number }): Promise<(EsdbRecorded & { position?: number })[]>
  /** Events of $all after a commit position, with their positions. */
  readAll(o: { after?: number; maxCount: number }): Promise<(EsdbRecorded & { position: number })[]>
  /**
   * A catch-up subscription to $all from its end, filtered by stream prefix on the server: calls
   * `onEvent` for each event appended from now on. Returns how to stop.
   */
  follow(prefix: string, onEvent: () => void, onError: (e: unknown) => void): () => void
  dispose(): Promise<void>
}

/** A conflict the server reported: what the append expected and what the stream was at (-1: none). */
export class RevisionConflict extends Error {
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super('wrong expected revision')
  }
}

const revisionOf = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : -1)

export const connectEsdb = (url: string): EsdbClient => {
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const { ANY, BACKWARDS, END, EventStoreDBClient, FORWARDS, NO_STREAM, START, StreamNotFoundError, WrongExpectedVersionError, jsonEvent, streamNameFilter } =
    require('@eventstore/db-client') as typeof Db
  const client = EventStoreDBClient.connectionString(url)
  const collect = async (reads: AsyncIterable<{ event?: { streamId: string; revision: bigint; id: string; type: string; data: unknown; position?: { commit: bigint } } }>) => {
    const out: (EsdbRecorded & { position?: number })[] = []
    for await (const r of reads) {
      const e = r.event
      if (e === undefined) continue
      out.push({
        streamId: e.streamId,
        revision: Number(e.revision),
        id: e.id,
        type: e.type,
        data: e.data,
        ...(e.position !== undefined && { position: Number(e.position.commit) }),
      })
    }
    return out
  }
  return {
    append: async (stream, events, expected) => {
      try {
        const r = await client.appendToStream(
          stream,
          events.map((e) => jsonEvent({ id: e.id, type: e.type, data: e.data as never, metadata: e.metadata })),
          { expectedRevision: expected === 'any' ? ANY : expected === -1 ? NO_STREAM : BigInt(expected) },
        )
        return Number(r.nextExpectedRevision)
      } catch (e) {
        if (e instanceof WrongExpectedVersionError) throw new RevisionConflict(typeof expected === 'number' ? expected : -1, revisionOf(e.actualVersion))
        throw e
      }
    },
    read: async (stream, o) => {
      try {
        return await collect(
          client.readStream(stream, {
            direction: o.direction === 'forwards' ? FORWARDS : BACKWARDS,
            fromRevision: o.from === undefined ? (o.direction === 'forwards' ? START : END) : BigInt(o.from),
            ...(o.maxCount !== undefined && { maxCount: o.maxCount }),
          }),
        )
      } catch (e) {
        if (e instanceof StreamNotFoundError) return []
        throw e
      }
    },
    readAll: async (o) => {
      const from = o.after === undefined ? START : { commit: BigInt(o.after), prepare: BigInt(o.after) }
      const events = await collect(client.readAll({ direction: FORWARDS, fromPosition: from, maxCount: o.maxCount + 1 }))
      return events.filter((e): e is EsdbRecorded & { position: number } => e.position !== undefined && (o.after === undefined || e.position > o.after))
    },
    follow: (prefix, onEvent, onError) => {
      const sub = client.subscribeToAll({ fromPosition: END, filter: streamNameFilter({ prefixes: [prefix] }) })
      sub.on('data', () => onEvent())
      sub.on('error', onError)
      return () => void sub.unsubscribe().catch(() => undefined)
    },
    dispose: () => client.dispose(),
  }
}
