import type { OperationSummary } from '../../domain/operations'
import { endMail } from '../../src/notify/restoreMail'

const summary = (unrestored: OperationSummary['unrestored']): OperationSummary => ({
  operationId: 'op-1',
  kind: 'restore',
  verb: 'doRestoreOnNewAccount',
  params: { source: 'carol', destination: 'nobody' },
  initiator: 'ops@example.com',
  host: 'h',
  pid: 1,
  startedAt: 0,
  endedAt: 1,
  state: 'partial',
  restored: 0,
  skipped: 0,
  unrestored,
  stopRequested: false,
  notifications: [],
})

describe('the end notification of a restore', () => {
  it("gives Carbonio's figures and the unrestored ids once per account and reason", () => {
    const text = endMail(
      summary([
        { account: 'nobody', itemId: 257, outcome: 'unrestored', reason: 'account nobody does not exist on imap://mail:143' },
        { account: 'nobody', itemId: 258, outcome: 'unrestored', reason: 'account nobody does not exist on imap://mail:143' },
        { account: 'nobody', itemId: 300, outcome: 'unrestored', reason: 'purged by retention' },
      ]),
      'now',
      1,
    ).text
    expect(text).toContain('Restored Items: 0\nSkipped Items:  0\nUnrestored Items: 3\n')
    expect(text).toContain('account: nobody\nunrestored items: 257, 258 (account nobody does not exist on imap://mail:143)\nunrestored items: 300 (purged by retention)\n')
  })
})
