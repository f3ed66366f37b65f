/**
 * The rewind use case (src/app/rewind.ts) called directly, as the CLI and the HTTP API call it, with
 * the ports src/wiring builds from the settings, against a real Dovecot: the account is captured,
 * hijacked by a plain IMAP client, previewed (nothing changes on the server) and rewound (the
 * account is as it was, the new mail kept aside); bad requests and a legal hold come back as
 * errors (values), and the server is left as it was.
 */
import * as path from 'path'
import * as E from 'fp-ts/Either'
import type { AccountId } from '../../domain/ids'
import { type Instant, instant } from '../../domain/instant'
import type { AppDeps, Backend, Progress } from '../../src/app/ports'
import { legalHold } from '../../src/app/retention'
import { rewind } from '../../src/app/rewind'
import { type Settings, resolveSettings } from '../../src/config'
import { connectAs } from '../../src/imap/connection'
import { imapSourceOf } from '../../src/capture/imap/source'
import { captureAccount } from '../../src/rewind/accountPorts'
import { openBackend } from '../../src/wiring/backend'
import { noStopSignal } from '../../src/wiring/restorePorts'
import { rewindPortsOf } from '../../src/wiring/rewindPorts'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { HIJACK_COUNTS, expectedAfter, fillAccount, hijack, keepFolderToday, pause, readAccount } from '../support/hijack'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(120_000)

describeWithService(dovecotAvailable(), 'Dovecot')('the rewind use case', () => {
  let d: Dovecot
  let b: Backend
  let settings: Settings
  const steps: string[] = []
  const notes: string[] = []
  const progress: Progress = { start: (label) => steps.push(label), update: () => undefined, stop: () => undefined }
  const deps = (): AppDeps => ({
    backend: async () => b,
    zone: 'UTC',
    now: () => instant(Date.now()) as Instant,
    operator: { initiator: 'ops@example.com', host: 'test-host', pid: process.pid },
    progress,
    note: (l) => notes.push(l),
    warn: (l) => notes.push(l),
    isAlive: () => true,
  })
  const ports = () => rewindPortsOf(settings, { stopSignal: noStopSignal, hostname: 'test-host' })

  /** The account captured as it was (by the scanner, as a scheduled capture would), and an instant after that capture. */
  const capturedThen = async (user: string): Promise<string> => {
    await fillAccount(d, user)
    const src = imapSourceOf(settings)
    if (E.isLeft(src)) throw new Error(src.left.reason)
    const c = await connectAs(src.right, user)
    if (E.isLeft(c)) throw new Error(JSON.stringify(c.left))
    const r = await captureAccount(
      b,
      c.right,
      user as AccountId,
      src.right.description,
      () => instant(Date.now()) as Instant,
      () => false,
    )
    await c.right.logout()
    if (E.isLeft(r)) throw new Error(r.left)
    await pause(1100)
    const at = new Date().toISOString()
    await pause(1100)
    return at
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', carol: 'carolpw' })
    const dir = tmpDir()
    const s = resolveSettings({ tz: 'UTC' }, { MAILTIME_IMAP_URL: d.url, MAILTIME_IMAP_USER: 'admin', MAILTIME_IMAP_PASSWORD: 'adminpw' }, 'UTC')
    if (E.isLeft(s)) throw new Error(s.left.reason)
    settings = s.right
    const opened = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(opened)) throw new Error(JSON.stringify(opened.left))
    b = opened.right
  })

  afterAll(async () => {
    await b?.close()
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('previews the plan grouped by action without changing the server, then runs it: the account is as it was, the new mail kept aside', async () => {
    notes.length = 0
    const at = await capturedThen('alice')
    const before = await readAccount(d, 'alice')
    await hijack(d, 'alice')
    const hijacked = await readAccount(d, 'alice')

    const dry = await rewind(deps(), ports(), { account: 'alice', date: at, dryRun: 'true' })
    if (E.isLeft(dry)) throw new Error(JSON.stringify(dry.left))
    expect(dry.right).toMatchObject({ dryRun: true, outcome: 'done', json: { dryRun: true, plan: { counts: HIJACK_COUNTS } } })
    expect(await readAccount(d, 'alice')).toEqual(hijacked)

    steps.length = 0
    const ran = await rewind(deps(), ports(), { account: 'alice', date: at })
    if (E.isLeft(ran)) throw new Error(JSON.stringify(ran.left))
    expect(ran.right).toMatchObject({ dryRun: false, outcome: 'done', json: { state: 'done', differences: [], failed: [], plan: { counts: HIJACK_COUNTS } } })
    expect(await readAccount(d, 'alice')).toEqual(expectedAfter(before, hijacked, keepFolderToday()))
    // The progress the CLI's bar and a server job show: the captures around the run, and the run.
    expect(steps.filter((s) => s === 'capturing alice')).toHaveLength(2)
    expect(steps.some((s) => s.startsWith('rewinding alice to '))).toBe(true)
    // No SMTP server is configured: the notifications to the initiator were not sent, and the notes say so.
    expect(notes).toEqual([
      'the start notification to ops@example.com was not sent: no SMTP server is configured (the "smtp" section of the config file)',
      'the end notification to ops@example.com was not sent: no SMTP server is configured (the "smtp" section of the config file)',
    ])
  })

  it('returns bad requests, an unknown account and a legal hold as errors, and leaves the server as it was', async () => {
    const at = await capturedThen('carol')
    await hijack(d, 'carol')
    const hijacked = await readAccount(d, 'carol')
    const cases: [Parameters<typeof rewind>[2], string, RegExp][] = [
      [{ account: 'nobody', date: at }, 'NotFound', /unknown account "nobody"/],
      [{ account: 'carol', date: '31/02/2026 10:00:00' }, 'Usage', /31\/02\/2026/],
      [{ account: 'carol', date: new Date(Date.now() + 86_400_000).toISOString() }, 'Usage', /is in the future/],
      [{ account: 'carol', date: '2026-01-01T00:00:00Z' }, 'NotFound', /the backup holds nothing of carol at 01\/01\/2026 00:00:00/],
      [{ account: 'carol', date: at, dryRun: 'maybe' }, 'Usage', /dry_run must be true or false, got "maybe"/],
      [{ account: 'carol', date: at, keepAfter: '/' }, 'Usage', /keep_after needs a folder name/],
      [{ account: 'carol', date: at, target: 'maildir:/tmp/x' }, 'Usage', /acts on a live IMAP account: target must be imap:\/\/host:port/],
      [{ account: 'carol', date: at, notifications: 'not-an-address' }, 'Usage', /notifications: not an e-mail address: not-an-address/],
    ]
    for (const [req, tag, message] of cases) {
      const r = await rewind(deps(), ports(), req)
      expect({ req, left: E.isLeft(r) ? { tag: r.left._tag, message: 'message' in r.left ? r.left.message : '' } : r.right.json }).toEqual({
        req,
        left: { tag, message: expect.stringMatching(message) },
      })
    }
    const held = await legalHold(deps(), { command: 'set', accounts: 'carol', reason: 'case 2026-117' })
    expect(E.isRight(held)).toBe(true)
    const refused = await rewind(deps(), ports(), { account: 'carol', date: at })
    expect(refused).toEqual(E.left({ _tag: 'Conflict', message: expect.stringContaining('carol is under legal hold (set by ops@example.com: case 2026-117)') }))
    // The preview changes nothing, so the hold allows it, and says the run would be refused.
    const dry = await rewind(deps(), ports(), { account: 'carol', date: at, dryRun: 'true' })
    expect(dry).toMatchObject(E.right({ dryRun: true, json: { plan: { counts: HIJACK_COUNTS }, refusedBecause: expect.stringContaining('carol is under legal hold') } }))
    expect(await readAccount(d, 'carol')).toEqual(hijacked)
  })
})
