/**
 * The content of messages by UID, with their flags, INTERNALDATE and envelope, in chunks: one
 * `UID FETCH` per `uidsPerFetch` UIDs, and a chunk handed over whenever it holds `bytesPerChunk`,
 * so that the caller stores a chunk at once (the blob store overlaps the fsyncs of a chunk) without
 * holding a whole folder in memory. IMAP failures are thrown (see failure.ts).
 */
import type { ImapFlow, MessageEnvelopeObject } from 'imapflow'

export interface FetchedBody {
  readonly uid: number
  /** As the server gives them (system flags and keywords). */
  readonly flags: readonly string[]
  readonly internalDate: Date | string | undefined
  readonly envelope: MessageEnvelopeObject | undefined
  readonly source: Buffer
}

export interface FetchBodiesOptions {
  readonly uidsPerFetch?: number
  readonly bytesPerChunk?: number
}

/**
 * The messages of `uids` that the server returns, in chunks. A message it does not return (expunged
 * meanwhile, or withheld) is simply absent: the caller compares and asks (see search.ts).
 */
export async function* fetchBodies(client: ImapFlow, uids: readonly number[], options: FetchBodiesOptions = {}): AsyncGenerator<FetchedBody[], void, undefined> {
  const perFetch = options.uidsPerFetch ?? 200
  const maxBytes = options.bytesPerChunk ?? 64 * 1024 * 1024
  for (let i = 0; i < uids.length; i += perFetch) {
    const range = uids.slice(i, i + perFetch).join(',')
    let chunk: FetchedBody[] = []
    let bytes = 0
    for await (const m of client.fetch(range, { uid: true, flags: true, internalDate: true, envelope: true, source: true }, { uid: true })) {
      if (m.source === undefined) continue
      chunk.push({ uid: m.uid, flags: [...(m.flags ?? [])], internalDate: m.internalDate, envelope: m.envelope, source: m.source })
      bytes += m.source.length
      if (bytes >= maxBytes) {
        yield chunk
        chunk = []
        bytes = 0
      }
    }
    if (chunk.length > 0) yield chunk
  }
}
