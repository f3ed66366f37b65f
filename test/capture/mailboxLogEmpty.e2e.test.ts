/**
 * `Emptying N items from /Trash, removeSubfolders=…` in a mailbox.log: with removeSubfolders=true
 * the subfolders go too, with everything in them; a count that differs from what the backup held
 * there is said, not passed over.
 */
import * as fs from 'fs'
import * as path from 'path'
import { mailtime } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

const ctx = '[name=alice@example.com;mid=7;ip=10.0.0.9;]'
const adding = (id: number, folder: number, t: string) =>
  `2026-03-02 ${t},000 INFO  [LmtpServer-1] ${ctx} mailop - Adding Message: id=${id}, Message-ID=<m${id}@x>, parentId=-1, folderId=${folder}, folderName=x acct=alice@example.com.`
const history = (removeSubfolders: boolean, n: number) => [
  `2026-03-02 09:00:00,000 DEBUG [qtp1-2:https://mail/service/soap/CreateFolderRequest] ${ctx} mailop - adding folder Old: id=260, parentId=3.`,
  `2026-03-02 09:00:01,000 DEBUG [qtp1-2:https://mail/service/soap/CreateFolderRequest] ${ctx} mailop - adding folder Older: id=261, parentId=260.`,
  adding(300, 3, '09:01:00'),
  adding(301, 3, '09:01:01'),
  adding(302, 260, '09:01:02'),
  adding(303, 261, '09:01:03'),
  adding(304, 2, '09:01:04'),
  `2026-03-02 10:00:00,000 INFO  [qtp1-3:https://mail/service/soap/FolderActionRequest] ${ctx} mailbox - Emptying ${n} items from /Trash, removeSubfolders=${removeSubfolders}.`,
]

describe('importLog of an emptied Trash', () => {
  const importInto = (lines: string[], dry = false) => {
    const dir = tmpDir()
    const file = path.join(dir, 'mailbox.log')
    fs.writeFileSync(file, `${lines.join('\n')}\n`)
    const store = ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
    const r = mailtime([...store, '--json', 'importLog', file, ...(dry ? ['dry_run', 'true'] : [])])
    expect([r.code, r.stderr]).toEqual([0, ''])
    // A dry run records nothing (not even the account): there is no state to read.
    const state = dry
      ? { items: [], folders: [] }
      : (JSON.parse(mailtime([...store, '--json', 'getAccountState', 'alice@example.com']).stdout) as { items: { itemId: number }[]; folders: { path: string }[] })
    return { out: r.stdout, state }
  }

  it('with removeSubfolders=true deletes the subfolders and everything in them, and says nothing when the count is what the backup held', () => {
    const { out, state } = importInto(history(true, 6))
    const s = JSON.parse(out) as { byType: Record<string, number>; notes: unknown[] }
    // 300, 301 in Trash; 302 in Old; 303 in Old/Older; the folders Old and Older.
    expect(s.byType.ItemDeleted).toBe(6)
    expect(s.notes).toEqual([])
    expect(state.items.map((i) => i.itemId)).toEqual([304])
    expect(state.folders.map((f) => f.path).filter((p) => p.startsWith('/Trash/'))).toEqual([])
    // A dry run shows the same deletions.
    const dry = importInto(history(true, 6), true)
      .out.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type?: string; itemId?: number; summary?: boolean })
    expect(
      dry
        .filter((e) => e.type === 'ItemDeleted')
        .map((e) => e.itemId)
        .sort(),
    ).toEqual([260, 261, 300, 301, 302, 303])
  })

  it('with removeSubfolders=false deletes only what the folder itself held, and notes a count that differs from the log', () => {
    const { out, state } = importInto(history(false, 5))
    const s = JSON.parse(out) as { byType: Record<string, number>; notes: { file: string; line: number; note: string }[] }
    expect(s.byType.ItemDeleted).toBe(2)
    expect(state.items.map((i) => i.itemId)).toEqual([302, 303, 304])
    expect(state.folders.map((f) => f.path)).toEqual(expect.arrayContaining(['/Trash/Old', '/Trash/Old/Older']))
    expect(s.notes).toEqual([{ file: 'mailbox.log', line: 8, note: 'the log says 5 items were emptied from /Trash; the backup held 2 there at that instant' }])
  })
})
