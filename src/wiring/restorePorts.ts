/** What a restore needs beyond the store, from the settings: targets, provisioner, notifier, admin address, stop signal. */
import type { RestorePorts, StopSignal } from '../app/ports'
import type { Settings } from '../config'
import { faultAfter } from './faults'
import { notifierOf } from './notifier'
import { provisionerOf } from './provisioner'
import { chooseTarget, ownerOf } from './targets'
import * as E from 'fp-ts/Either'
import { usageError } from '../app/errors'
import { davRestoreSource } from '../dav/restoreWiring'

export interface RestoreWiring {
  /** The CLI stops on SIGINT/SIGTERM; a server job installs no process-wide handler. */
  readonly stopSignal: () => StopSignal
  readonly hostname: string
}

export const restorePortsOf = (settings: Settings, w: RestoreWiring): RestorePorts => {
  const afterAppend = faultAfter(settings.test.fault, 'append')
  const wiring = afterAppend === undefined ? {} : { afterAppend }
  return {
    chooseTarget: (raw, options) => chooseTarget(settings, raw, options, wiring),
    davSource: (url) => E.mapLeft(usageError)(davRestoreSource(settings, url)),
    checkOwner: (raw) => E.map(() => undefined)(ownerOf(raw)),
    provisioner: () => provisionerOf(settings),
    notifier: () => notifierOf(settings, w.hostname),
    admin: settings.config.smtp?.admin,
    stopSignal: w.stopSignal,
    ...wiring,
  }
}

/** A stop signal nothing raises (work the server runs: stopped by doStopOperation only). */
export const noStopSignal = (): StopSignal => ({ stopped: () => false, dispose: () => undefined })
