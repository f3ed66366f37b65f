/**
 * An unchanged account costs one round trip (src/capture/imap/unchanged.ts), against a real Dovecot:
 * once a scan recorded nothing, the next scan of the unchanged account sends one command, the
 * `LIST … RETURN (STATUS …)`, and never reads the backup's projection; a flag changed with doveadm
 * in a folder other than INBOX is still captured; without LIST-STATUS or CONDSTORE, every scan is a
 * full one. The commands are counted by the IMAP client's own log of what it sent.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { ImapFlow } from 'imapflow'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import type { Backend } from '../../src/app/ports'
import { openBackend } from '../../src/wiring/backend'
import { scanAccount } from '../../src/capture/imap/scanner'
import type { ScanReport } from '../../src/capture/imap/report'
import type { Instant } from '../../domain/instant'
import type { AccountId } from '../../domain/ids'

const msg = (subject: string) => Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@example.org>\r\n\r\nbody\r\n`)

describeWithService(dovecotAvailable(), 'Dovecot')('an unchanged account costs one LIST-STATUS', () => {
  let d: Dovecot
  let b: Backend
  let projectionReads = 0
  let clock = Date.parse('2026-12-01T00:00:00Z')
  /** Commands the client sent since the last call (their names). */
  let sent: string[] = []
  let client: ImapFlow

  beforeAll(async () => {
    d = await startDovecot({ carol: 'carolpw', dave: 'davepw' })
    const dir = tmpDir()
    const opened = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(opened)) throw new Error(JSON.stringify(opened.left))
    b = opened.right
    const c = clientAs(d, 'carol')
    await c.connect()
    await c.mailboxCreate('Archive')
    await c.append('INBOX', msg('one'))
    await c.append('Archive', msg('two'))
    await c.append('Archive', msg('three'))
    await c.logout()
  })
  afterAll(async () => {
    await client?.logout().catch(() => undefined)
    await b?.close()
    await removeDovecot(d)
    cleanupTmp()
  })

  /** A client on behalf of `user` that logs the commands it sends; `hide` capabilities it then pretends the server lacks. */
  const connect = async (user: string, hide: readonly string[] = []): Promise<ImapFlow> => {
    const quiet = () => undefined
    const c = new ImapFlow({
      host: '127.0.0.1',
      port: d.port,
      secure: false,
      auth: { user: d.admin.user, pass: d.admin.password, authzid: user, loginMethod: 'AUTH=PLAIN' },
      logger: {
        debug: (o: { src?: string; msg?: string }) => {
          // What imapflow sent: "<tag> <COMMAND> …".
          const m = o.src === 'c' ? /^\S+ ([A-Z]+)/.exec(o.msg ?? '') : null
          if (m?.[1] !== undefined) sent.push(m[1])
        },
        info: quiet,
        warn: quiet,
        error: quiet,
        trace: quiet,
      },
    })
    await c.connect()
    for (const cap of hide) {
      c.capabilities.delete(cap)
      c.enabled.delete(cap)
    }
    sent = []
    return c
  }

  const scan = async (c: ImapFlow, account: string): Promise<ScanReport> => {
    sent = []
    clock += 60_000
    const index = {
      ...b.index,
      liveItemsAsOf: (...a: Parameters<typeof b.index.liveItemsAsOf>) => {
        projectionReads++
        return b.index.liveItemsAsOf(...a)
      },
    }
    const r = await scanAccount(c, account as AccountId, { store: b.store, index, blobs: b.blobs, now: () => clock as Instant })
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    return r.right
  }

  it('skips the diff of an unchanged account once a scan recorded nothing, and still captures a change in a folder other than INBOX', async () => {
    client = await connect('carol')
    const first = await scan(client, 'carol')
    expect(first.firstScan).toBe(true)
    expect(first.eventsAppended).toBeGreaterThan(0)
    // The scan after one that recorded is a full one (it finds nothing and marks the checkpoint).
    const second = await scan(client, 'carol')
    expect(second).toMatchObject({ unchanged: false, eventsAppended: 0, complete: true })
    // Unchanged: one command, and the backup's projection is not read.
    projectionReads = 0
    const third = await scan(client, 'carol')
    expect(third).toMatchObject({ unchanged: true, eventsAppended: 0, complete: true, interrupted: false })
    expect(sent).toEqual(['LIST'])
    expect(projectionReads).toBe(0)
    // It reports the folders as a full scan of an unchanged account does.
    expect(third.folders).toEqual(second.folders)

    // A flag set by the admin in Archive (not INBOX): the listing's HIGHESTMODSEQ moved.
    d.doveadm('flags', 'add', '-u', 'carol', '\\Flagged', 'mailbox', 'Archive', 'all')
    const fourth = await scan(client, 'carol')
    expect(fourth.unchanged).toBe(false)
    expect(fourth.folders.find((f) => f.serverPath === 'Archive')).toMatchObject({ status: 'read', flagChanges: 2 })
    expect(fourth.eventsAppended).toBe(2)
    // A message delivered in INBOX while the connection sat idle in the pool.
    await scan(client, 'carol')
    const c = clientAs(d, 'carol')
    await c.connect()
    await c.append('INBOX', msg('four'))
    await c.logout()
    const sixth = await scan(client, 'carol')
    expect(sixth).toMatchObject({ unchanged: false, messagesRead: 1 })
    expect(sixth.folders.find((f) => f.serverPath === 'INBOX')).toMatchObject({ status: 'read', created: 1 })
    // And once it recorded nothing again, the account is skipped again.
    expect((await scan(client, 'carol')).unchanged).toBe(false)
    expect((await scan(client, 'carol')).unchanged).toBe(true)
  })

  it.each([['CONDSTORE'], ['LIST-STATUS']])('scans in full, every time, a server without %s', async (cap) => {
    const c = await connect('carol', [cap])
    try {
      for (let i = 0; i < 3; i++) {
        projectionReads = 0
        const r = await scan(c, 'carol')
        expect(r).toMatchObject({ unchanged: false, eventsAppended: 0, complete: true })
        expect(projectionReads).toBe(1)
      }
    } finally {
      await c.logout()
    }
  })
})
