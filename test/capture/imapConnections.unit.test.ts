/**
 * How many IMAP connections doSmartScan uses: the attribute (src/capture/imap/source.ts), then
 * MAILTIME_IMAP_CONNECTIONS, then `imap.connections`, then 4 (src/config.ts); anything but a whole
 * number from 1 to 100 is refused, naming where it came from.
 */
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as path from 'path'
import { DEFAULT_IMAP_CONNECTIONS, resolveSettings } from '../../src/config'
import { imapConnectionsOf, parseConnections } from '../../src/capture/imap/source'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(() => cleanupTmp())

/** The settings from this environment and a config file with `imap.connections` (when given). */
const settingsWith = (env: Record<string, string>, connections?: number) => {
  const file = path.join(tmpDir(), 'config.json')
  fs.writeFileSync(file, JSON.stringify(connections === undefined ? {} : { imap: { connections } }))
  return resolveSettings({ config: file }, env, 'UTC')
}
const connectionsOf = (env: Record<string, string>, connections?: number, attribute?: string): E.Either<string, number> => {
  const s = settingsWith(env, connections)
  if (E.isLeft(s)) return E.left(s.left.reason)
  return imapConnectionsOf(s.right, attribute)
}

describe('the number of IMAP connections', () => {
  it('takes the attribute, then the environment, then the config file, then 4', () => {
    expect(connectionsOf({ MAILTIME_IMAP_CONNECTIONS: '6' }, 8, '2')).toEqual(E.right(2))
    expect(connectionsOf({ MAILTIME_IMAP_CONNECTIONS: '6' }, 8)).toEqual(E.right(6))
    expect(connectionsOf({}, 8)).toEqual(E.right(8))
    expect(connectionsOf({})).toEqual(E.right(DEFAULT_IMAP_CONNECTIONS))
    expect(DEFAULT_IMAP_CONNECTIONS).toBe(4)
  })

  it('refuses what is not a whole number from 1 to 100, naming where it came from', () => {
    for (const bad of ['0', '-1', '2.5', 'four', '', '101', '1e2'])
      expect(parseConnections(bad, 'connections')).toEqual(E.left(`connections: ${JSON.stringify(bad)} is not a whole number of connections from 1 to 100`))
    expect(connectionsOf({ MAILTIME_IMAP_CONNECTIONS: 'many' })).toEqual(E.left('MAILTIME_IMAP_CONNECTIONS must be a whole number from 1 to 100'))
    expect(connectionsOf({}, 0)).toEqual(E.left('imap.connections must be a whole number from 1 to 100, not 0'))
    expect(connectionsOf({}, 2.5)).toEqual(E.left('imap.connections must be a whole number from 1 to 100, not 2.5'))
    expect(parseConnections(' 12 ', 'x')).toEqual(E.right(12))
  })
})
