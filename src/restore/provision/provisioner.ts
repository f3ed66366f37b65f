/**
 * Provisioners create the destination account of a restore on a new account (or an external
 * restore) when it does not exist yet. Two are built in: a Dovecot passwd-file (a line appended is
 * live at once) and a command template for servers with their own admin tool, such as
 * `zmprov ca {account} {password}` on Carbonio/Zimbra. The new account's password comes from
 * MAILTIME_NEW_ACCOUNT_PASSWORD or is random; it is never printed or logged, because restores write
 * through the admin who acts on the user's behalf.
 */
import { spawnSync } from 'child_process'
import { createHash, randomBytes } from 'crypto'
import * as fs from 'fs'
import * as E from 'fp-ts/Either'

export interface Provisioner {
  readonly description: string
  /** Creates the account unless it exists; `created` tells which. */
  ensure(account: string): Promise<E.Either<string, { created: boolean }>>
}

/** A login name a passwd file or an admin tool can take: no separators, spaces or control characters. */
const validAccount = (a: string): boolean => /^[A-Za-z0-9._%+@-]+$/.test(a) && a.length <= 254 && !a.startsWith('-')

export const newPassword = (given: string | undefined): string => given ?? randomBytes(18).toString('base64url')

/** Dovecot's `{SSHA512}` scheme: base64(SHA-512(password ‖ salt) ‖ salt). */
export const ssha512 = (password: string, salt: Buffer = randomBytes(8)): string =>
  `{SSHA512}${Buffer.concat([
    createHash('sha512')
      .update(Buffer.concat([Buffer.from(password), salt]))
      .digest(),
    salt,
  ]).toString('base64')}`

export const passwdFileProvisioner = (file: string, password: () => string): Provisioner => ({
  description: `passwd-file:${file}`,
  ensure: async (account) => {
    if (!validAccount(account)) return E.left(`${JSON.stringify(account)} is not a valid account name for a passwd file`)
    try {
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
      if (text.split('\n').some((l) => l.startsWith(`${account}:`))) return E.right({ created: false })
      const sep = text.length > 0 && !text.endsWith('\n') ? '\n' : ''
      fs.appendFileSync(file, `${sep}${account}:${ssha512(password())}::::::\n`)
      return E.right({ created: true })
    } catch (e) {
      return E.left(`passwd file ${file}: ${(e as Error).message}`)
    }
  },
})

/** Splits a template into words (double quotes group) and fills {account} and {password}; no shell is involved. */
export const fillTemplate = (template: string, values: Readonly<Record<string, string>>): string[] =>
  (template.match(/"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^"|"$/g, '').replace(/\{(\w+)\}/g, (m, k: string) => values[k] ?? m))

export const commandProvisioner = (create: string, check: string | undefined, password: () => string): Provisioner => ({
  description: `command:${create.split(/\s+/)[0] ?? ''}`,
  ensure: async (account) => {
    if (!validAccount(account)) return E.left(`${JSON.stringify(account)} is not a valid account name`)
    const run = (template: string, values: Record<string, string>) => {
      const [cmd, ...args] = fillTemplate(template, values)
      if (cmd === undefined) return { status: 1, stderr: 'empty command template' }
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 })
      return { status: r.error !== undefined ? 127 : (r.status ?? 1), stderr: r.error?.message ?? r.stderr }
    }
    if (check !== undefined && run(check, { account }).status === 0) return E.right({ created: false })
    const r = run(create, { account, password: password() })
    // The command's own words, without the password it was given.
    return r.status === 0 ? E.right({ created: true }) : E.left(`${create.split(/\s+/)[0]} exited with ${r.status}: ${r.stderr.trim().slice(0, 300)}`)
  },
})
