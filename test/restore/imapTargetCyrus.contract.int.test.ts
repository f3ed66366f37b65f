/**
 * The IMAP restore target runs the restore target contract against a real Cyrus IMAP 3.6 (separator
 * `/`, a stricter server than Dovecot: test/support/cyrus.ts), as it does against Dovecot in
 * imapTarget.contract.int.test.ts. Accounts are created through IMAP by the admin, who writes into
 * them on behalf of each user.
 */
import * as E from 'fp-ts/Either'
import { type ImapTargetServer, imapTarget } from '../../src/restore/imap/imapTarget'
import { type Cyrus, cyrusAvailable, removeCyrus, startCyrus } from '../support/cyrus'
import { describeWithService } from '../support/services'
import { planOf, readServed, restoreTargetContract, testJournal } from '../contract/restoreTargetContract'
import type { RestoreItem } from '../../domain/restore/plan'
import { fsBlobStore, sha256 } from '../../src/blobs/blobStore'
import { cleanupTmp, tmpDir } from '../support/tmp'

jest.setTimeout(120_000)

const serverOf = (c: Cyrus): ImapTargetServer => ({
  host: '127.0.0.1',
  port: c.port,
  secure: false,
  description: c.url,
  loginFor: (account) => ({ user: c.admin.user, pass: c.admin.password, authzid: account }),
  connect: async (account) => {
    const client = c.clientAs(account)
    client.on('error', () => undefined)
    try {
      await client.connect()
      return E.right(client)
    } catch (e) {
      return E.left({ _tag: 'Failure', reason: (e as Error).message })
    }
  },
})

describeWithService(cyrusAvailable(), 'Cyrus')('the IMAP target (Cyrus)', () => {
  let c: Cyrus
  let n = 0
  beforeAll(async () => {
    c = await startCyrus([])
  })
  afterAll(async () => {
    if (c !== undefined) await removeCyrus(c)
  })
  restoreTargetContract({
    name: 'IMAP into Cyrus',
    separator: '/',
    refusesEmptyMessages: true,
    emptyMessageRefusal: /refused.*Zero-length message/,
    // 200 CJK characters (Cyrus accepts 150): "Invalid mailbox name".
    tooLongFolderName: '長'.repeat(200),
    fresh: async () => {
      const account = `user${n++}`
      await c.createUser(account)
      return {
        account,
        target: imapTarget(serverOf(c), { batchSize: 3, connections: 2 }),
        imap: async () => {
          const client = c.clientAs(account)
          await client.connect()
          return client
        },
      }
    },
  })
})

/**
 * A strict server (issue 23.5): Cyrus refuses messages Dovecot stores, such as bare LF line endings
 * ("Message contains bare newlines") and a header line without a colon ("Message contains invalid
 * header"). Each refused message is unrestored with the server's words, never dropped silently;
 * what a repair can overcome names that repair, which is applied only when asked, and reported.
 */
describeWithService(cyrusAvailable(), 'Cyrus')('the IMAP target into a strict server (Cyrus)', () => {
  let c: Cyrus
  let n = 0
  const bareLf = Buffer.from('From: Marco <marco@example.org>\nSubject: Bare LF\nMessage-ID: <lf@example.org>\n\nLine one\nLine two\n')
  const badHeader = Buffer.from('From: Marco <marco@example.org>\r\nSubject: Bad header\r\nNo colon on this line\r\n\r\nBody\r\n')
  const fine = Buffer.from('From: Marco <marco@example.org>\r\nSubject: Fine\r\n\r\nBody\r\n')
  beforeAll(async () => {
    c = await startCyrus([])
  })
  afterAll(async () => {
    if (c !== undefined) await removeCyrus(c)
    cleanupTmp()
  })
  const fresh = async () => {
    const account = `strict${n++}`
    await c.createUser(account)
    return account
  }
  const served = async (account: string) => {
    const client = c.clientAs(account)
    await client.connect()
    try {
      return await readServed(client)
    } finally {
      await client.logout()
    }
  }

  it("each refused message is unrestored with the server's reason, the repair that would help named; the others are written", async () => {
    const account = await fresh()
    const blobs = fsBlobStore(tmpDir('mailtime-strict-'))
    const plan = planOf(account, blobs, [
      ['Bare LF', { bytes: bareLf }],
      ['Bad header', { bytes: badHeader }],
      ['Fine', { bytes: fine }],
    ])
    const j = testJournal('k-strict', [])
    const r = await imapTarget(serverOf(c), { batchSize: 10 }).materialize(plan, blobs, j)
    expect(E.isRight(r) && r.right.warnings).toEqual([])
    const [lf, bad, ok] = plan.items as [RestoreItem, RestoreItem, RestoreItem]
    const reasons = Object.fromEntries(j.outcomes.filter((o) => o.outcome === 'unrestored').map((o) => [o.itemId, o.reason]))
    expect(reasons).toEqual({
      [lf.itemId]: "the server refused it: Message contains bare newlines (the restore's attribute `repair bare_lf` would send it with bare LF line endings converted to CRLF)",
      [bad.itemId]: 'the server refused it: Message contains invalid header',
    })
    expect(
      Object.values(await served(account))
        .flat()
        .map((m) => m.digest),
    ).toEqual([ok.digest])
  })

  it('with repair bare_lf, such a message is written with CRLF line endings and reported; a re-run finds it; a message it cannot repair stays unrestored', async () => {
    const account = await fresh()
    const blobs = fsBlobStore(tmpDir('mailtime-strict-'))
    const plan = planOf(account, blobs, [
      ['Bare LF', { bytes: bareLf, flags: ['\\Seen'], tags: ['$Work'] }],
      ['Bad header', { bytes: badHeader }],
    ])
    const [lf, bad] = plan.items as [RestoreItem, RestoreItem]
    const target = imapTarget(serverOf(c), { batchSize: 10, repairs: new Set(['bare_lf'] as const) })
    const j = testJournal('k-repair', [])
    const r = await target.materialize(plan, blobs, j)
    expect(E.isRight(r) && r.right.warnings).toEqual([`item ${lf.itemId} in /Inbox: bare LF line endings converted to CRLF (repair bare_lf)`])
    expect(j.outcomes.map((o) => [o.itemId, o.outcome])).toEqual(
      expect.arrayContaining([
        [lf.itemId, 'restored'],
        [bad.itemId, 'unrestored'],
      ]),
    )
    const inbox = (await served(account)).INBOX ?? []
    expect(inbox.map((m) => ({ digest: m.digest, flags: m.flags, keywords: m.keywords }))).toEqual([
      { digest: sha256(Buffer.from(bareLf.toString().replace(/\n/g, '\r\n'))), flags: ['\\Seen'], keywords: ['$Work'] },
    ])
    // A restore that died after the APPEND finds the repaired message by what was sent: nothing twice.
    const crashed = testJournal('k-repair-crash', [], { crash: { on: 'record', nth: 1 } })
    const account2 = await fresh()
    const plan2 = { ...plan, targetAccount: account2 }
    await target.materialize(plan2, blobs, crashed)
    const resumed = testJournal('k-repair-crash', [crashed.events])
    await target.materialize(plan2, blobs, resumed)
    expect(((await served(account2)).INBOX ?? []).length).toBe(1)
    expect(resumed.outcomes.find((o) => o.itemId === lf.itemId)?.outcome).toBe('skipped')
  })
})
