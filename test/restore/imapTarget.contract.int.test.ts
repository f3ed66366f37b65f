/**
 * The IMAP restore target runs the restore target contract against a real Dovecot, in both of its
 * Maildir layouts: Maildir++ (hierarchy separator `.`) and LAYOUT=fs (separator `/`), so that a
 * folder name holding the other layout's separator is seen both ways.
 */
import * as E from 'fp-ts/Either'
import { type ImapTargetServer, imapTarget } from '../../src/restore/imap/imapTarget'
import { type Dovecot, type DovecotOptions, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { restoreTargetContract } from '../contract/restoreTargetContract'

jest.setTimeout(120_000)

/** Accounts made when Dovecot starts: one added later may be refused for a second (docs/restore.md). */
const ACCOUNTS = 30

const serverOf = (d: Dovecot): ImapTargetServer => ({
  host: '127.0.0.1',
  port: d.port,
  secure: false,
  description: d.url,
  loginFor: (account) => ({ user: d.admin.user, pass: d.admin.password, authzid: account }),
  connect: async (account) => {
    const c = clientAs(d, account)
    c.on('error', () => undefined)
    try {
      await c.connect()
      return E.right(c)
    } catch (e) {
      return E.left({ _tag: 'Failure', reason: (e as Error).message })
    }
  },
})

const suite = (name: string, separator: '.' | '/', options: DovecotOptions) =>
  describeWithService(dovecotAvailable(), 'Dovecot')(`the IMAP target (${name})`, () => {
    let d: Dovecot
    let n = 0
    beforeAll(async () => {
      d = await startDovecot(Object.fromEntries(Array.from({ length: ACCOUNTS }, (_, i) => [`user${i}`, 'pw'])), options)
    })
    afterAll(async () => {
      await removeDovecot(d)
    })
    restoreTargetContract({
      name: `IMAP into Dovecot, ${name}`,
      separator,
      refusesEmptyMessages: true,
      fresh: async () => {
        const account = `user${n++}`
        // Small batches on two connections: a crash or a stop falls between batches.
        return {
          account,
          target: imapTarget(serverOf(d), { batchSize: 3, connections: 2 }),
          imap: async () => {
            const c = clientAs(d, account)
            await c.connect()
            return c
          },
        }
      },
    })
  })

suite('Maildir++ layout', '.', {})
suite('LAYOUT=fs', '/', { layout: 'fs' })
