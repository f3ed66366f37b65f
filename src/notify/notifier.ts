/**
 * Sends notification mails over SMTP with nodemailer. A notification that cannot be sent never
 * fails the operation: the error comes back as a value and is recorded in the operation.
 */
import * as E from 'fp-ts/Either'
import type * as Nodemailer from 'nodemailer'
import type { Mail } from './restoreMail'

export interface SmtpSettings {
  readonly host: string
  readonly port: number
  readonly secure: boolean
  readonly user?: string
  readonly password?: string
  readonly from: string
}

export interface Notifier {
  readonly description: string
  send(to: readonly string[], mail: Mail): Promise<E.Either<string, void>>
}

export const smtpNotifier = (s: SmtpSettings): Notifier => {
  // Required when first used, not at start-up: loading every driver and server made each CLI
  // run half a second slower (docs/performance.md).
  const nodemailer = require('nodemailer') as typeof Nodemailer
  const transport = nodemailer.createTransport({
    host: s.host,
    port: s.port,
    secure: s.secure,
    ...(s.secure ? {} : { ignoreTLS: true }),
    ...(s.user !== undefined && s.password !== undefined && { auth: { user: s.user, pass: s.password } }),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  })
  return {
    description: `smtp://${s.host}:${s.port}`,
    send: async (to, mail) => {
      try {
        await transport.sendMail({ from: s.from, to: [...to], subject: mail.subject, text: mail.text })
        return E.right(undefined)
      } catch (e) {
        const err = e as { code?: string; message?: string }
        return E.left(`SMTP server ${s.host}:${s.port}: ${err.code ?? ''} ${err.message ?? String(e)}`.replace(/\s+/g, ' ').trim())
      }
    },
  }
}
