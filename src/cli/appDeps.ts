/** The use cases' ports from a CLI run's context: the store, clock, zone, operator, progress and notes, and for restores the wiring of targets, provisioner, notifier and the SIGINT/SIGTERM stop. */
import * as os from 'os'
import type { AppDeps, RestorePorts } from '../app/ports'
import { restorePortsOf } from '../wiring/restorePorts'
import type { Context } from './grammar'
import { isAlive } from './processes'
import { stopSignal } from './stopSignal'

export const appDeps = (ctx: Context): AppDeps => ({
  backend: ctx.backend,
  zone: ctx.zone,
  now: ctx.now,
  operator: { initiator: ctx.settings.operator, host: os.hostname(), pid: process.pid },
  progress: ctx.progress,
  note: ctx.note,
  warn: ctx.warn,
  isAlive,
})

/** The CLI's restores stop cleanly on SIGINT/SIGTERM (the current batch finishes). */
export const restorePorts = (ctx: Context): RestorePorts => restorePortsOf(ctx.settings, { stopSignal, hostname: os.hostname() })
