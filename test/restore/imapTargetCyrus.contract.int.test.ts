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
import { restoreTargetContract } from '../contract/restoreTargetContract'

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
