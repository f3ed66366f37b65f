/**
 * The config file is decoded strictly at every level: an unknown key, wherever it is, is an error
 * naming the file, the key's path and the keys known there, before any verb runs.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import * as t from 'io-ts'
import { loadConfigFile, resolveSettings, unknownKeys } from '../../src/config'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const write = (content: unknown): string => {
  const f = path.join(tmpDir(), 'mailtime.json')
  fs.writeFileSync(f, JSON.stringify(content))
  return f
}
const reasonOf = (content: unknown): string => {
  const r = loadConfigFile(write(content))
  if (E.isRight(r)) throw new Error(`accepted ${JSON.stringify(content)}`)
  return r.left.reason
}

describe('the config file', () => {
  it.each([
    ['the top level', { stor: 'sqlite:/tmp/x.db' }, 'unknown key "stor" (known: store, blobs, index, timezone, imap, dav, smtp, retention, provisioning, api, s3, feed)'],
    ['imap', { imap: { url: 'imap://h:143', usr: 'admin' } }, 'unknown key "imap.usr" (known: url, user, password, accounts, passwords, connections)'],
    ['dav', { dav: { url: 'http://h:5232', principle: '/{user}/' } }, 'unknown key "dav.principle" (known: url, user, password, principal, passwords)'],
    ['smtp', { smtp: { host: 'h', hots: 'x' } }, 'unknown key "smtp.hots" (known: host, port, secure, user, password, from, admin, initiator)'],
    ['provisioning', { provisioning: { passwdfile: '/etc/dovecot/users' } }, 'unknown key "provisioning.passwdfile" (known: passwdFile, command, checkCommand)'],
    ['retention', { retention: { days: 30 } }, 'unknown key "retention.days" (known: dataDays, accountDays)'],
    ['api', { api: { tokn: 'x' } }, 'unknown key "api.tokn" (known: token)'],
    ['s3', { s3: { secretKey: 'x' } }, 'unknown key "s3.secretKey" (known: endpoint, region, forcePathStyle, accessKeyId, secretAccessKey, sessionToken)'],
  ])('names an unknown key in %s with its path and the keys known there', (_level, content, reason) => {
    expect(reasonOf(content)).toBe(reason)
  })

  it('names every unknown key, not only the first', () => {
    expect(reasonOf({ imap: { usr: 'a' }, smtp: { hots: 'h' } })).toBe(
      'unknown key "imap.usr" (known: url, user, password, accounts, passwords, connections); unknown key "smtp.hots" (known: host, port, secure, user, password, from, admin, initiator)',
    )
  })

  it('accepts any user name under imap.passwords, and every known key', () => {
    const r = loadConfigFile(
      write({
        store: 'sqlite:/tmp/x.db',
        imap: { url: 'imap://h:143', user: 'admin', password: 'p', accounts: ['alice'], passwords: { alice: 'a', 'bob@example.com': 'b' } },
        smtp: { host: 'h', port: 25, secure: false },
        retention: { dataDays: 30, accountDays: 90 },
        provisioning: { passwdFile: '/etc/dovecot/users' },
        api: { token: 'x'.repeat(20) },
      }),
    )
    expect(E.isRight(r) && r.right.imap?.passwords).toEqual({ alice: 'a', 'bob@example.com': 'b' })
  })

  it('checks the keys of sections built as intersections, and of arrays of objects', () => {
    const section = t.exact(t.intersection([t.type({ path: t.string }), t.partial({ owner: t.string, hosts: t.array(t.exact(t.partial({ name: t.string }))) })]))
    const codec = t.exact(t.partial({ maildir: section }))
    expect(unknownKeys(codec, { maildir: { path: '/srv', ownr: 'vmail', hosts: [{ name: 'a' }, { nmae: 'b' }] } })).toEqual([
      'unknown key "maildir.ownr" (known: path, owner, hosts)',
      'unknown key "maildir.hosts.1.nmae" (known: name)',
    ])
  })

  it('still reports a value of the wrong type with its path', () => {
    expect(reasonOf({ smtp: { port: '25' } })).toContain('smtp.port: expected number, got "25"')
  })
})

describe('the settings, decoded once from flags, environment and config file', () => {
  it('folds the MAILTIME_* variables over the config file into one typed value, and keeps nothing else of the environment', () => {
    const file = write({ imap: { url: 'imap://file:143', user: 'fileadmin', password: 'p' }, smtp: { host: 'h', initiator: 'file@example.com' }, api: { token: 'x'.repeat(20) } })
    const r = resolveSettings(
      { config: file },
      { MAILTIME_IMAP_URL: 'imap://env:143', MAILTIME_IMAP_ACCOUNTS: 'alice,bob', MAILTIME_SMTP_PASSWORD: 's3cret', MAILTIME_RESTORE_BATCH_SIZE: '7', HOME: '/root', PATH: '/bin' },
      'UTC',
      () => 'osuser',
    )
    if (E.isLeft(r)) throw new Error(r.left.reason)
    expect(r.right.config.imap).toEqual({ url: 'imap://env:143', user: 'fileadmin', password: 'p', accounts: ['alice', 'bob'] })
    expect(r.right.config.smtp?.password).toBe('s3cret')
    expect(r.right).toMatchObject({ operator: 'file@example.com', apiTokenFromEnv: false, restore: { batchSize: 7, connections: 2 }, scan: { batchSize: 1000 }, test: {} })
    expect(JSON.stringify(r.right)).not.toContain('/root')
    expect(resolveSettings({}, { MAILTIME_INITIATOR: 'dpo@example.com' }, 'UTC', () => 'osuser')).toMatchObject(E.right({ operator: 'dpo@example.com' }))
    expect(resolveSettings({}, {}, 'UTC', () => 'osuser')).toMatchObject(E.right({ operator: 'osuser' }))
  })

  it('refuses a bad number in the environment, naming the variable, before any verb runs', () => {
    expect(resolveSettings({}, { MAILTIME_RESTORE_CONNECTIONS: '40' }, 'UTC')).toEqual(
      E.left({ _tag: 'ConfigError', file: 'environment', reason: 'MAILTIME_RESTORE_CONNECTIONS must be a whole number from 1 to 16' }),
    )
    expect(resolveSettings({}, { MAILTIME_SCAN_BATCH_SIZE: 'x' }, 'UTC')).toEqual(
      E.left({ _tag: 'ConfigError', file: 'environment', reason: 'MAILTIME_SCAN_BATCH_SIZE must be a positive whole number' }),
    )
  })
})
