/**
 * Verifies an export: the timeline's hash chain line by line, every file against the manifest (and
 * every content file against the digest in its name), then replays the timeline and checks that the
 * replayed states equal those in `states/`. The first discrepancy is reported, naming the file, the
 * line or the field.
 */
import { createHash } from 'crypto'
import * as fs from 'fs'
import * as path from 'path'
import * as readline from 'readline'
import * as E from 'fp-ts/Either'
import * as TE from 'fp-ts/TaskEither'
import * as t from 'io-ts'
import { describeErrors } from '../../domain/decode'
import type { MailEvent } from '../../domain/events'
import { decodeMailEvent } from '../../domain/decodeEvent'
import { chainHash } from '../../domain/export/hashChain'
import type { AccountId } from '../../domain/ids'
import type { Instant } from '../../domain/instant'
import { accountAsOf } from '../../projections/accountView'
import type { RecordedEvent } from '../../projections/order'
import { replayTimeTravel } from '../../projections/replay'
import { snapshotOf } from '../../projections/snapshot'
import { stableStringify } from '../cli/stableJson'
import { CONTENT_FILE, filesUnder } from './layout'

/** The manifest as read back from disk (what verification and an idempotent re-run rely on). */
export const ManifestCodec = t.type({
  format: t.literal('mailtime-export-v1'),
  parameters: t.type({ account: t.string, from: t.string, to: t.string, at: t.array(t.string) }),
  timeline: t.type({ file: t.literal('timeline.jsonl'), events: t.number, genesis: t.string, head: t.string }),
  states: t.array(t.type({ label: t.string, at: t.string, file: t.string })),
  files: t.array(t.type({ path: t.string, sha256: t.string, size: t.number })),
})

export type VerifyResult = E.Either<string, { files: number; events: number; states: number }>

const sha256File = async (file: string): Promise<string> => {
  const h = createHash('sha256')
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer)
  return h.digest('hex')
}

/** The first path where two JSON values differ (key order aside), for a message that says where to look. */
const firstDifference = (a: unknown, b: unknown, at = ''): string | undefined => {
  if (stableStringify(a, 0) === stableStringify(b, 0)) return undefined
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return at || '(root)'
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])]
  for (const k of keys) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k)
    if (d !== undefined) return d
  }
  return at || '(root)'
}

export const verifyExport = async (dir: string): Promise<VerifyResult> => {
  const mf = path.join(dir, 'manifest.json')
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(mf, 'utf8'))
  } catch (e) {
    return E.left(`${mf}: cannot be read as JSON (${(e as Error).message})`)
  }
  const m = ManifestCodec.decode(raw)
  if (E.isLeft(m)) return E.left(`${mf}: not a Mailtime export manifest (${describeErrors(m.left)})`)
  const manifest = m.right

  // 1. The chain, line by line.
  const events: RecordedEvent<MailEvent>[] = []
  let prev = manifest.timeline.genesis
  let n = 0
  const lines = readline.createInterface({ input: fs.createReadStream(path.join(dir, 'timeline.jsonl')), crlfDelay: Infinity })
  for await (const line of lines) {
    n++
    const where = `timeline.jsonl line ${n}`
    const head = /^\{"seq":(\d+),"revision":(\d+),"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})","event":/.exec(line)
    if (head === null || !line.endsWith('}')) return E.left(`${where}: not a timeline entry`)
    const eventText = line.slice(head[0].length, -1)
    if (head[3] !== prev) return E.left(`${where}: the hash chain is broken (this line does not follow line ${n - 1}): a line was deleted, inserted or moved`)
    if (chainHash(prev, eventText) !== head[4]) return E.left(`${where}: the event does not match its hash (it was edited)`)
    if (Number(head[1]) !== n - 1) return E.left(`${where}: sequence number ${head[1]}, expected ${n - 1}`)
    let json: unknown
    try {
      json = JSON.parse(eventText)
    } catch (e) {
      return E.left(`${where}: the event is not JSON (${(e as Error).message})`)
    }
    const ev = decodeMailEvent(json)
    if (E.isLeft(ev)) return E.left(`${where}: not a valid event (${ev.left})`)
    events.push({ event: ev.right, revision: Number(head[2]) })
    prev = head[4]
  }
  if (n !== manifest.timeline.events || prev !== manifest.timeline.head)
    return E.left(
      `timeline.jsonl: ${n} entries ending in ${prev.slice(0, 12)}…, but the manifest records ${manifest.timeline.events} ending in ${manifest.timeline.head.slice(0, 12)}…: lines were removed from or added at the end`,
    )

  // 2. Every file against the manifest, content files against their names, and nothing extra.
  const listed = new Set(manifest.files.map((f) => f.path))
  for (const f of manifest.files) {
    const file = path.join(dir, f.path)
    if (!fs.existsSync(file)) return E.left(`${f.path}: missing`)
    const size = fs.statSync(file).size
    const digest = await sha256File(file)
    if (size !== f.size || digest !== f.sha256) return E.left(`${f.path}: SHA-256 mismatch (the file was changed after the export)`)
    const named = CONTENT_FILE.exec(f.path)
    if (named !== null && named[1] !== digest) return E.left(`${f.path}: its content does not match the digest in its name`)
  }
  for (const f of filesUnder(dir)) if (f !== 'manifest.json' && !listed.has(f)) return E.left(`${f}: not in the manifest (added after the export)`)

  // 3. Replay the timeline; the states must be the recorded ones.
  const tt = replayTimeTravel(() => TE.right(events))
  const account = manifest.parameters.account as AccountId
  for (const s of manifest.states) {
    const view = await accountAsOf(tt, account, { validAt: Date.parse(s.at) as Instant })()
    if (E.isLeft(view)) return E.left(`${s.file}: the timeline cannot be replayed (${view.left._tag})`)
    const replayed = JSON.parse(stableStringify(snapshotOf(view.right))) as unknown
    const recorded = JSON.parse(fs.readFileSync(path.join(dir, s.file), 'utf8')) as unknown
    const d = firstDifference(replayed, recorded)
    if (d !== undefined) return E.left(`${s.file}: differs from the replayed timeline at ${d}`)
  }
  return E.right({ files: manifest.files.length, events: n, states: manifest.states.length })
}
