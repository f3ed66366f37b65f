/**
 * The texts of the restore notifications, as Carbonio words them: a start mail, and an end mail with
 * the Restored, Skipped and Unrestored counts, the unrestored item ids per account and reason,
 * and the duration.
 */
import type { OperationSummary } from '../../domain/operations'
import { groupBy } from '../../domain/groupBy'

export interface Mail {
  readonly subject: string
  readonly text: string
}

const describe = (s: OperationSummary): string => `${s.verb} ${Object.values(s.params).join(' ')}`.trim()

export const startMail = (s: OperationSummary, when: string): Mail => ({
  subject: `Mailtime: operation started: ${s.verb} (${s.operationId})`,
  text: [
    `Operation Started`,
    '',
    `operation: ${s.operationId}`,
    `command: ${describe(s)}`,
    `started by: ${s.initiator}`,
    `started at: ${when}`,
    ...(s.target !== undefined ? [`target: ${s.target}`] : []),
    '',
  ].join('\n'),
})

export const endMail = (s: OperationSummary, when: string, seconds: number): Mail => {
  // One line per reason: an account the target lacks gives one reason for all of its items.
  const byAccount = new Map(
    [...groupBy(s.unrestored, (u) => u.account)].map(([a, us]) => [
      a,
      [...groupBy(us, (u) => u.reason ?? 'unknown reason')].map(([reason, rs]) => `${rs.map((u) => u.itemId).join(', ')} (${reason})`),
    ]),
  )
  return {
    subject: `Mailtime: operation ${s.state === 'done' ? 'completed' : s.state}: ${s.verb} (${s.operationId})`,
    text: [
      `Operation Completed (${s.state})`,
      '',
      `operation: ${s.operationId}`,
      `command: ${describe(s)}`,
      `started by: ${s.initiator}`,
      `ended at: ${when}`,
      `duration: ${seconds.toFixed(1)} s`,
      ...(s.error !== undefined ? [`error: ${s.error}`] : []),
      '',
      '- stats -',
      `Restored Items: ${s.restored}`,
      `Skipped Items:  ${s.skipped}`,
      `Unrestored Items: ${s.unrestored.length}`,
      ...(byAccount.size > 0 ? ['', '- unrestored items -'] : []),
      ...[...byAccount].flatMap(([account, reasons]) => [`account: ${account}`, ...reasons.map((r) => `unrestored items: ${r}`)]),
      '',
    ].join('\n'),
  }
}
