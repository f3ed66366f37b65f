/** The provisioner restores create destination accounts with: a Dovecot passwd file, a command, or none. */
import type { Settings } from '../config'
import { type Provisioner, commandProvisioner, newPassword, passwdFileProvisioner } from '../restore/provision/provisioner'

export const provisionerOf = (settings: Settings): Provisioner | undefined => {
  const p = settings.config.provisioning ?? {}
  const password = () => newPassword(settings.newAccountPassword)
  if (p.passwdFile !== undefined) return passwdFileProvisioner(p.passwdFile, password)
  if (p.command !== undefined) return commandProvisioner(p.command, p.checkCommand, password)
  return undefined
}
