/**
 * The coherency check's pure pieces: the item sample, the scan checkpoint's rules, the operations'
 * classification and the comparison of two item histories.
 */
import type { ItemEvent } from '../../domain/events'
import type { Flag } from '../../domain/flags'
import type { OperationSummary } from '../../domain/operations'
import type { RecordedEvent } from '../../projections/order'
import { itemVersions } from '../../projections/versions'
import type { ScanCheckpoint } from '../../src/capture/scanCheckpoint'
import { historyDifference } from '../../src/coherency/indexCheck'
import { classifyOperations } from '../../src/coherency/operations'
import { bottomK, itemHash, partitionOf } from '../../src/coherency/sample'
import { checkpointAhead, checkpointFromStream, decodeScanCheckpoint, isFinalForm, rereadEverything } from '../../src/coherency/scanCheckpoint'
import { I, T, ev } from '../support/build'

const rec = (events: readonly ReturnType<typeof ev>[]): RecordedEvent<ItemEvent>[] => events.map((event, revision) => ({ event: event as ItemEvent, revision }))

describe('the item sample', () => {
  it('chooses the k distinct items with the smallest salted hash, however often each appears', () => {
    const s = bottomK(10, 42)
    for (let round = 0; round < 3; round++) for (let id = 256; id < 1256; id++) s.offer(id)
    const expected = Array.from({ length: 1000 }, (_, i) => 256 + i)
      .sort((a, b) => itemHash(a, 42) - itemHash(b, 42))
      .slice(0, 10)
    expect([...s.chosen()].sort()).toEqual(expected.sort())
  })

  it('chooses every item when there are no more than k', () => {
    const s = bottomK(100, 7)
    for (const id of [300, 301, 300, 999]) s.offer(id)
    expect([...s.chosen()].sort()).toEqual([300, 301, 999])
  })

  it('chooses other items with another salt, and each item about as often as the others', () => {
    const counts = new Map<number, number>()
    for (let salt = 1; salt <= 400; salt++) {
      const s = bottomK(5, salt)
      for (let id = 1; id <= 50; id++) s.offer(id)
      for (const id of s.chosen()) counts.set(id, (counts.get(id) ?? 0) + 1)
    }
    // 400 samples of 5 of 50: 40 per item on average.
    expect(counts.size).toBe(50)
    expect(Math.min(...counts.values())).toBeGreaterThan(15)
    expect(Math.max(...counts.values())).toBeLessThan(70)
  })

  it('splits items into partitions, each item in exactly one', () => {
    const seen = Array.from({ length: 4 }, () => 0)
    for (let id = 1; id <= 1000; id++) seen[partitionOf(id, 9, 4)]! += 1
    expect(seen.reduce((a, b) => a + b, 0)).toBe(1000)
    expect(Math.min(...seen)).toBeGreaterThan(150)
  })
})

const final = (over: Partial<ScanCheckpoint> = {}): ScanCheckpoint => ({
  version: 1,
  nextItemId: 260,
  lastScanAt: T('2026-03-01T10:00:00Z'),
  folders: {
    INBOX: { folderId: 2, uidValidity: 1, uidNext: 5, messages: 4 },
    Work: { folderId: 256, uidValidity: 2, uidNext: 3, messages: 2 },
  },
  ...over,
})

const workFolder = (recordedAt = '2026-03-01T10:00:00Z') =>
  ev('ItemCreated', 'alice', T('2026-02-01T00:00:00Z'), { itemId: I(256), itemType: 'folder', folderId: I(1), name: 'Work', flags: [], tags: [] }, { recordedAt: T(recordedAt) })

const facts = (maxItemId: number, folderEvents: ReturnType<typeof ev>[] = [workFolder()]) => ({
  maxItemId,
  folderEvents: new Map([[256, rec(folderEvents)]]),
  lastScanAt: T('2026-03-01T10:00:00Z') as number,
})

describe('the scan checkpoint against the stream', () => {
  it('is not ahead when it hands out the id after the highest one the stream used', () => {
    expect(checkpointAhead(final(), facts(259))).toEqual([])
  })

  it('is ahead when it hands out ids the stream never used', () => {
    const found = checkpointAhead(final({ nextItemId: 300 }), facts(259))
    expect(found).toHaveLength(1)
    expect(found[0]).toContain('hands out item ids from 300')
    expect(found[0]).toContain('is 259')
  })

  it('counts the ids of folders the mapping holds but whose creation a resumed scan has yet to record', () => {
    const cp = final({ nextItemId: 271, folders: { ...final().folders, New: { folderId: 270, uidValidity: 9, uidNext: 0, messages: -1 } } })
    expect(checkpointAhead(cp, facts(259))).toEqual([])
  })

  it('is ahead when it marks as read a user folder the stream never recorded', () => {
    const found = checkpointAhead(final(), facts(259, []))
    expect(found).toEqual([expect.stringContaining('marks folder "Work" (item 256) as read, but the stream never recorded that folder')])
  })

  it('is ahead when the folder it marks as read was deleted at the scan', () => {
    const gone = ev('ItemDeleted', 'alice', T('2026-03-01T09:00:00Z'), { itemId: I(256), itemType: 'folder' }, { recordedAt: T('2026-03-01T09:00:00Z') })
    expect(checkpointAhead(final(), facts(259, [workFolder(), gone]))).toEqual([expect.stringContaining('holds item 256 as a deleted folder')])
  })

  it('is not ahead for a folder deleted after the scan (a log import recorded it later)', () => {
    const later = ev('ItemDeleted', 'alice', T('2026-03-01T11:00:00Z'), { itemId: I(256), itemType: 'folder' }, { recordedAt: T('2026-03-01T11:00:00Z') })
    expect(checkpointAhead(final(), facts(259, [workFolder(), later]))).toEqual([])
  })

  it('never finds the form written while a scan is partly recorded ahead, nor its reset', () => {
    const partial = rereadEverything(final({ nextItemId: 400 }))
    expect(isFinalForm(partial)).toBe(false)
    expect(checkpointAhead(partial, facts(0, []))).toEqual([])
    expect(partial.folders.Work).toEqual({ folderId: 256, uidValidity: 2, uidNext: 0, messages: -1 })
    expect(checkpointAhead({ ...final(), pendingFirstScan: true }, facts(0, []))).toEqual([])
  })

  it('is made again from the stream with each live user folder under the mailbox its latest scan event names', () => {
    const created = makeFolder(300, 'Old', 11)
    const renamed = ev('ItemRenamed', 'alice', T('2026-02-10T00:00:00Z'), { itemId: I(300), name: 'New', itemType: 'folder' })
    const renamedScan = { ...renamed, observedVia: 'imap-scan' as const, source: { kind: 'imap-folder', mailbox: 'Projects/New', uidValidity: 11, seq: 4 } }
    const deleted = makeFolder(301, 'Gone', 12)
    const deletion = ev('ItemDeleted', 'alice', T('2026-02-11T00:00:00Z'), { itemId: I(301), itemType: 'folder' })
    const cp = checkpointFromStream({
      maxItemId: 340,
      folderEvents: new Map([
        [300, rec([created, renamedScan])],
        [301, rec([deleted, deletion])],
      ]),
      lastScanAt: T('2026-02-12T00:00:00Z'),
    })
    expect(cp).toEqual({
      version: 1,
      nextItemId: 341,
      lastScanAt: T('2026-02-12T00:00:00Z'),
      folders: { 'Projects/New': { folderId: 300, uidValidity: 11, uidNext: 0, messages: -1 } },
    })
    expect(isFinalForm(cp)).toBe(false)
  })

  it('does not decode from text that is not a checkpoint, and says why', () => {
    expect(decodeScanCheckpoint('{"version":1}')).toMatchObject({ _tag: 'Bad', reason: expect.stringContaining('nextItemId') })
    expect(decodeScanCheckpoint('{oops')).toMatchObject({ _tag: 'Bad', reason: expect.stringContaining('not JSON') })
    expect(decodeScanCheckpoint(undefined)).toEqual({ _tag: 'None' })
    expect(decodeScanCheckpoint(JSON.stringify(final()))).toEqual({ _tag: 'Ok', value: final() })
  })
})

function makeFolder(id: number, name: string, uidValidity: number) {
  const e = ev('ItemCreated', 'alice', T('2026-02-01T00:00:00Z'), { itemId: I(id), itemType: 'folder', folderId: I(1), name, flags: [], tags: [] })
  return { ...e, observedVia: 'imap-scan' as const, source: { kind: 'imap-folder', mailbox: `Projects/${name}`, uidValidity } }
}

const op = (id: string, over: Partial<OperationSummary>): OperationSummary => ({
  operationId: id,
  kind: 'scan',
  verb: 'doAccountScan',
  params: { account: 'alice' },
  initiator: 'root',
  host: 'h',
  pid: 1,
  startedAt: 0,
  state: 'done',
  restored: 0,
  skipped: 0,
  unrestored: [],
  stopRequested: false,
  notifications: [],
  ...over,
})

describe('operations: closed or resumable', () => {
  it('counts ended and running operations, and an interrupted one that ran again since as closed', () => {
    const c = classifyOperations([op('a', { state: 'interrupted' }), op('b', {}), op('c', { state: 'running', params: { account: 'bob' } })])
    expect(c.report).toEqual({ closed: 2, running: 1, open: [] })
    expect(c.problems).toEqual([])
  })

  it('lists an interrupted operation not run again since as open, with how to resume it', () => {
    const c = classifyOperations([
      op('a', {}),
      op('b', { state: 'interrupted' }),
      op('r1', { kind: 'restore', verb: 'doUndelete', resumeKey: 'k1', state: 'interrupted', params: { account: 'alice', start: 'first' } }),
    ])
    expect(c.report.open.map((o) => [o.operationId, o.resume])).toEqual([
      ['b', 'run the same doAccountScan command again (account alice)'],
      ['r1', 'run the same doUndelete command again (account alice, start first)'],
    ])
    expect(c.problems).toEqual([])
  })

  it('groups restores by resume key: a later run with the key closes an interrupted one', () => {
    const c = classifyOperations([op('r1', { kind: 'restore', resumeKey: 'k', state: 'interrupted' }), op('r2', { kind: 'restore', resumeKey: 'k', state: 'partial', params: {} })])
    expect(c.report).toEqual({ closed: 2, running: 0, open: [] })
  })

  it('reports an interrupted restore without a resume key as not resumable', () => {
    const c = classifyOperations([op('r', { kind: 'restore', verb: 'doItemRestore', state: 'interrupted' })])
    expect(c.problems).toEqual([expect.objectContaining({ kind: 'operation-not-resumable', operationId: 'r' })])
    expect(c.report.open).toEqual([])
  })
})

describe('an item history compared with a replay', () => {
  const created = ev('ItemCreated', 'alice', T('2026-02-01T00:00:00Z'), { itemId: I(300), itemType: 'message', folderId: I(2), flags: [], tags: [] })
  const seen = ev('ItemFlagsChanged', 'alice', T('2026-02-02T00:00:00Z'), { itemId: I(300), flags: ['\\Seen' as Flag] })
  const both = itemVersions(rec([created, seen]))

  it('agrees with itself', () => {
    expect(historyDifference(both, both)).toBeUndefined()
  })

  it('names the version the index lacks', () => {
    expect(historyDifference(both.slice(1), both)).toBe(`the index lacks the version from 2026-02-01T00:00:00.000Z (ItemCreated, event ${created.eventId}, live)`)
  })

  it('names a version the index holds that the events do not give', () => {
    const wrong = [both[0]!, { ...both[1]!, state: { ...both[1]!.state, flags: [] } }]
    expect(historyDifference(wrong, both)).toContain('the index lacks the version from 2026-02-02')
    expect(historyDifference([...both, both[1]!], both)).toContain('the index holds a version the events do not give: from 2026-02-02')
  })
})
