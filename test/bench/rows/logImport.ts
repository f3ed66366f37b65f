/**
 * mailbox.log import speed: a generated log (1 GB at full size) with a realistic mix, about one
 * line in twenty an item change, imported into a fresh store through the same path as the CLI,
 * against reading the same file with `cat`.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { instant } from '../../../domain/instant'
import { openBackend } from '../../../src/wiring/backend'
import { importMailboxLogs } from '../../../src/capture/mailboxLog/importer'
import { rng } from '../../../src/demo/random'
import { fmt, now, peakRssMB } from '../measure'
import type { RowResult, RowSpec } from '../row'

const pad = (n: number, w = 2) => String(n).padStart(w, '0')

const generate = (file: string, bytes: number): number => {
  const r = rng(99)
  const fd = fs.openSync(file, 'w')
  let written = 0
  let t = Date.parse('2026-03-01T00:00:00Z')
  const next = new Map<number, number>()
  const chunk: string[] = []
  while (written < bytes) {
    t += r.int(1, 40)
    const d = new Date(t)
    const ts = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())},${pad(d.getUTCMilliseconds(), 3)}`
    const acct = r.int(1, 100)
    const ctx = `[name=user${acct}@example.com;mid=${acct};ip=10.0.${acct % 250}.7;ua=zclient/10.0.0_GA;]`
    const x = r.next()
    let line: string
    if (x < 0.03) {
      const id = (next.get(acct) ?? 256) + 1
      next.set(acct, id)
      line = `${ts} INFO  [LmtpServer-${r.int(1, 20)}] ${ctx} mailop - Adding Message: id=${id}, Message-ID=<${acct}.${id}@example.org>, parentId=-1, folderId=2, folderName=Inbox acct=user${acct}@example.com.`
    } else if (x < 0.045) {
      line = `${ts} INFO  [qtp1-${r.int(1, 200)}:https://mail.example.com:443/service/soap/MsgActionRequest] ${ctx} mailop - moving Message (id=${r.int(257, next.get(acct) ?? 257)}) to Folder Trash (id=3)`
    } else if (x < 0.05) {
      line = `${ts} INFO  [qtp1-${r.int(1, 200)}:https://mail.example.com:443/service/soap/MsgActionRequest] ${ctx} mailop - Deleting Message (id=${r.int(257, next.get(acct) ?? 257)}).`
    } else if (x < 0.6) {
      line = `${ts} INFO  [qtp1-${r.int(1, 200)}:https://mail.example.com:443/service/soap/SearchRequest] ${ctx} soap - SearchRequest elapsed=${r.int(1, 900)}`
    } else line = `${ts} INFO  [ImapServer-${r.int(1, 200)}] ${ctx} imap - FETCH elapsed=${r.int(1, 90)} 1:* (FLAGS UID)`
    chunk.push(line)
    written += line.length + 1
    if (chunk.length >= 10_000) {
      fs.writeSync(fd, `${chunk.join('\n')}\n`)
      chunk.length = 0
    }
  }
  if (chunk.length > 0) fs.writeSync(fd, `${chunk.join('\n')}\n`)
  fs.closeSync(fd)
  return fs.statSync(file).size
}

export const logImportRow: RowSpec = {
  name: 'logimport',
  title: 'mailbox.log import against cat',
  hasGoal: false,
  run: async ({ data, scale }): Promise<RowResult> => {
    const file = path.join(data, 'mailbox.log')
    const target = Math.max(1024 ** 2, Math.round(1024 ** 3 * scale))
    // A log generated for this size before is used again (the generator is seeded: the same bytes).
    const old = fs.existsSync(file) ? fs.statSync(file).size : 0
    const size = old >= target && old < target + 4 * 1024 ** 2 ? old : generate(file, target)
    const t0 = now()
    spawnSync('sh', ['-c', `cat "${file}" > /dev/null`])
    const catMs = now() - t0
    const storeFile = path.join(data, 'logimport.db')
    for (const x of ['', '-wal', '-shm']) fs.rmSync(storeFile + x, { force: true })
    const b = openBackend(`sqlite:${storeFile}`, path.join(data, 'logimport-blobs'))
    if (E.isLeft(b)) throw new Error(JSON.stringify(b.left))
    const t1 = now()
    const r = await importMailboxLogs(b.right.store, b.right.index, { files: [file], zone: 'UTC', dryRun: false, now: instant(Date.now()) })
    const ms = now() - t1
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
    await b.right.close()
    const mb = size / 1e6
    return {
      rows: [
        {
          what: `import a ${fmt(mb)} MB mailbox.log (${fmt(r.right.linesRead)} lines, ${fmt(r.right.events)} events) into a fresh store`,
          ours: `${fmt(mb / (ms / 1000))} MB/s, ${fmt(r.right.events / (ms / 1000))} events/s`,
          baseline: `cat: ${fmt(mb / (catMs / 1000))} MB/s`,
          ratio: catMs / ms,
          goal: '',
          pass: undefined,
        },
      ],
      peakRssMB: peakRssMB(),
    }
  },
}
