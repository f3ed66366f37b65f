import { type OperationEvent, alreadyRestored, pendingIntents, summarize } from '../../domain/operations'

const start: OperationEvent = {
  type: 'OperationStarted',
  operationId: 'op1',
  at: 1,
  kind: 'restore',
  verb: 'doUndelete',
  params: { account: 'a' },
  initiator: 'ops',
  host: 'h',
  pid: 42,
  resumeKey: 'k',
  total: 4,
}

describe('operations stream fold', () => {
  const run: OperationEvent[] = [
    start,
    {
      type: 'AppendIntent',
      operationId: 'op1',
      at: 2,
      account: 'a',
      folder: 'INBOX',
      uidValidity: 7,
      uidNext: 10,
      items: [
        { itemId: 1, digest: 'd1' },
        { itemId: 2, digest: 'd2' },
      ],
    },
    {
      type: 'ItemsRecorded',
      operationId: 'op1',
      at: 3,
      items: [
        { account: 'a', itemId: 1, outcome: 'restored', location: 'INBOX;7;10' },
        { account: 'a', itemId: 3, outcome: 'unrestored', reason: 'purged' },
      ],
    },
    { type: 'AppendIntent', operationId: 'op1', at: 4, account: 'a', folder: 'INBOX', uidValidity: 7, uidNext: 12, items: [{ itemId: 4, digest: 'd4' }] },
  ]

  it('a started operation without an end is running while its process lives, interrupted once it is gone', () => {
    expect(summarize(run, () => true)?.state).toBe('running')
    const s = summarize(run, () => false)
    expect(s).toMatchObject({ state: 'interrupted', restored: 1, skipped: 0, total: 4 })
    expect(s?.unrestored.map((u) => u.itemId)).toEqual([3])
  })

  it('the end record decides the state; stop requests and notifications are kept', () => {
    const ended = summarize(
      [
        ...run,
        { type: 'StopRequested', operationId: 'op1', at: 5, by: 'x' },
        { type: 'NotificationRecorded', operationId: 'op1', at: 6, notification: { phase: 'end', to: ['a@b'], sent: false, error: 'down' } },
        { type: 'OperationEnded', operationId: 'op1', at: 7, status: 'stopped', restored: 1, skipped: 0, unrestored: 1 },
      ],
      () => true,
    )
    expect(ended).toMatchObject({ state: 'stopped', stopRequested: true, endedAt: 7, notifications: [{ sent: false, error: 'down' }] })
    expect(summarize(run.slice(1), () => true)).toBeUndefined()
  })

  it('what earlier runs wrote is skipped; intents whose items were never recorded stay pending', () => {
    expect([...alreadyRestored([run])]).toEqual([['a#1', 'INBOX;7;10']])
    // The first intent is half settled (item 2 unknown), the second not at all.
    expect(pendingIntents([run]).map((i) => i.uidNext)).toEqual([10, 12])
    const settled: OperationEvent[] = [
      ...run,
      { type: 'ItemsRecorded', operationId: 'op1', at: 8, items: [{ account: 'a', itemId: 2, outcome: 'skipped', location: 'INBOX;7;11' }] },
    ]
    expect(pendingIntents([settled]).map((i) => i.uidNext)).toEqual([12])
  })
})
