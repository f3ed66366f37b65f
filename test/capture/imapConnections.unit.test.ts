/**
 * How many IMAP connections doSmartScan uses (src/capture/imap/source.ts): the attribute, then
 * MAILTIME_IMAP_CONNECTIONS, then `imap.connections`, then 4; anything but a whole number from 1 to
 * 100 is refused, naming where it came from.
 */
import * as E from 'fp-ts/Either'
import type { Settings } from '../../src/config'
import { DEFAULT_IMAP_CONNECTIONS, imapConnectionsOf, parseConnections } from '../../src/capture/imap/source'

const settings = (env: Record<string, string>, connections?: number): Settings => ({ env, config: { imap: { ...(connections !== undefined && { connections }) } } }) as unknown as Settings

describe('the number of IMAP connections', () => {
  it('takes the attribute, then the environment, then the config file, then 4', () => {
    expect(imapConnectionsOf(settings({ MAILTIME_IMAP_CONNECTIONS: '6' }, 8), '2')).toEqual(E.right(2))
    expect(imapConnectionsOf(settings({ MAILTIME_IMAP_CONNECTIONS: '6' }, 8))).toEqual(E.right(6))
    expect(imapConnectionsOf(settings({}, 8))).toEqual(E.right(8))
    expect(imapConnectionsOf(settings({}))).toEqual(E.right(DEFAULT_IMAP_CONNECTIONS))
    expect(DEFAULT_IMAP_CONNECTIONS).toBe(4)
  })

  it('refuses what is not a whole number from 1 to 100, naming where it came from', () => {
    for (const bad of ['0', '-1', '2.5', 'four', '', '101', '1e2']) expect(parseConnections(bad, 'connections')).toEqual(E.left(`connections: ${JSON.stringify(bad)} is not a whole number of connections from 1 to 100`))
    expect(imapConnectionsOf(settings({ MAILTIME_IMAP_CONNECTIONS: 'many' }))).toEqual(E.left('MAILTIME_IMAP_CONNECTIONS: "many" is not a whole number of connections from 1 to 100'))
    expect(imapConnectionsOf(settings({}, 0))).toEqual(E.left('imap.connections in the config file: 0 is not a whole number of connections from 1 to 100'))
    expect(parseConnections(' 12 ', 'x')).toEqual(E.right(12))
    expect(parseConnections(100, 'x')).toEqual(E.right(100))
  })
})
