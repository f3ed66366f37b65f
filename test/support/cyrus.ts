/**
 * A real Cyrus IMAP 3.6 server for tests: its own imapd.conf, cyrus.conf, SASL database, spool and
 * sockets in a temporary directory, on a free loopback port, with an admin (`admin`) that logs in on
 * behalf of users (SASL PLAIN with an authorization identity; `proxyservers: admin`). Users are
 * mailboxes `user/<name>` created through IMAP by the admin, as on a real Cyrus.
 *
 * Debian's `cyrus-imapd` conflicts with `dovecot-imapd` as a package, so it is not installed: its
 * other packages are (the master process, the libraries, `saslpasswd2`), and `cyrus-imapd` is
 * unpacked into a private directory (`.ci/run`; `MAILTIME_CYRUS_ROOT` points elsewhere), from which
 * this file runs `imapd`. See ../shared/services.md.
 *
 * The namespace is the one most sites run and that users see as folders: `altnamespace: yes` (folders
 * beside INBOX, not under it) and `unixhierarchysep: yes` (`/` separates levels, `.` may be in names).
 * Cyrus logs only to syslog, and there is no /dev/log here, so its own log is lost.
 */
import { alive, waitFor as waitUntil } from './wait'
import { execFileSync, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { ImapFlow } from 'imapflow'
import { freePort } from './dovecot'

const waitFor = (what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => waitUntil(what, ok, ms)

/** Where `.ci/run` unpacks Debian's cyrus-imapd (its `usr/lib/cyrus/bin/imapd`). */
export const CYRUS_ROOT = process.env.MAILTIME_CYRUS_ROOT ?? '/opt/mailtime/cyrus-imapd'
export const CYRUS_IMAPD = path.join(CYRUS_ROOT, 'usr', 'lib', 'cyrus', 'bin', 'imapd')
/** From cyrus-common (installed as a package: it does not conflict with Dovecot). */
export const CYRUS_MASTER = '/usr/lib/cyrus/bin/master'
const CTL_CYRUSDB = '/usr/lib/cyrus/bin/ctl_cyrusdb'
const SASLPASSWD2 = '/usr/sbin/saslpasswd2'

export const cyrusAvailable = (): boolean => [CYRUS_IMAPD, CYRUS_MASTER, CTL_CYRUSDB, SASLPASSWD2].every((f) => fs.existsSync(f))

export interface Cyrus {
  readonly port: number
  readonly url: string
  readonly dir: string
  readonly admin: { readonly user: string; readonly password: string }
  /** Creates the user's account (`CREATE user/<name>` as the admin); its INBOX exists at once. */
  createUser(name: string): Promise<void>
  /** Whether the user's account exists. */
  userExists(name: string): Promise<boolean>
  /** A real IMAP client logged in as the admin on behalf of `user` (connect it before use). */
  clientAs(user: string): ImapFlow
  /** A real IMAP client logged in as the admin itself, who sees every user's mailboxes as `user/<name>/…`. */
  adminClient(): ImapFlow
  /**
   * The product's `provisioning` config section for this server: a command (the command-template
   * provisioner, as for Zimbra's `zmprov ca`) that creates `user/<account>` through IMAP as the admin.
   */
  provisioning(): { command: string; checkCommand: string }
  stop(): Promise<void>
  start(): Promise<void>
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = require('net').connect(port, '127.0.0.1') as import('net').Socket
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })

const idOf = (flag: '-u' | '-g', name: string): number => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim())

const client = (port: number, auth: { user: string; pass: string; authzid?: string; loginMethod?: string }): ImapFlow =>
  new ImapFlow({ host: '127.0.0.1', port, secure: false, logger: false, auth })

/**
 * Starts a Cyrus with the given users (accounts created through IMAP). The master runs as root and
 * its services drop to the `cyrus` user, so the whole directory belongs to `cyrus:mail`.
 */
export const startCyrus = async (users: readonly string[] = ['alice', 'bob']): Promise<Cyrus> => {
  if (!cyrusAvailable()) throw new Error(`Cyrus is not installed: ${CYRUS_IMAPD} (unpacked by .ci/run) or ${CYRUS_MASTER} (cyrus-common) is missing`)
  // Deeper than /tmp itself: a chmod of the directory must never touch /tmp (services.md).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailtime-cyrus-'))
  fs.chmodSync(dir, 0o755)
  const port = await freePort()
  for (const d of ['config', 'spool', 'run']) fs.mkdirSync(path.join(dir, d), { mode: 0o750 })
  const admin = { user: 'admin', password: 'adminpw' }
  const conf = path.join(dir, 'imapd.conf')
  fs.writeFileSync(
    conf,
    `configdirectory: ${dir}/config
defaultpartition: default
partition-default: ${dir}/spool
proc_path: ${dir}/run/proc
mboxname_lockpath: ${dir}/run/lock
lmtpsocket: ${dir}/run/lmtp
idlesocket: ${dir}/run/idle
notifysocket: ${dir}/run/notify
admins: ${admin.user}
proxyservers: ${admin.user}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${dir}/sasldb2
sasl_mech_list: PLAIN LOGIN
unixhierarchysep: yes
altnamespace: yes
conversations: yes
`,
  )
  const cyrusConf = path.join(dir, 'cyrus.conf')
  fs.writeFileSync(
    cyrusConf,
    `START {
  recover cmd="${CTL_CYRUSDB} -C ${conf} -r"
}
SERVICES {
  imap cmd="${CYRUS_IMAPD} -C ${conf}" listen="127.0.0.1:${port}" prefork=0
}
EVENTS {
  checkpoint cmd="${CTL_CYRUSDB} -C ${conf} -c" period=30
}
`,
  )
  // Only the admin has a password: users are reached through it, as a backup reaches them. The
  // entry's realm is this host's name, which is Cyrus's default realm as long as `servername` is
  // not set (setting it made every login fail with "authentication failure").
  execFileSync(SASLPASSWD2, ['-p', '-c', '-f', path.join(dir, 'sasldb2'), admin.user], { input: `${admin.password}\n` })
  execFileSync('chown', ['-R', `${idOf('-u', 'cyrus')}:${idOf('-g', 'cyrus')}`, dir])

  const pidFile = path.join(dir, 'run', 'master.pid')
  const start = async () => {
    // The master daemonizes (-d) and keeps inherited pipes open, so give it none.
    const r = spawnSync(CYRUS_MASTER, ['-C', conf, '-M', cyrusConf, '-p', pidFile, '-d'], { stdio: 'ignore' })
    if (r.status !== 0) throw new Error(`cyrus master failed to start (exit ${r.status})`)
    await waitFor(`cyrus on port ${port}`, () => listening(port))
  }
  const stop = async () => {
    if (!fs.existsSync(pidFile)) return
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim())
    if (!Number.isInteger(pid) || pid <= 1 || !alive(pid)) return
    process.kill(pid, 'SIGTERM')
    await waitFor('cyrus to stop', () => !alive(pid))
    await waitFor(`port ${port} to close`, async () => !(await listening(port)))
  }
  const adminClient = () => client(port, { user: admin.user, pass: admin.password })
  const asAdmin = async <A>(f: (c: ImapFlow) => Promise<A>): Promise<A> => {
    const c = adminClient()
    await c.connect()
    try {
      return await f(c)
    } finally {
      await c.logout()
    }
  }
  const createUser = (name: string) =>
    asAdmin(async (c) => {
      await c.mailboxCreate(`user/${name}`)
    })
  const userExists = (name: string) => asAdmin(async (c) => (await c.list({ statusQuery: { messages: true } })).some((l) => l.path === `user/${name}`))

  // The provisioner runs a command without a shell; this script creates (or checks) the account.
  const script = path.join(dir, 'provision.js')
  fs.writeFileSync(
    script,
    `// Test provisioner for Cyrus: node provision.js create|check <account>
const { ImapFlow } = require(${JSON.stringify(require.resolve('imapflow'))})
const [mode, account] = process.argv.slice(2)
const c = new ImapFlow({ host: '127.0.0.1', port: ${port}, secure: false, logger: false, auth: ${JSON.stringify({ user: admin.user, pass: admin.password })} })
;(async () => {
  await c.connect()
  const exists = (await c.list()).some((l) => l.path === 'user/' + account)
  if (mode === 'create' && !exists) await c.mailboxCreate('user/' + account)
  await c.logout()
  process.exit(mode === 'check' && !exists ? 1 : 0)
})().catch((e) => { console.error(e.responseText || e.message); process.exit(2) })
`,
  )
  fs.chmodSync(script, 0o600)

  try {
    await start()
    for (const u of users) await createUser(u)
  } catch (e) {
    // The caller gets no handle to clean up with: stop and remove here.
    await stop()
    fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
  return {
    port,
    url: `imap://127.0.0.1:${port}`,
    dir,
    admin,
    createUser,
    userExists,
    clientAs: (user) => clientAs({ port, admin }, user),
    adminClient,
    provisioning: () => ({ command: `${process.execPath} ${script} create {account}`, checkCommand: `${process.execPath} ${script} check {account}` }),
    stop,
    start,
  }
}

export const removeCyrus = async (c: Cyrus): Promise<void> => {
  await c.stop()
  fs.rmSync(c.dir, { recursive: true, force: true })
}

/** A real IMAP client logged in as the admin on behalf of `user` (connect it before use), as `clientAs` of dovecot.ts. */
export const clientAs = (c: Pick<Cyrus, 'port' | 'admin'>, user: string): ImapFlow =>
  client(c.port, { user: c.admin.user, pass: c.admin.password, authzid: user, loginMethod: 'AUTH=PLAIN' })
