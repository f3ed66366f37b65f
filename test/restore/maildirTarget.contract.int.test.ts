/**
 * The Maildir restore target runs the restore target contract: it writes each account's tree where
 * a real Dovecot keeps that user's mail (`mail_location = maildir:<root>/%u`), owned by Dovecot's
 * mail user as `owner` would make it, and the contract reads the account as Dovecot serves it.
 */
import { maildirTarget } from '../../src/restore/maildirTarget'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { restoreTargetContract } from '../contract/restoreTargetContract'

jest.setTimeout(120_000)

const ACCOUNTS = 30

describeWithService(dovecotAvailable(), 'Dovecot')('the Maildir target, served by Dovecot', () => {
  let d: Dovecot
  let n = 0
  beforeAll(async () => {
    d = await startDovecot(Object.fromEntries(Array.from({ length: ACCOUNTS }, (_, i) => [`user${i}`, 'pw'])))
  })
  afterAll(async () => {
    await removeDovecot(d)
  })
  restoreTargetContract({
    name: 'Maildir++ tree served by Dovecot',
    separator: '.',
    keywordsPerFolder: 26,
    refusesEmptyMessages: false,
    fresh: async () => {
      const account = `user${n++}`
      return {
        account,
        // Dovecot's mail user (uid and gid 8 on Debian), as `owner mail` gives it.
        target: maildirTarget(d.maildirOf(account), { owner: { uid: 8, gid: 8 } }),
        imap: async () => {
          const c = clientAs(d, account)
          await c.connect()
          return c
        },
      }
    },
  })
})
