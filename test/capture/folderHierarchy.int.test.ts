/**
 * Folders under a parent that is not a mailbox (`Lists` above `Lists.python-dev`, created directly
 * by doveadm: the server lists the parent `\Noselect`/`\NonExistent`). The scan keeps every level the
 * server shows, records such parents as folders that are not mailboxes, names folders in its report
 * as every other verb does (`/Lists/python-dev`, deleted ones included), and restores (undelete,
 * new account, Maildir) recreate the tree. Against a real Dovecot in both layouts: Maildir++ ('.'
 * separator, the default) and LAYOUT=fs ('/').
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { mailboxOf } from '../reliability/harness'
import { imapEnv, newStore } from './scanSupport'

jest.setTimeout(240_000)

const body = (subject: string) => Buffer.from(`Subject: ${subject}\r\nMessage-ID: <${subject}@tree>\r\n\r\nHello ${subject}\r\n`)

interface FolderReport {
  path: string
  serverPath: string
  status: string
  messages: number
  deleted: number
}
interface Report {
  folders: FolderReport[]
  foldersDeleted: number
}
interface Item {
  itemId: number
  itemType: string
  subject: string
  folderPath: string
  flags: string[]
}

describe.each(['maildir++', 'fs'] as const)('folders under parents that are not mailboxes (layout %s)', (layout) => {
  describeWithService(dovecotAvailable(), 'Dovecot')('', () => {
    let d: Dovecot
    let sep: string
    const s = newStore()
    const env = () => imapEnv(d, { MAILTIME_CONFIG: config })
    let config = ''
    const json = (...args: string[]) => {
      const r = mailtime([...s.args, '--json', ...args], env())
      if (r.code !== 0) throw new Error(`${args[0]} exited ${r.code}: ${r.stderr}`)
      return JSON.parse(r.stdout) as unknown
    }
    const state = (account = 'hal') => json('getAccountState', account) as { folders: { path: string; itemCount: number; folderId: number }[]; items: Item[] }

    beforeAll(async () => {
      d = await startDovecot({ hal: 'halpw' }, { layout })
      sep = d.separator
      const dir = tmpDir()
      fs.chmodSync(dir, 0o755)
      config = path.join(dir, 'config.json')
      fs.writeFileSync(config, JSON.stringify({ provisioning: { passwdFile: d.usersFile } }))
      // Created directly, as an admin does: the parents exist only as levels of the hierarchy.
      d.doveadm('mailbox', 'create', '-u', 'hal', `Lists${sep}python-dev`, `Archive${sep}2019`)
      const c = clientAs(d, 'hal')
      await c.connect()
      for (const [box, subjects] of [
        ['INBOX', ['hello']],
        [`Lists${sep}python-dev`, ['pep-1', 'pep-2', 'pep-3']],
        [`Archive${sep}2019`, ['tax', 'trip']],
      ] as const)
        for (const subject of subjects) await c.append(box, body(subject), ['\\Seen'], new Date(Date.UTC(2026, 1, 1)))
      await c.logout()
    })
    afterAll(async () => {
      if (d !== undefined) await removeDovecot(d)
      cleanupTmp()
    })

    it('records every level the server shows, parents that are not mailboxes included', () => {
      const report = json('doAccountScan', 'hal') as Report
      const byPath = Object.fromEntries(report.folders.map((f) => [f.path, f]))
      expect(Object.keys(byPath).sort()).toEqual(['/Archive', '/Archive/2019', '/Inbox', '/Lists', '/Lists/python-dev'])
      expect(byPath['/Lists']).toMatchObject({ serverPath: 'Lists', status: 'not a mailbox' })
      expect(byPath['/Lists/python-dev']).toMatchObject({ serverPath: `Lists${sep}python-dev`, status: 'read', messages: 3 })
      expect(byPath['/Inbox']).toMatchObject({ serverPath: 'INBOX' })

      const st = state()
      const count = Object.fromEntries(st.folders.map((f) => [f.path, f.itemCount]))
      expect(count).toMatchObject({ '/Inbox': 1, '/Lists': 0, '/Lists/python-dev': 3, '/Archive': 0, '/Archive/2019': 2 })
      expect(st.folders.map((f) => f.path)).not.toContain('/python-dev')
      expect(st.items.filter((i) => i.itemType === 'message' && i.folderPath === '/Lists/python-dev')).toHaveLength(3)
      // A parent that is not a mailbox is a folder item marked so.
      const lists = st.folders.find((f) => f.path === '/Lists')
      const history = json('getItem', 'hal', String(lists?.folderId), 'date', 'all') as { versions: { state: { flags: string[] } }[] }
      expect(history.versions.map((v) => v.state.flags)).toEqual([['\\Noselect']])
    })

    it('names folders in the scan report as every other verb does, in text too', () => {
      const r = mailtime([...s.args, 'doAccountScan', 'hal'], env())
      expect(r.code).toBe(0)
      const rows = r.stdout
        .split('\n')
        .filter((l) => l.startsWith('/'))
        .map((l) => l.split(/\s+/)[0])
      expect(rows).toEqual(['/Archive', '/Archive/2019', '/Inbox', '/Lists', '/Lists/python-dev'])
      expect(r.stdout).not.toMatch(/^(INBOX|Lists|Archive)/m)
    })

    it('lists deleted folders in the report, with their deleted messages', async () => {
      const c = clientAs(d, 'hal')
      await c.connect()
      await c.mailboxDelete(`Lists${sep}python-dev`)
      await c.logout()
      const report = json('doAccountScan', 'hal') as Report
      const deleted = report.folders.filter((f) => f.status === 'deleted').map((f) => [f.path, f.serverPath, f.deleted])
      // Maildir++ lists a parent only while it has children; LAYOUT=fs keeps its empty directory.
      expect(deleted).toEqual([...(layout === 'fs' ? [] : [['/Lists', 'Lists', 0]]), ['/Lists/python-dev', `Lists${sep}python-dev`, 3]])
      expect(report.foldersDeleted).toBe(deleted.length)
      const text = mailtime([...s.args, 'doAccountScan', 'hal'], env())
      expect(text.stdout).not.toContain('/Lists/python-dev')
    })

    it('an undelete recreates the folder under its parent', async () => {
      const r = mailtime([...s.args, '--json', 'doUndelete', 'hal', 'first', 'last'], env())
      // Exit 7 when the deleted folder items are listed as unrestored (issue 17, item 7, fixed elsewhere).
      expect([0, 7]).toContain(r.code)
      const boxes = await mailboxOf(d, 'hal')
      expect(boxes.filter((b) => b.startsWith(`Lists${sep}python-dev `))).toHaveLength(3)
      expect(boxes.filter((b) => b.startsWith('python-dev'))).toEqual([])
    })

    it('a restore on a new account, over IMAP and into a Maildir that Dovecot serves, recreates the tree', async () => {
      expect(mailtime([...s.args, 'doAccountScan', 'hal'], env()).code).toBe(0)
      const imap = mailtime([...s.args, '--json', 'doRestoreOnNewAccount', 'hal', 'ivy', 'last'], env())
      expect(imap.code).toBe(0)
      const ivy = await mailboxOf(d, 'ivy')
      expect(ivy.filter((b) => b.startsWith(`Lists${sep}python-dev `))).toHaveLength(3)
      expect(ivy.filter((b) => b.startsWith(`Archive${sep}2019 `))).toHaveLength(2)

      const parent = tmpDir()
      fs.chmodSync(parent, 0o755)
      const maildir = path.join(parent, 'jay')
      const md = mailtime([...s.args, '--json', 'doRestoreOnNewAccount', 'hal', 'jay', 'last', 'target', `maildir:${maildir}`], env())
      expect(md.code).toBe(0)
      // The Maildir is Maildir++ whatever the source's layout: '.' separates the levels.
      d.addUserWithMaildir('jay', 'jaypw', maildir)
      const jay = await mailboxOf(d, 'jay')
      expect(jay.filter((b) => b.startsWith('Lists.python-dev '))).toHaveLength(3)
      expect(jay.filter((b) => b.startsWith('Archive.2019 '))).toHaveLength(2)
    })

    it('records a parent becoming a mailbox and ceasing to be one', async () => {
      const c = clientAs(d, 'hal')
      await c.connect()
      await c.mailboxCreate('Archive')
      await c.append('Archive', body('loose'), [], new Date(Date.UTC(2026, 1, 2)))
      await c.logout()
      let report = json('doAccountScan', 'hal') as Report
      expect(report.folders.find((f) => f.path === '/Archive')).toMatchObject({ status: 'read', messages: 1 })
      const c2 = clientAs(d, 'hal')
      await c2.connect()
      // Deleting a mailbox that has children leaves it a level of the hierarchy: LAYOUT=fs lists it
      // \Noselect; Maildir++ lists it with no attribute, but answers that it does not exist.
      await c2.mailboxDelete('Archive')
      const listed = (await c2.list()).find((l) => l.path === 'Archive')
      await c2.logout()
      expect([...(listed?.flags ?? [])].includes('\\Noselect')).toBe(layout === 'fs')
      report = json('doAccountScan', 'hal') as Report
      expect(report.folders.find((f) => f.path === '/Archive')).toMatchObject({ status: 'not a mailbox', deleted: 1 })
      const archive = state().folders.find((f) => f.path === '/Archive')
      const history = json('getItem', 'hal', String(archive?.folderId), 'date', 'all') as { versions: { state: { flags: string[] } }[] }
      expect(history.versions.map((v) => v.state.flags)).toEqual([['\\Noselect'], [], ['\\Noselect']])
      expect(state().items.find((i) => i.subject === 'loose')).toBeUndefined()
    })
  })
})
