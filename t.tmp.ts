import { startDovecot, removeDovecot } from './test/support/dovecot'
import { ImapFlow } from 'imapflow'
;(async () => {
  const d = await startDovecot()
  const c = new ImapFlow({ host: '127.0.0.1', port: d.port, secure: false, logger: false, auth: { user: 'admin', pass: 'adminpw', authzid: 'alice', loginMethod: 'AUTH=PLAIN' } })
  await c.connect()
  console.log([...c.capabilities.keys()].join(' '))
  await c.append('INBOX', Buffer.from('Subject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n'), ['\\Seen'], new Date('2025-01-01T10:00:00Z'))
  await c.mailboxCreate('Projects')
  console.log(await c.list({ statusQuery: { uidValidity: true, highestModseq: true, uidNext: true, messages: true } }))
  await c.logout()
  console.log(require('fs').readFileSync(d.logPath, 'utf8').split('\n').filter((l: string) => l.includes('imap(')).join('\n'))
  await removeDovecot(d)
})()
