/**
 * `doRewind` on random histories against a real Dovecot, through the built CLI: an account is made
 * and captured, an instant is taken, then random changes are made by a plain IMAP client (deliver,
 * move, flag, keyword, delete, rename and move folders, create and delete folders); the rewind must
 * leave every message of the instant in its folder with its flags and keywords, and every message
 * that arrived since (and is still there) in the keep-aside folder, as it is. The seed is printed
 * with any failure; MAILTIME_REWIND_SEED replays one. Each rewind is first killed at a random action
 * (MAILTIME_FAULT, test-only), then run again: it must end the same, nothing applied twice.
 */
import * as path from 'path'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { sha256 } from '../../src/blobs/blobStore'

const HISTORIES = 3
// A fixed seed by default, so that CI is repeatable; MAILTIME_REWIND_SEED=<n> runs others.
const SEED = Number(process.env.MAILTIME_REWIND_SEED ?? 38352)

const mulberry32 = (a: number) => () => {
  a |= 0
  a = (a + 0x6d2b79f5) | 0
  let t = Math.imul(a ^ (a >>> 15), 1 | a)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const mail = (n: string) => Buffer.from(`From: x@example.org\r\nTo: y@example.com\r\nSubject: m${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nbody ${n}\r\n`)

/**
 * Messages as `folder: subject [flags] digest`, and the selectable folders, read by a session of its
 * own: a session that has a folder open keeps its view of it until the server may tell it of changes
 * (imapflow does not select an open folder again), so messages the rewind moved away in other
 * sessions would still show (Dovecot returns them without a body) and those it wrote would not.
 */
const read = async (d: Dovecot, user: string): Promise<{ messages: string[]; folders: string[] }> => {
  const c = clientAs(d, user)
  await c.connect()
  const messages: string[] = []
  const folders: string[] = []
  try {
    for (const box of await c.list()) {
      if ([...box.flags].some((f) => /noselect|nonexistent/i.test(f))) continue
      folders.push(box.path)
      const lock = await c.getMailboxLock(box.path, { readOnly: true })
      try {
        if ((c.mailbox as { exists: number }).exists > 0)
          for await (const m of c.fetch('1:*', { flags: true, envelope: true, source: true }))
            messages.push(
              `${box.path}: ${m.envelope?.subject ?? ''} [${[...(m.flags ?? [])]
                .filter((f) => f !== '\\Recent')
                .sort()
                .join(' ')}] ${sha256(Buffer.isBuffer(m.source) ? m.source : Buffer.alloc(0)).slice(0, 8)}`,
            )
      } finally {
        lock.release()
      }
    }
  } finally {
    await c.logout().catch(() => undefined)
  }
  return { messages: messages.sort(), folders: folders.sort() }
}

describeWithService(dovecotAvailable(), 'Dovecot')('doRewind on random histories', () => {
  let d: Dovecot
  let dir: string
  const users = Array.from({ length: HISTORIES }, (_, i) => `user${i}`)
  const run = async (...args: string[]) => {
    const r = await mailtimeAsync(['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC', '--json', ...args], {
      MAILTIME_IMAP_URL: d.url,
      MAILTIME_IMAP_USER: 'admin',
      MAILTIME_IMAP_PASSWORD: 'adminpw',
    }).done
    return { code: r.code, out: r.stdout, err: r.stderr }
  }

  beforeAll(async () => {
    d = await startDovecot(Object.fromEntries([...users, 'reader'].map((u) => [u, 'pw'])))
    dir = tmpDir()
  })
  afterAll(async () => {
    await removeDovecot(d)
    cleanupTmp()
  })

  it("a read shows the account as the server holds it, also while the test's client has a folder open from before changes other sessions made (as the rewind makes them)", async () => {
    const c = clientAs(d, 'reader')
    const other = clientAs(d, 'reader')
    await c.connect()
    await other.connect()
    try {
      await c.append('INBOX', mail('reader-0'), ['\\Seen'])
      await c.append('INBOX', mail('reader-1'), [])
      // Open in the test's client, as the random test's client has the folder of its last change open.
      ;(await c.getMailboxLock('INBOX')).release()
      await other.mailboxCreate('kept')
      const lock = await other.getMailboxLock('INBOX')
      try {
        await other.messageMove('1', 'kept')
      } finally {
        lock.release()
      }
      await other.append('INBOX', mail('reader-2'), ['\\Flagged'])
      const line = (box: string, n: string, flags: string) => `${box}: m${n} [${flags}] ${sha256(mail(n)).slice(0, 8)}`
      expect(await read(d, 'reader')).toEqual({
        folders: ['INBOX', 'kept'],
        messages: [line('INBOX', 'reader-1', ''), line('INBOX', 'reader-2', '\\Flagged'), line('kept', 'reader-0', '\\Seen')].sort(),
      })
    } finally {
      await c.logout().catch(() => undefined)
      await other.logout().catch(() => undefined)
    }
  })

  it.each(users.map((u, i) => [u, SEED + i]))('%s (seed %d): the account ends as it was, plus the mail that arrived since, kept aside', async (user, seed) => {
    const rnd = mulberry32(seed as number)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
    const setup = clientAs(d, user as string)
    await setup.connect()
    let n = 0
    try {
      const sep = (await setup.list())[0]?.delimiter ?? '.'
      // The account at the instant: names A–C; later folders are named X–Z, so no rename back finds its name taken.
      const folders = ['INBOX', 'A', 'B', `A${sep}C`]
      for (const f of folders.slice(1)) await setup.mailboxCreate(f)
      for (let i = 0; i < 8; i++) await setup.append(pick(folders), mail(`${user}-${n++}`), pick([[], ['\\Seen'], ['\\Flagged', 'work'], ['$Label1']]))
      await setup.logout()
      expect((await run('doAccountScan', user as string)).code).toBe(0)
      await new Promise((r) => setTimeout(r, 1100))
      const instant = new Date().toISOString()
      await new Promise((r) => setTimeout(r, 1100))
      const before = await read(d, user as string)

      const later = new Set<string>()
      // Each change by a session of its own: Dovecot ends a session whose open folder is renamed with its
      // parent (the next command finds no connection), so a session kept from an earlier change would not do.
      for (let step = 0; step < 12; step++) {
        const now = (await read(d, user as string)).folders
        const userFolders = now.filter((f) => f !== 'INBOX')
        const kind = Math.floor(rnd() * 8)
        const c = clientAs(d, user as string)
        await c.connect()
        try {
          if (kind === 0) {
            const s = `${user}-${n++}`
            later.add(`m${s}`)
            await c.append(pick(now), mail(s), pick([[], ['\\Seen']]))
            continue
          }
          if (kind <= 4) {
            const f = pick(now)
            const lock = await c.getMailboxLock(f)
            try {
              const uids: number[] = []
              for await (const m of c.fetch('1:*', { uid: true })) uids.push(m.uid)
              if ((c.mailbox as { exists: number }).exists === 0 || uids.length === 0) continue
              const uid = String(pick(uids))
              if (kind === 1) await c.messageMove(uid, pick(now), { uid: true })
              if (kind === 2) await c.messageFlagsSet(uid, pick([[], ['\\Seen'], ['\\Answered', '\\Flagged']]), { uid: true })
              if (kind === 3) await c.messageFlagsAdd(uid, [pick(['work', 'home', '$Junk'])], { uid: true })
              if (kind === 4) await c.messageDelete(uid, { uid: true })
            } finally {
              lock.release()
            }
            continue
          }
          if (kind === 5 && userFolders.length > 0) {
            const f = pick(userFolders)
            const parent = pick(['', ...now.filter((p) => p !== 'INBOX' && p !== f && !p.startsWith(`${f}${sep}`))])
            const to = `${parent === '' ? '' : `${parent}${sep}`}${pick(['X', 'Y', 'Z'])}`
            if (!now.includes(to)) await c.mailboxRename(f, to).catch(() => undefined)
            continue
          }
          if (kind === 6) {
            const to = `${pick(['', ...userFolders.map((p) => `${p}${sep}`)])}${pick(['X', 'Y', 'Z'])}`
            if (!now.includes(to)) await c.mailboxCreate(to).catch(() => undefined)
            continue
          }
          const leaves = userFolders.filter((f) => !now.some((p) => p.startsWith(`${f}${sep}`)))
          if (leaves.length > 0) await c.mailboxDelete(pick(leaves)).catch(() => undefined)
        } finally {
          await c.logout().catch(() => undefined)
        }
      }
      const attacked = await read(d, user as string)

      // A first run killed at a random action (or done, when it has fewer), then the same command.
      const kill = 1 + Math.floor(rnd() * 6)
      const killed = await mailtimeAsync(['--store', `sqlite:${path.join(dir, 'm.db')}`, 'doRewind', user as string, instant, 'keep_after', 'kept'], {
        MAILTIME_IMAP_URL: d.url,
        MAILTIME_IMAP_USER: 'admin',
        MAILTIME_IMAP_PASSWORD: 'adminpw',
        MAILTIME_FAULT: `kill-after-action:${kill}`,
      }).done
      expect({ seed, kill, code: [0, 137].includes(killed.code) ? 'killed or done' : killed.code }).toEqual({ seed, kill, code: 'killed or done' })
      const r = await run('doRewind', user as string, instant, 'keep_after', 'kept')
      const out = r.out === '' ? {} : JSON.parse(r.out)
      expect({ seed, code: r.code, state: out.state, differences: out.differences, failed: out.failed, err: r.err.slice(0, 500) }).toMatchObject({
        seed,
        code: 0,
        state: 'done',
        differences: [],
        failed: [],
      })

      const after = await read(d, user as string)
      // Later mail still in the account before the rewind, as it was, in the keep-aside folder.
      const kept = attacked.messages.filter((l) => later.has(l.split(': ')[1]?.split(' ')[0] ?? '')).map((l) => `kept: ${l.slice(l.indexOf(': ') + 2)}`)
      expect({ seed, messages: after.messages }).toEqual({ seed, messages: [...before.messages, ...kept].sort() })
      for (const f of before.folders) expect({ seed, folder: f, there: after.folders.includes(f) }).toEqual({ seed, folder: f, there: true })
    } finally {
      await setup.logout().catch(() => undefined)
    }
  })
})
