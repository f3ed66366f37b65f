/**
 * The MULTIAPPEND session against a real Dovecot: many messages in one command, flags, keywords and
 * INTERNALDATE kept, APPENDUID read, large literals, and a refused batch reported as such.
 */
import { ImapFlow } from 'imapflow'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { ImapCommandError, imapDateTime, openAppendSession, parseUidSet } from '../../src/imap/multiAppend'

const message = (n: number, size: number): Buffer => Buffer.from(`From: a@example.com\r\nSubject: m${n}\r\nMessage-ID: <m${n}@example.com>\r\n\r\n${'x'.repeat(size)}\r\n`)

test('uid sets and IMAP dates', () => {
  expect(parseUidSet('5:7,9')).toEqual([5, 6, 7, 9])
  expect(parseUidSet('12')).toEqual([12])
  expect(imapDateTime(Date.UTC(2026, 2, 1, 9, 5, 7))).toBe('"01-Mar-2026 09:05:07 +0000"')
})

describeWithService(dovecotAvailable(), 'Dovecot')('MULTIAPPEND into Dovecot', () => {
  let d: Dovecot
  let c: ImapFlow
  beforeAll(async () => {
    d = await startDovecot()
    c = clientAs(d, 'alice')
    await c.connect()
  })
  afterAll(async () => {
    await c.logout()
    await removeDovecot(d)
  })

  it('appends a batch in one command, with flags, keywords, dates and exact bytes, and returns the UIDs', async () => {
    const s = await openAppendSession({ host: '127.0.0.1', port: d.port, secure: false, user: d.admin.user, pass: d.admin.password, authzid: 'alice' })
    expect(s.literalPlus).toBe(true)
    const msgs = Array.from({ length: 30 }, (_, i) => ({
      bytes: message(i, i * 700),
      flags: i % 2 === 0 ? ['\\Seen', 'kw_even'] : ['\\Flagged'],
      internalDate: Date.UTC(2026, 0, 1 + i, 12),
    }))
    const r1 = await s.append('INBOX', msgs.slice(0, 20))
    const r2 = await s.append('INBOX', msgs.slice(20))
    await s.close()
    expect(r1.uids).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect(r2.uids).toEqual(Array.from({ length: 10 }, (_, i) => i + 21))
    expect(r1.uidValidity).toBe(r2.uidValidity)
    const lock = await c.getMailboxLock('INBOX')
    try {
      const got = []
      for await (const m of c.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true })) got.push(m)
      expect(got).toHaveLength(30)
      got.forEach((m, i) => {
        const want = msgs[i]!
        expect(Buffer.compare(m.source!, want.bytes)).toBe(0)
        expect([...m.flags!].filter((f) => f !== '\\Recent').sort()).toEqual([...want.flags].sort())
        expect(new Date(m.internalDate!).getTime()).toBe(want.internalDate)
      })
    } finally {
      lock.release()
    }
  })

  it('reports a refused command (a mailbox that does not exist) and stays usable', async () => {
    const s = await openAppendSession({ host: '127.0.0.1', port: d.port, secure: false, user: d.admin.user, pass: d.admin.password, authzid: 'bob' })
    await expect(s.append('NoSuchFolder', [{ bytes: message(1, 10), flags: [] }])).rejects.toBeInstanceOf(ImapCommandError)
    const r = await s.append('INBOX', [{ bytes: message(2, 10), flags: [] }])
    expect(r.uids).toEqual([1])
    await s.close()
  })

  it('fails clearly on a wrong password and on a closed port', async () => {
    await expect(openAppendSession({ host: '127.0.0.1', port: d.port, secure: false, user: d.admin.user, pass: 'wrong', authzid: 'bob' })).rejects.toThrow(/AUTHENTICATE/)
    await expect(openAppendSession({ host: '127.0.0.1', port: 1, secure: false, user: 'x', pass: 'y' })).rejects.toThrow(/ECONNREFUSED|closed/)
  })
})
