/**
 * Restore targets from the settings: `maildir:<dir>` (with the owner its files get), or an IMAP
 * server (`target imap://…`, default the server configured for capture) with the configured
 * credentials, batch size and connections, and the login retry for an account this run created.
 */
import * as E from 'fp-ts/Either'
import { type AppError, usageError } from '../app/errors'
import type { ChosenTarget, TargetOptions } from '../app/ports'
import { imapSourceOf } from '../capture/imap/source'
import type { Settings } from '../config'
import { imapTarget } from '../restore/imap/imapTarget'
import { imapTargetServer } from '../restore/imap/targetServer'
import { maildirTarget } from '../restore/maildirTarget'
import { type Owner, chooseOwner, nearestExisting, resolveOwner, systemLookup } from '../restore/maildirOwner'

/** The `owner` word's ids, or a usage error naming it. */
export const ownerOf = (raw: string | undefined): E.Either<AppError, Owner | undefined> => {
  if (raw === undefined) return E.right(undefined)
  const r = resolveOwner(raw, systemLookup)
  return E.isLeft(r) ? E.left(usageError(r.left)) : E.right(r.right)
}

export interface TargetWiring {
  /** Test-only fault hook after each appended batch (MAILTIME_FAULT, faults.ts). */
  readonly afterAppend?: (batch: number, stopRequested?: () => Promise<boolean>) => Promise<void>
}

export const chooseTarget = (settings: Settings, raw: string | undefined, options: TargetOptions = {}, wiring: TargetWiring = {}): E.Either<AppError, ChosenTarget> => {
  if (raw !== undefined && raw.startsWith('maildir:')) {
    if (raw.length === 'maildir:'.length) return E.left(usageError('target maildir:<dir> needs a directory'))
    if ((options.repairs?.size ?? 0) > 0) return E.left(usageError('repair applies to IMAP targets only (a Maildir holds any message as it is)'))
    const dir = raw.slice('maildir:'.length)
    const asked = ownerOf(options.owner)
    if (E.isLeft(asked)) return asked
    const there = nearestExisting(dir)
    const choice = chooseOwner({
      ...(asked.right !== undefined && { asked: asked.right }),
      ...(options.owner !== undefined && { raw: options.owner }),
      directory: there.owner,
      where: there.path,
      self: { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 },
    })
    if (E.isLeft(choice)) return E.left(usageError(choice.left))
    return E.right({
      target: maildirTarget(dir, { ...(choice.right.chown !== undefined && { owner: choice.right.chown }) }),
      server: false,
      warnings: choice.right.warning === undefined ? [] : [choice.right.warning],
    })
  }
  if (options.owner !== undefined) return E.left(usageError('owner applies to maildir targets only (an IMAP server owns its files)'))
  if (raw !== undefined && !/^imaps?:\/\//i.test(raw))
    return E.left(usageError(`unsupported target ${JSON.stringify(raw)}: use imap://host:port, imaps://host:port or maildir:<dir>`))
  const src = imapSourceOf(settings, raw)
  if (E.isLeft(src))
    return E.left(usageError(raw === undefined ? `${src.left.reason}; or give target maildir:<dir> (Dovecot serves that tree as is), or dry_run true` : src.left.reason))
  const s = src.right
  const { batchSize, connections } = settings.restore
  return E.right({
    server: true,
    warnings: [],
    target: imapTarget(imapTargetServer(s, options.justCreated), {
      batchSize,
      connections,
      ...(wiring.afterAppend !== undefined && { afterAppend: wiring.afterAppend }),
      ...(options.repairs !== undefined && { repairs: options.repairs }),
    }),
  })
}
