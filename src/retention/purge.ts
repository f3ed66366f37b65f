/**
 * Purge: reads every account's items and versions, plans with `domain/retention.ts`, appends
 * `ItemPurged` for what retention lets go, then deletes the blobs no retained version references.
 * Events are never removed. The events go first: a crash between the two steps leaves orphan blobs,
 * which the next purge deletes.
 *
 * Blobs written in the last `graceMs` are never deleted: a capture stores a message's blob before it
 * appends the event that references it (the blob store refreshes the time of a blob it is asked to
 * store again), so a purge running beside a capture cannot take a blob from under it.
 */
import * as E from 'fp-ts/Either'
import { type ItemEvent } from '../../domain/events'
import { streamOfAccount } from '../../domain/ids'
import { type Instant, MAX_INSTANT } from '../../domain/instant'
import { makeEvent } from '../../domain/makeEvent'
import { type AccountForPurge, type PurgePlan, type RetentionPolicy, planPurge, retainedDigests } from '../../domain/retention'
import type { ItemState } from '../../domain/state'
import { accountStateAt } from '../../projections/accountView'
import { orRaise } from '../../projections/errors'
import { listAccountIds } from '../app/accounts'
import type { Backend } from '../app/ports'
import { groupBy } from '../../domain/groupBy'

export interface PurgeReport {
  readonly plan: PurgePlan
  /** Blobs no retained version references (after this purge), with their size on disk. */
  readonly orphanBlobs: number
  readonly orphanBytes: number
  /** Blobs kept only because they are younger than the grace period. */
  readonly recentBlobs: number
  readonly eventsAppended: number
  readonly blobsDeleted: number
}

interface Gathered {
  readonly accounts: AccountForPurge[]
  /** Per item (account#id): whether it is purged now, and every digest any of its versions had. */
  readonly items: Map<string, { purged: boolean; digests: Set<string> }>
}

const gather = async (b: Backend): Promise<Gathered> => {
  const accounts: AccountForPurge[] = []
  const items = new Map<string, { purged: boolean; digests: Set<string> }>()
  for (const a of await orRaise(listAccountIds(b))) {
    const state = accountStateAt(a, await orRaise(b.index.accountEvents(a)), { validAt: MAX_INSTANT as Instant })
    const latest = new Map<number, ItemState>()
    for (const v of await orRaise(b.index.changesBetween(a, { from: 0 as Instant, to: MAX_INSTANT as Instant }))) {
      latest.set(v.itemId, v.state)
      const key = `${a}#${v.itemId}`
      const entry = items.get(key) ?? { purged: false, digests: new Set<string>() }
      if (v.state.content !== undefined) entry.digests.add(v.state.content.digest)
      items.set(key, entry)
    }
    for (const [id, s] of latest) {
      const entry = items.get(`${a}#${id}`)
      if (entry !== undefined) entry.purged = s.status === 'purged'
    }
    accounts.push({ state, items: [...latest.values()] })
  }
  return { accounts, items }
}

export interface PurgeOptions {
  readonly policy: RetentionPolicy
  readonly now: Instant
  readonly dryRun: boolean
  readonly by: string
  readonly operationId: string
  readonly graceMs: number
  readonly onProgress?: (done: number, total: number) => void
}

export const purge = async (b: Backend, o: PurgeOptions): Promise<PurgeReport> => {
  const g = await gather(b)
  const plan = planPurge(g.accounts, o.policy, o.now)
  for (const c of plan.purge) {
    const e = g.items.get(`${c.account}#${c.itemId}`)
    if (e !== undefined) e.purged = true
  }
  const keep = retainedDigests(g.items.values())
  const orphans: string[] = []
  let orphanBytes = 0
  let recentBlobs = 0
  for (const d of b.blobs.list()) {
    if (keep.has(d)) continue
    const st = b.blobs.stat(d)
    if (st === undefined) continue
    if (st.mtimeMs > o.now - o.graceMs) {
      recentBlobs++
      continue
    }
    orphans.push(d)
    orphanBytes += st.size
  }
  if (o.dryRun) return { plan, orphanBlobs: orphans.length, orphanBytes, recentBlobs, eventsAppended: 0, blobsDeleted: 0 }

  let eventsAppended = 0
  const byAccount = groupBy(plan.purge, (c) => c.account)
  let done = 0
  for (const [account, cs] of byAccount) {
    for (let i = 0; i < cs.length; i += 1000) {
      const events: ItemEvent[] = cs.slice(i, i + 1000).map((c) =>
        makeEvent('ItemPurged', { accountId: account, observedVia: 'purge', source: { kind: 'purge', operationId: o.operationId }, recordedAt: o.now, by: o.by }, o.now, {
          itemId: c.itemId,
          itemType: c.itemType,
          reason: c.reason,
        }),
      )
      const r = await orRaise(b.store.appendToStream(streamOfAccount(account), events))
      eventsAppended += r.appended
      done += events.length
      o.onProgress?.(done, plan.purge.length + orphans.length)
    }
  }
  let blobsDeleted = 0
  for (const d of orphans) {
    const r = b.blobs.remove(d)
    if (E.isRight(r) && r.right) blobsDeleted++
    o.onProgress?.(++done, plan.purge.length + orphans.length)
  }
  return { plan, orphanBlobs: orphans.length, orphanBytes, recentBlobs, eventsAppended, blobsDeleted }
}
