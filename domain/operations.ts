/**
 * The operations stream: one stream per operation (a restore, and later scans, purges, exports),
 * recording who started it with which parameters, each item it restored, skipped or could not
 * restore, its stop requests and its end. A re-run of the same command finds earlier runs by their
 * `resumeKey` and skips what they already wrote; `summarize` folds a stream into what
 * `getAllOperations` and `monitor` show.
 */
import * as t from 'io-ts'

const Base = { operationId: t.string, at: t.number }

export const OperationStarted = t.intersection([
  t.type({
    ...Base,
    type: t.literal('OperationStarted'),
    kind: t.string,
    verb: t.string,
    /** The verb's words, with nothing secret in them (secrets never come from the command line). */
    params: t.record(t.string, t.string),
    initiator: t.string,
    host: t.string,
    pid: t.number,
  }),
  t.partial({ resumeKey: t.string, target: t.string, total: t.number, accounts: t.array(t.string) }),
])

export const ItemOutcome = t.intersection([
  t.type({ account: t.string, itemId: t.number, outcome: t.keyof({ restored: null, skipped: null, unrestored: null }) }),
  t.partial({ location: t.string, reason: t.string }),
])
export type ItemOutcome = t.TypeOf<typeof ItemOutcome>

export const ItemsRecorded = t.type({ ...Base, type: t.literal('ItemsRecorded'), items: t.array(ItemOutcome) })

/**
 * Written before a batch is sent to an IMAP server: the folder, its UIDVALIDITY and UIDNEXT, and the
 * digests of the batch. If the process dies before `ItemsRecorded`, a resume looks for these digests
 * at or above that UIDNEXT and counts what it finds as written.
 */
export const AppendIntent = t.type({
  ...Base,
  type: t.literal('AppendIntent'),
  account: t.string,
  folder: t.string,
  uidValidity: t.number,
  uidNext: t.number,
  items: t.array(t.type({ itemId: t.number, digest: t.string })),
})
export type AppendIntent = t.TypeOf<typeof AppendIntent>

/**
 * Written before a rewind sends one action to the server (a move, a rename, a STORE…): what it is
 * about to do. The outcome follows as an `ItemsRecorded`; a run that dies in between leaves the
 * intent alone, and the next run, which starts from a fresh capture of the server, finds whether it
 * landed (the action is no longer in its plan) or not (it is planned again).
 */
export const ActionIntent = t.type({ ...Base, type: t.literal('ActionIntent'), account: t.string, itemId: t.number, kind: t.string, action: t.string })
export type ActionIntent = t.TypeOf<typeof ActionIntent>

export const StopRequested = t.type({ ...Base, type: t.literal('StopRequested'), by: t.string })

export const Notification = t.intersection([t.type({ phase: t.keyof({ start: null, end: null }), to: t.array(t.string), sent: t.boolean }), t.partial({ error: t.string })])
export type Notification = t.TypeOf<typeof Notification>

export const NotificationRecorded = t.type({ ...Base, type: t.literal('NotificationRecorded'), notification: Notification })

export const OperationStatus = t.keyof({ done: null, partial: null, failed: null, stopped: null })
export type OperationStatus = t.TypeOf<typeof OperationStatus>

export const OperationEnded = t.intersection([
  t.type({ ...Base, type: t.literal('OperationEnded'), status: OperationStatus, restored: t.number, skipped: t.number, unrestored: t.number }),
  /** What operations other than restores count (purged items, freed bytes, accounts held…). */
  t.partial({ error: t.string, counts: t.record(t.string, t.number) }),
])

export const OperationEvent = t.union([OperationStarted, ItemsRecorded, AppendIntent, ActionIntent, StopRequested, NotificationRecorded, OperationEnded])
export type OperationEvent = t.TypeOf<typeof OperationEvent>
export type OperationStarted = t.TypeOf<typeof OperationStarted>

export type OperationState = 'running' | 'interrupted' | OperationStatus

export interface OperationSummary {
  readonly operationId: string
  readonly kind: string
  readonly verb: string
  readonly params: Readonly<Record<string, string>>
  readonly initiator: string
  readonly host: string
  readonly pid: number
  readonly startedAt: number
  readonly endedAt?: number
  readonly state: OperationState
  readonly total?: number
  readonly restored: number
  readonly skipped: number
  readonly unrestored: readonly ItemOutcome[]
  readonly stopRequested: boolean
  readonly notifications: readonly Notification[]
  readonly resumeKey?: string
  readonly target?: string
  readonly error?: string
  readonly counts?: Readonly<Record<string, number>>
}

/**
 * Folds an operation's stream. `isAlive` tells whether the process that runs it still exists; a
 * started operation without an end whose process is gone was interrupted (a crash or a kill).
 */
export const summarize = (events: readonly OperationEvent[], isAlive: (host: string, pid: number) => boolean): OperationSummary | undefined => {
  const start = events.find((e): e is OperationStarted => e.type === 'OperationStarted')
  if (start === undefined) return undefined
  let restored = 0
  let skipped = 0
  const unrestored: ItemOutcome[] = []
  const notifications: Notification[] = []
  let stopRequested = false
  let end: t.TypeOf<typeof OperationEnded> | undefined
  for (const e of events) {
    if (e.type === 'ItemsRecorded')
      for (const i of e.items) {
        if (i.outcome === 'restored') restored++
        else if (i.outcome === 'skipped') skipped++
        else unrestored.push(i)
      }
    else if (e.type === 'StopRequested') stopRequested = true
    else if (e.type === 'NotificationRecorded') notifications.push(e.notification)
    else if (e.type === 'OperationEnded') end = e
  }
  return {
    operationId: start.operationId,
    kind: start.kind,
    verb: start.verb,
    params: start.params,
    initiator: start.initiator,
    host: start.host,
    pid: start.pid,
    startedAt: start.at,
    ...(end !== undefined && { endedAt: end.at }),
    state: end !== undefined ? end.status : isAlive(start.host, start.pid) ? 'running' : 'interrupted',
    ...(start.total !== undefined && { total: start.total }),
    restored,
    skipped,
    unrestored,
    stopRequested,
    notifications,
    ...(start.resumeKey !== undefined && { resumeKey: start.resumeKey }),
    ...(start.target !== undefined && { target: start.target }),
    ...(end?.error !== undefined && { error: end.error }),
    ...(end?.counts !== undefined && { counts: end.counts }),
  }
}

/** `<account>#<item>`: how earlier runs' restored items are looked up. */
export const itemKey = (account: string, itemId: number): string => `${account}#${itemId}`

/** What earlier runs with the same resume key already wrote: item key → location. */
export const alreadyRestored = (runs: readonly (readonly OperationEvent[])[]): Map<string, string> => {
  const done = new Map<string, string>()
  for (const run of runs)
    for (const e of run) if (e.type === 'ItemsRecorded') for (const i of e.items) if (i.outcome !== 'unrestored') done.set(itemKey(i.account, i.itemId), i.location ?? '')
  return done
}

/** Append intents of earlier runs that no `ItemsRecorded` settled: the batches a crash may have left half-known. */
export const pendingIntents = (runs: readonly (readonly OperationEvent[])[]): AppendIntent[] => {
  const settled = alreadyRestored(runs)
  const out: AppendIntent[] = []
  for (const run of runs) for (const e of run) if (e.type === 'AppendIntent' && e.items.some((i) => !settled.has(itemKey(e.account, i.itemId)))) out.push(e)
  return out
}
