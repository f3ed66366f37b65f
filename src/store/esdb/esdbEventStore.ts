/**
 * The EventStoreDB event store (`esdb://…` or `esdb+discover://…`): one stream per account
 * (`account-<address>`), expected revisions checked by the server, $all read for projectors.
 *
 * Where EventStoreDB differs from the port's promises, and what this adapter does about it:
 * - Idempotency: the server drops a repeated event id only within a short window, so the adapter
 *   keeps each stream's known event ids (read once, then kept up to date from the stream's tail)
 *   and appends only new ones. The check covers the event's own stream: Mailtime's event ids are
 *   derived from the account, so a fact can only ever be appended to its account's stream.
 * - Checkpoints cannot share a transaction with events: the checkpoint is appended to its own
 *   stream (`mailtime-checkpoint-<name>`) after the events. A crash in between makes the next run
 *   read those events again, which the idempotency above turns into duplicates, not new events.
 * - Global positions are the commit positions of $all (byte offsets: they grow, with gaps).
 * - A namespace (option, or `?namespace=` in the location) prefixes every physical stream name, so
 *   several installations, or test runs, can share one cluster; reads strip it again.
 * - Nothing ever sets `$maxAge`, `$maxCount` or `$tb` on a stream: retention never truncates events.
 *
 * What was verified: see docs/scale.md (the contract suite runs when MAILTIME_ESDB_URL is set).
 */
import * as E from 'fp-ts/Either'
import type { MailEvent } from '../../../domain/events'
import { type StoreError, StoreErrorRaised, attemptStore, storeFailure } from '../../../projections/errors'
import type { AppendResult, EventStore, StoredEvent } from '../eventStore'
import { RevisionConflict, connectEsdb } from './esdbClient'
import { type EsdbRecorded, fromEsdb, toEsdb } from './esdbMapping'
import { redactUrl } from '../redactUrl'

const CHECKPOINT_PREFIX = 'mailtime-checkpoint-'
const ACCOUNT_PREFIX = 'account-'

/** Splits `?namespace=` off a location: the client does not know that option. */
const parseLocation = (location: string): { url: string; namespace: string } => {
  const m = /([?&])namespace=([^&]*)(&?)/.exec(location)
  if (m === null) return { url: location, namespace: '' }
  const url = `${location.slice(0, m.index)}${m[3] === '&' ? m[1] : ''}${location.slice(m.index + m[0].length)}`.replace(/[?&]$/, '')
  return { url, namespace: decodeURIComponent(m[2] ?? '') }
}

export interface EsdbEventStore extends EventStore {
  /** Calls `onChange` whenever an account stream gains events (a catch-up subscription); returns how to stop. */
  follow(onChange: () => void, onError: (e: StoreError) => void): () => void
}

export const esdbEventStore = (location: string): EsdbEventStore => {
  const { url, namespace } = parseLocation(location)
  const description = redactUrl(location)
  const raw = connectEsdb(url)
  const physical = (stream: string) => `${namespace}${stream}`
  const logical = (stream: string) => stream.slice(namespace.length)
  // Every read and write goes through the namespace.
  const client = {
    append: (stream: string, events: Parameters<typeof raw.append>[1], expected: number | 'any') => raw.append(physical(stream), events, expected),
    read: async (stream: string, o: Parameters<typeof raw.read>[1]) => (await raw.read(physical(stream), o)).map((r) => ({ ...r, streamId: logical(r.streamId) })),
    readAll: async (o: Parameters<typeof raw.readAll>[0]) =>
      (await raw.readAll(o)).map((r) => (r.streamId.startsWith(namespace) ? { ...r, streamId: logical(r.streamId) } : { ...r, streamId: `\u0000${r.streamId}` })),
    follow: (onEvent: () => void, onError: (e: unknown) => void) => raw.follow(physical(ACCOUNT_PREFIX), onEvent, onError),
    dispose: () => raw.dispose(),
  }
  const known = new Map<string, { revision: number; ids: Set<string> }>()

  const attempt = attemptStore(description)

  const decode = (r: EsdbRecorded & { position?: number }): StoredEvent => {
    const d = fromEsdb(r)
    if (E.isLeft(d)) throw new StoreErrorRaised(d.left)
    return { stream: r.streamId, revision: r.revision, globalPosition: r.position ?? 0, event: d.right }
  }

  /** The stream's known ids, brought up to date from its tail. */
  const idsOf = async (stream: string) => {
    const k = known.get(stream) ?? { revision: -1, ids: new Set<string>() }
    for (;;) {
      const page = await client.read(stream, { from: k.revision + 1, direction: 'forwards', maxCount: 1000 })
      for (const r of page) {
        k.ids.add(decode(r).event.eventId)
        k.revision = r.revision
      }
      if (page.length < 1000) break
    }
    known.set(stream, k)
    return k
  }

  const readWhole = async (stream: string): Promise<StoredEvent[]> => (await client.read(stream, { direction: 'forwards' })).map(decode)

  return {
    description,
    appendToStream: (stream, events, options) =>
      attempt(async (): Promise<AppendResult> => {
        const k = await idsOf(stream)
        const fresh: MailEvent[] = []
        const batch = new Set<string>()
        for (const e of events)
          if (!k.ids.has(e.eventId) && !batch.has(e.eventId)) {
            batch.add(e.eventId)
            fresh.push(e)
          }
        let last = k.revision
        if (fresh.length > 0) {
          const expected = options?.expectedRevision ?? 'any'
          if (typeof expected === 'number' && expected !== k.revision) throw new StoreErrorRaised({ _tag: 'ConcurrencyConflict', stream, expected, actual: k.revision })
          try {
            last = await client.append(stream, fresh.map(toEsdb), expected)
          } catch (e) {
            if (e instanceof RevisionConflict) throw new StoreErrorRaised({ _tag: 'ConcurrencyConflict', stream, expected: e.expected, actual: e.actual })
            throw e
          }
          for (const e of fresh) k.ids.add(e.eventId)
          k.revision = last
        }
        if (options?.checkpoint !== undefined)
          await client.append(
            `${CHECKPOINT_PREFIX}${options.checkpoint.name}`,
            [{ id: crypto.randomUUID(), type: 'Checkpoint', data: { value: options.checkpoint.value }, metadata: { mailtime: { eventId: '', schemaVersion: 1 } } }],
            'any',
          )
        return { lastRevision: last, appended: fresh.length, duplicates: events.length - fresh.length }
      }),
    readStream: (stream, o) =>
      attempt(async () =>
        (
          await client.read(stream, {
            direction: o?.direction ?? 'forwards',
            ...(o?.from !== undefined && { from: o.from }),
            ...(o?.maxCount !== undefined && { maxCount: o.maxCount }),
          })
        ).map(decode),
      ),
    readStreamUntil: (stream, until) => attempt(async () => (await readWhole(stream)).filter((s) => s.event.occurredAt <= until)),
    readAll: (o) =>
      attempt(async () => {
        const max = o.maxCount ?? 1000
        const out: StoredEvent[] = []
        let after = o.after
        // $all also holds system events and checkpoints: skip them, and keep reading until the page is full.
        for (;;) {
          const page = await client.readAll({ ...(after !== undefined && { after }), maxCount: max })
          for (const r of page) if (r.streamId.startsWith(ACCOUNT_PREFIX) && out.length < max) out.push(decode(r))
          const tail = page[page.length - 1]
          if (tail === undefined || page.length < max || out.length >= max) break
          after = tail.position
        }
        return out
      }),
    streamRevision: (stream) => attempt(async () => (await client.read(stream, { direction: 'backwards', maxCount: 1 }))[0]?.revision ?? -1),
    listStreams: (prefix) =>
      attempt(async () => {
        const streams = new Set<string>()
        let after: number | undefined
        for (;;) {
          const page = await client.readAll({ ...(after !== undefined && { after }), maxCount: 5000 })
          for (const r of page) if (r.streamId.startsWith(prefix ?? ACCOUNT_PREFIX)) streams.add(r.streamId)
          const tail = page[page.length - 1]
          if (tail === undefined || page.length < 5000) break
          after = tail.position
        }
        return [...streams].sort()
      }),
    readCheckpoint: (name) =>
      attempt(async () => {
        const r = (await client.read(`${CHECKPOINT_PREFIX}${name}`, { direction: 'backwards', maxCount: 1 }))[0]
        const value = (r?.data as { value?: unknown } | undefined)?.value
        return typeof value === 'string' ? value : undefined
      }),
    follow: (onChange, onError) => client.follow(onChange, (e) => onError(storeFailure(description, e))),
    close: () => client.dispose(),
  }
}
