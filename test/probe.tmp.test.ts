import { startDovecot, removeDovecot } from './support/dovecot'
import { ImapFlow } from 'imapflow'
import * as fs from 'fs'
it('probe', async () => {
  const d = await startDovecot()
  const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user: 'admin', pass: 'adminpw', authzid: 'alice', loginMethod: 'AUTH=PLAIN' } })
  await c.connect()
  console.log([...c.capabilities.keys()].join(' '))
  await c.append('INBOX', Buffer.from('Subject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n'), ['\\Seen'], new Date('2025-01-01T10:00:00Z'))
  await c.mailboxCreate('Projects')
  await c.mailboxCreate(['Projects', 'Alpha'])
  console.log(JSON.stringify(await c.list({ statusQuery: { uidValidity: true, highestModseq: true, uidNext: true, messages: true } }), (k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Set ? [...v] : v)))
  const lock = await c.getMailboxLock('INBOX')
  for await (const m of c.fetch('1:*', { uid: true, flags: true, internalDate: true, envelope: true, source: true, size: true })) console.log(m.uid, m.modseq, [...(m.flags ?? [])], m.internalDate, m.size, m.emailId)
  await c.messageMove('1', 'Projects', { uid: true })
  lock.release()
  await c.logout()
  console.log(fs.readFileSync(d.logPath, 'utf8').split('\n').filter((l: string) => l.includes('imap(')).join('\n'))
  await removeDovecot(d)
})
