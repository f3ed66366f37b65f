/**
 * A real SMTP server (smtp-server) on loopback that keeps every mail it is sent, parsed
 * (mailparser), for the tests of the notifications: who got it, its subject and its text.
 */
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'
import { freePort } from './dovecot'

export interface CaughtMail {
  to: string[]
  subject: string
  text: string
}

export interface MailCatcher {
  readonly port: number
  close(): Promise<void>
}

/** Starts the server; each mail it accepts is pushed onto `into` (recipients sorted). */
export const startMailCatcher = async (into: CaughtMail[]): Promise<MailCatcher> => {
  const port = await freePort()
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData: (stream, session, cb) => {
      simpleParser(stream)
        .then((m) => {
          into.push({ to: session.envelope.rcptTo.map((r) => r.address).sort(), subject: m.subject ?? '', text: m.text ?? '' })
          cb()
        })
        .catch(cb)
    },
  })
  await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve))
  return { port, close: () => new Promise<void>((resolve) => smtp.close(() => resolve())) }
}

/** The product's `smtp` config section that sends to `catcher`. */
export const smtpConfig = (catcher: MailCatcher) => ({
  host: '127.0.0.1',
  port: catcher.port,
  from: 'mailtime@example.com',
  admin: 'admin@example.com',
  initiator: 'ops@example.com',
})
