/**
 * A real Dovecot IMAP server for tests: its own config, users and Maildirs in a temporary directory,
 * on a free loopback port, with a master user (`admin`) that logs in on behalf of users, and the
 * mail_log plugin writing every change to its log. See ../shared/services.md.
 *
 * Options add the server-side pieces Mailtime ships in contrib/dovecot/, included as they are
 * shipped (the snippet is `!include`d and its Lua script loaded from the repository, never a copy):
 * `feed` the change feed into a spool directory, `lazyExpunge` the EXPUNGED folder and its ACL.
 */
import { waitFor as waitUntil } from './wait'
import { execFileSync, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as net from 'net'
import * as os from 'os'
import * as path from 'path'
import { ImapFlow } from 'imapflow'

const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => waitUntil(what, ok, ms)

export const DOVECOT = '/usr/sbin/dovecot'
const DOVEADM = '/usr/bin/doveadm'
export const dovecotAvailable = (): boolean => fs.existsSync(DOVECOT)

export interface Dovecot {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** The hierarchy separator of its mailbox names: '.' (Maildir++) or '/' (LAYOUT=fs). */
  readonly separator: string
  readonly mailRoot: string
  readonly logPath: string
  /** The configuration file (for `doveadm -c`). */
  readonly conf: string
  /** The change feed's spool directory, with the `feed` option. */
  readonly spoolDir: string | undefined
  /** The passwd file of users (what a passwd-file provisioner appends to). */
  readonly usersFile: string
  readonly admin: { readonly user: string; readonly password: string }
  addUser(name: string, password: string): void
  /** The Maildir of a user, as Dovecot stores it. */
  maildirOf(user: string): string
  /**
   * Points a user at an existing Maildir (to let Dovecot serve a restored tree), first giving the
   * tree to Dovecot's mail user (uid 8), unless `asIs` asks to serve it exactly as it was written.
   */
  addUserWithMaildir(name: string, password: string, maildir: string, options?: { readonly asIs?: boolean }): void
  /** Stops the server; with `dropClients`, also kills the processes serving open connections (a crash, as clients see it). */
  stop(dropClients?: boolean): Promise<void>
  start(): Promise<void>
  /** Runs `doveadm` against this server's config (as an admin would change a mailbox); throws on failure. */
  doveadm(...args: string[]): string
}

export interface DovecotOptions {
  /**
   * contrib/dovecot/mailtime-feed.conf, with its script, appending to `spoolDir` (default: `spool`
   * in the server's directory; created, and owned by the mail uid, when missing; every directory
   * above it must let the mail uid through). `clock: 'seconds'` sets `mailtime_spool_clock =
   * seconds` (instants to the second, as without LuaSocket).
   */
  readonly feed?: { readonly spoolDir?: string; readonly clock?: 'seconds' }
  /** contrib/dovecot/mailtime-lazy-expunge.conf with its ACL file. */
  readonly lazyExpunge?: boolean
  /**
   * The Maildir layout: Dovecot's default Maildir++ (`.Work.Old` directories, '.' as the hierarchy
   * separator) or `fs` (`Work/Old` directories, '/' as the separator).
   */
  readonly layout?: 'maildir++' | 'fs'
}

/** The repository's contrib/dovecot/ (this file runs from test/support or from dist/test/support). */
export const contribDovecot = (): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const c = path.join(dir, 'contrib', 'dovecot')
    if (fs.existsSync(path.join(c, 'mailtime-feed.lua'))) return c
    if (path.dirname(dir) === dir) throw new Error(`contrib/dovecot not found above ${__dirname}`)
  }
}

/** The configuration the options add, after the harness's own (the snippets extend its mail_plugins). */
const contribConfig = (options: DovecotOptions, spool: string | undefined): string => {
  let out = ''
  if (options.feed !== undefined && spool !== undefined) {
    const c = contribDovecot()
    if (!fs.existsSync(spool)) {
      fs.mkdirSync(spool, { recursive: true, mode: 0o755 })
      fs.chownSync(spool, 8, 8)
    }
    out += `!include ${path.join(c, 'mailtime-feed.conf')}
plugin {
  push_notification_driver = lua:file=${path.join(c, 'mailtime-feed.lua')}
  mailtime_spool = ${spool}
${options.feed.clock === 'seconds' ? '  mailtime_spool_clock = seconds\n' : ''}}
`
  }
  if (options.lazyExpunge === true) {
    const c = contribDovecot()
    out += `!include ${path.join(c, 'mailtime-lazy-expunge.conf')}
plugin {
  acl = vfile:${path.join(c, 'mailtime-lazy-expunge.acl')}
}
`
  }
  return out
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a !== null ? resolve(a.port) : reject(new Error('no port'))))
    })
  })

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

export const startDovecot = async (users: Record<string, string> = { alice: 'alicepw', bob: 'bobpw' }, options: DovecotOptions = {}): Promise<Dovecot> => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-dovecot-'))
  fs.chmodSync(dir, 0o755)
  const port = await freePort()
  const mailRoot = path.join(dir, 'mail')
  for (const d of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 })
  fs.chownSync(mailRoot, 8, 8)
  const usersFile = path.join(dir, 'users')
  const mastersFile = path.join(dir, 'masters')
  const logPath = path.join(dir, 'dovecot.log')
  const line = (u: string, p: string, home?: string) => (home === undefined ? `${u}:{PLAIN}${p}::::::\n` : `${u}:{PLAIN}${p}:8:8::${home}::userdb_mail=maildir:${home}\n`)
  fs.writeFileSync(
    usersFile,
    Object.entries(users)
      .map(([u, p]) => line(u, p))
      .join(''),
  )
  fs.writeFileSync(mastersFile, 'admin:{PLAIN}adminpw\n')
  for (const f of [usersFile, mastersFile]) {
    execFileSync('chown', ['root:dovecot', f])
    fs.chmodSync(f, 0o640)
  }
  const conf = path.join(dir, 'dovecot.conf')
  const spoolDir = options.feed === undefined ? undefined : (options.feed.spoolDir ?? path.join(dir, 'spool'))
  fs.writeFileSync(
    conf,
    `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mailtime-test-${port}
log_path = ${logPath}
log_timestamp = "%Y-%m-%d %H:%M:%S "
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
mail_location = maildir:${mailRoot}/%u${options.layout === 'fs' ? ':LAYOUT=fs' : ''}
mail_plugins = $mail_plugins mail_log notify
first_valid_uid = 8
first_valid_gid = 8
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN ${mastersFile}
  result_success = continue
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${usersFile}
}
userdb {
  driver = passwd-file
  args = username_format=%u ${usersFile}
  default_fields = uid=8 gid=8 home=${mailRoot}/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
protocol imap {
  mail_max_userip_connections = 64
}
plugin {
  mail_log_events = delete undelete expunge save copy mailbox_create mailbox_delete mailbox_rename flag_change
  mail_log_fields = uid box msgid size vsize flags from subject
}
${contribConfig(options, spoolDir)}`,
  )
  const pidFile = path.join(dir, 'run', 'master.pid')
  const start = async () => {
    // The master daemonizes and keeps inherited pipes open, so give it none; errors go to its log.
    const r = spawnSync(DOVECOT, ['-c', conf], { stdio: 'ignore' })
    if (r.status !== 0) throw new Error(`dovecot failed to start (exit ${r.status}): ${fs.existsSync(logPath) ? fs.readFileSync(logPath, 'utf8').slice(-2000) : ''}`)
    await waitFor(`dovecot on port ${port}`, () => listening(port))
  }
  const childrenOf = (pid: number): number[] =>
    fs
      .readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return Number(fs.readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === pid
        } catch {
          return false
        }
      })
      .map(Number)
  const stop = async (dropClients = false) => {
    if (!fs.existsSync(pidFile)) return
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim())
    // Dovecot lets the processes serving open connections finish; a crash does not.
    const clients = dropClients ? childrenOf(pid) : []
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      return
    }
    for (const c of clients) {
      try {
        process.kill(c, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await waitFor('dovecot to stop', () => {
      try {
        process.kill(pid, 0)
        return false
      } catch {
        return true
      }
    })
    await waitFor(`port ${port} to close`, async () => !(await listening(port)))
  }
  // Dovecot rereads a passwd-file at most once a second: a user appended in the
  // same second as the last lookup is unknown until the next second. Wait until
  // the auth process knows the user, so a login right after never races the clock.
  const addLine = (u: string, text: string): void => {
    fs.appendFileSync(usersFile, text)
    const until = Date.now() + 10_000
    for (;;) {
      try {
        execFileSync('doveadm', ['-c', conf, 'user', u], { stdio: 'ignore' })
        return
      } catch (e) {
        if (Date.now() > until) throw new Error(`Dovecot did not learn of user ${u}: ${String(e)}`)
        execFileSync('sleep', ['0.1'])
      }
    }
  }
  await start()
  return {
    port,
    url: `imap://127.0.0.1:${port}`,
    dir,
    separator: options.layout === 'fs' ? '/' : '.',
    mailRoot,
    logPath,
    conf,
    spoolDir,
    admin: { user: 'admin', password: 'adminpw' },
    addUser: (u, p) => addLine(u, line(u, p)),
    addUserWithMaildir: (u, p, maildir, options) => {
      if (options?.asIs !== true) execFileSync('chown', ['-R', '8:8', maildir])
      addLine(u, line(u, p, maildir))
    },
    usersFile,
    maildirOf: (u) => path.join(mailRoot, u),
    stop,
    start,
    doveadm: (...args) => {
      const r = spawnSync(DOVEADM, ['-c', conf, ...args], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`doveadm ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
      return r.stdout
    },
  }
}

export const removeDovecot = async (d: Dovecot): Promise<void> => {
  await d.stop()
  fs.rmSync(d.dir, { recursive: true, force: true })
}

/** A real IMAP client logged in as the master user on behalf of `user` (connect it before use). */
export const clientAs = (d: Dovecot, user: string): ImapFlow =>
  new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user: d.admin.user, pass: d.admin.password, authzid: user, loginMethod: 'AUTH=PLAIN' } })
