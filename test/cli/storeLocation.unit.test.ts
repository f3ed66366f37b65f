/** Store URLs on the command line never carry passwords; EventStoreDB's comes from the environment. */
import { CliFailure } from '../../src/cli/failure'
import { noPasswordOnArgv, withEsdbPassword } from '../../src/cli/storeLocation'

describe('store locations on the command line', () => {
  it('refuses a PostgreSQL or EventStoreDB URL with a password (exit 2), without repeating it', () => {
    for (const url of ['postgres://mt:hunter2@db/x', 'postgresql://mt:hunter2@db/x', 'esdb://admin:hunter2@es:2113?tls=false', 'esdb+discover://admin:hunter2@es:2113']) {
      let caught: unknown
      try {
        noPasswordOnArgv(url)
      } catch (e) {
        caught = e
      }
      expect(caught).toBeInstanceOf(CliFailure)
      expect((caught as CliFailure).exitCode).toBe(2)
      expect((caught as CliFailure).message).not.toContain('hunter2')
    }
  })

  it('accepts URLs without a password, and SQLite files', () => {
    for (const l of ['postgres://mt@db/x', 'esdb://es:2113?tls=false', 'esdb://admin@es:2113', 'sqlite:/tmp/a:b@c.db', './mailtime.db']) expect(noPasswordOnArgv(l)).toBe(l)
  })

  it('puts MAILTIME_ESDB_PASSWORD into an EventStoreDB URL that names a user, and nowhere else', () => {
    expect(withEsdbPassword('esdb://admin@es:2113?tls=false', 'p@ss:w/rd')).toBe('esdb://admin:p%40ss%3Aw%2Frd@es:2113?tls=false')
    expect(withEsdbPassword('esdb://es:2113', 'x')).toBe('esdb://es:2113')
    expect(withEsdbPassword('postgres://mt@db/x', 'x')).toBe('postgres://mt@db/x')
    expect(withEsdbPassword('esdb://admin@es:2113', undefined)).toBe('esdb://admin@es:2113')
  })
})
