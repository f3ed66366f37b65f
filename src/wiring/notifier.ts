/** The notifier of restores' start and end: SMTP when the config has an smtp.host, else none. */
import { type Notifier, smtpNotifier } from '../notify/notifier'
import type { Settings } from '../config'

export const notifierOf = (settings: Settings, hostname: string): Notifier | undefined => {
  const c = settings.config.smtp
  if (c?.host === undefined) return undefined
  return smtpNotifier({
    host: c.host,
    port: c.port ?? 25,
    secure: c.secure ?? false,
    ...(c.user !== undefined && { user: c.user }),
    ...(c.password !== undefined && { password: c.password }),
    from: c.from ?? `mailtime@${hostname}`,
  })
}
