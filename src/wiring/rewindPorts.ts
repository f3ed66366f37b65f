/**
 * What a rewind needs beyond the store, from the settings: the account's live IMAP server (the
 * capture's credentials, and the restore's IMAP target on the same server for the messages written
 * back), the notifier, the admin address, the stop signal and the test-only fault hook.
 */
import * as E from 'fp-ts/Either'
import { usageError } from '../app/errors'
import type { RewindPorts } from '../app/ports'
import { imapSourceOf } from '../capture/imap/source'
import type { Settings } from '../config'
import { connectAs, describeConnectError } from '../imap/connection'
import { faultAfter } from './faults'
import { notifierOf } from './notifier'
import type { RestoreWiring } from './restorePorts'
import { chooseTarget } from './targets'

export const rewindPortsOf = (settings: Settings, w: RestoreWiring): RewindPorts => {
  const afterAppend = faultAfter(settings.test.fault, 'append')
  const afterAction = faultAfter(settings.test.fault, 'action')
  return {
    server: (raw) => {
      // A rewind changes a live account in place: a Maildir tree or another kind of target is not one.
      if (raw !== undefined && !/^imaps?:\/\//i.test(raw))
        return E.left(usageError(`doRewind acts on a live IMAP account: target must be imap://host:port or imaps://host:port, got ${JSON.stringify(raw)}`))
      const src = imapSourceOf(settings, raw)
      if (E.isLeft(src)) return E.left(usageError(src.left.reason))
      const chosen = chooseTarget(settings, raw, {}, afterAppend === undefined ? {} : { afterAppend })
      if (E.isLeft(chosen)) return chosen
      return E.right({
        description: src.right.description,
        target: chosen.right.target,
        connect: async (account) => E.mapLeft(describeConnectError)(await connectAs(src.right, account)),
      })
    },
    notifier: () => notifierOf(settings, w.hostname),
    admin: settings.config.smtp?.admin,
    stopSignal: w.stopSignal,
    ...(afterAction !== undefined && { afterAction }),
  }
}
