/** Recognising a restore's own messages in a later scan: by recorded location, or by an intent not yet recorded. */
import type { OperationEvent } from '../../domain/operations'
import { restoredMessages, serverOf } from '../../domain/restore/restoredMessages'

const started = (operationId: string, target: string): OperationEvent => ({
  type: 'OperationStarted',
  operationId,
  at: 1000,
  kind: 'restore',
  verb: 'doUndelete',
  params: {},
  initiator: 'ops@example.com',
  host: 'h',
  pid: 1,
  target,
})
const intent = (operationId: string, at: number, folder: string, uidValidity: number, uidNext: number, items: [number, string][]): OperationEvent => ({
  type: 'AppendIntent',
  operationId,
  at,
  account: 'alice',
  folder,
  uidValidity,
  uidNext,
  items: items.map(([itemId, digest]) => ({ itemId, digest })),
})
const recorded = (operationId: string, at: number, items: [number, string][]): OperationEvent => ({
  type: 'ItemsRecorded',
  operationId,
  at,
  items: items.map(([itemId, location]) => ({ account: 'alice', itemId, outcome: 'restored', location })),
})

describe('restoredMessages', () => {
  const server = serverOf('imap://Mail.example.com:143 as admin')

  it('finds a recorded location, and an unrecorded batch by folder, UIDVALIDITY, UIDNEXT and digest, each item once', () => {
    const ops = [
      [
        started('op1', 'imap://mail.example.com:143 as admin'),
        intent('op1', 2000, 'INBOX', 7, 10, [
          [101, 'd1'],
          [102, 'd2'],
        ]),
        recorded('op1', 2100, [
          [101, 'INBOX;7;10'],
          [102, 'INBOX;7;11'],
        ]),
        intent('op1', 3000, 'INBOX', 7, 12, [
          [103, 'd3'],
          [104, 'd3'],
        ]),
      ],
    ]
    const r = restoredMessages(ops, 'alice', server)
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 11, digest: 'anything' })).toEqual({ operationId: 'op1', itemId: 102, initiator: 'ops@example.com', at: 2100 })
    // The batch whose outcome was never recorded (the restore died, or is still running).
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 12, digest: 'd3' })?.itemId).toBe(103)
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 13, digest: 'd3' })?.itemId).toBe(104)
    // A third message with the same content is the user's own: both intent entries are used.
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 14, digest: 'd3' })).toBeUndefined()
    // Below UIDNEXT, another UIDVALIDITY or another folder: not the restore's.
    expect(restoredMessages(ops, 'alice', server).find({ folder: 'INBOX', uidValidity: 7, uid: 9, digest: 'd3' })).toBeUndefined()
    expect(restoredMessages(ops, 'alice', server).find({ folder: 'INBOX', uidValidity: 8, uid: 12, digest: 'd3' })).toBeUndefined()
    expect(restoredMessages(ops, 'alice', server).find({ folder: 'Sent', uidValidity: 7, uid: 12, digest: 'd3' })).toBeUndefined()
  })

  it('lets a recorded item not claim a second message through its intent, and ignores other servers and accounts', () => {
    const ops = [[started('op1', 'imap://mail.example.com:143'), intent('op1', 2000, 'INBOX', 7, 10, [[101, 'd1']]), recorded('op1', 2100, [[101, 'INBOX;7;10']])]]
    const r = restoredMessages(ops, 'alice', server)
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 10, digest: 'd1' })?.itemId).toBe(101)
    expect(r.find({ folder: 'INBOX', uidValidity: 7, uid: 30, digest: 'd1' })).toBeUndefined()
    expect(restoredMessages(ops, 'alice', serverOf('imap://other:143')).find({ folder: 'INBOX', uidValidity: 7, uid: 10, digest: 'd1' })).toBeUndefined()
    expect(restoredMessages(ops, 'bob', server).find({ folder: 'INBOX', uidValidity: 7, uid: 10, digest: 'd1' })).toBeUndefined()
    expect(
      restoredMessages([[started('op2', 'maildir:/srv/x'), intent('op2', 1, 'INBOX', 7, 1, [[1, 'd1']])]], 'alice', server).find({
        folder: 'INBOX',
        uidValidity: 7,
        uid: 10,
        digest: 'd1',
      }),
    ).toBeUndefined()
  })
})
