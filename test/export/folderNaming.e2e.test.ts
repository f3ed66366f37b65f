/**
 * The export names folders by the same rule as every verb, also for items the live folders do not
 * name: written through the store, exported and verified through the CLI.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { streamOfAccount } from '../../domain/ids'
import { openBackend } from '../../src/wiring/backend'
import { mailtime } from '../support/cli'
import { ev } from '../support/build'
import { ok } from '../support/run'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const ACC = 'mira@example.com'
const T0 = Date.parse('2026-03-01T10:00:00Z')
const at = (minutes: number) => T0 + minutes * 60_000

describe('folder names in an export', () => {
  const dir = tmpDir()
  const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (...args: string[]) => mailtime([...store, ...args])
  const stateOf = (dest: string) => JSON.parse(fs.readFileSync(path.join(dest, 'states', 'to.json'), 'utf8'))

  beforeAll(async () => {
    const b = openBackend(`sqlite:${path.join(dir, 'm.db')}`, path.join(dir, 'blobs'))
    if (E.isLeft(b)) throw new Error('open')
    const body = (subject: string) => {
      const r = b.right.blobs.put(Buffer.from(`From: a@example.org\r\nSubject: ${subject}\r\n\r\nHi\r\n`))
      if (E.isLeft(r)) throw new Error('put')
      return { digest: r.right.digest, size: 40 }
    }
    const message = (id: number, folder: number, minutes: number, subject: string) =>
      ev('ItemCreated', ACC, at(minutes), {
        itemId: id as never,
        itemType: 'message',
        folderId: folder as never,
        flags: [],
        tags: [],
        content: body(subject),
        headers: { subject },
      })
    // A log that files messages into a folder after its deletion, and into one it never saw created.
    await ok(
      b.right.store.appendToStream(streamOfAccount(ACC as never), [
        ev('AccountCreated', ACC, at(0), { name: ACC }),
        ev('ItemCreated', ACC, at(1), { itemId: 256 as never, itemType: 'folder', folderId: 1 as never, name: 'Lists', flags: [], tags: [] }),
        message(300, 2, 2, 'Hello'),
        ev('ItemDeleted', ACC, at(3), { itemId: 256 as never }),
        message(301, 256, 4, 'Late digest'),
        message(302, 999, 5, 'Stray'),
      ]),
    )
    await b.right.close()
  })

  it('names an item in a folder deleted before it as that folder, in the state and the MBOX, and verifies', () => {
    const dest = path.join(dir, 'export')
    expect(run('exportHistory', ACC, 'to', new Date(at(10)).toISOString(), 'dest', dest).code).toBe(0)
    expect(stateOf(dest).items.map((i: { subject: string; folder: string }) => [i.subject, i.folder])).toEqual([
      ['Hello', '/Inbox'],
      ['Late digest', '/Lists'],
      ['Stray', '/unknown_999'],
    ])
    const state = JSON.parse(run('--json', 'getAccountState', ACC, 'date', new Date(at(10)).toISOString()).stdout)
    expect(state.items.map((i: { folderPath: string }) => i.folderPath)).toEqual(['/Inbox', '/Lists', '/unknown_999'])
    expect(fs.readdirSync(path.join(dest, 'mbox')).sort()).toEqual(['Inbox.mbox', 'Lists.mbox', 'unknown_999.mbox'])
    for (const [file, subject] of [
      ['Inbox', 'Hello'],
      ['Lists', 'Late digest'],
      ['unknown_999', 'Stray'],
    ]) {
      const mbox = fs.readFileSync(path.join(dest, 'mbox', `${file}.mbox`), 'utf8')
      expect(mbox.match(/^Subject: .*$/gm)).toEqual([`Subject: ${subject}`])
    }
    expect(run('verifyExport', dest).code).toBe(0)
  })

  it('names an item in a folder it never learned unknown_<id>, each message in its MBOX once, and verifies', () => {
    const dest = path.join(dir, 'export-early')
    expect(run('exportHistory', ACC, 'to', new Date(at(5)).toISOString(), 'dest', dest).code).toBe(0)
    const mbox = fs.readFileSync(path.join(dest, 'mbox', 'unknown_999.mbox'), 'utf8')
    expect(mbox.match(/^Subject: .*$/gm)).toEqual(['Subject: Stray'])
    expect(run('verifyExport', dest).code).toBe(0)
  })
})
