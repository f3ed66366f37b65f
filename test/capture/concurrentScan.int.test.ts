/**
 * Two scans of one account at once, against a real Dovecot: the one that records second finds the
 * account changed under it and stops with exit 5, recording nothing; the store ends with exactly
 * the events of one clean scan. Scan reports tell the bytes read from the server apart from the
 * bytes new to the blob store.
 */
import { mailtime, mailtimeAsync } from '../support/cli'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp } from '../support/tmp'
import { blobCount, eventCount, eventsOf, imapEnv, newStore, until } from './scanSupport'

jest.setTimeout(240_000)

const BOXES = ['INBOX', 'Work', 'Lists', 'Trash']
const body = (i: number) => Buffer.from(`Subject: g${i}\r\nMessage-ID: <g${i}@concurrent>\r\n\r\n${'y'.repeat(200 + 7 * i)}\r\n`)

interface Report {
  eventsAppended: number
  messagesRead: number
  bytesRead: number
  bytesStored: number
}

describeWithService(dovecotAvailable(), 'Dovecot')('two scans of one account at once', () => {
  let d: Dovecot
  const size = (i: number) => body(i).length
  beforeAll(async () => {
    d = await startDovecot({ gina: 'ginapw', hugo: 'hugopw' })
    for (const user of ['gina', 'hugo']) {
      const c = clientAs(d, user)
      await c.connect()
      for (const box of BOXES.slice(1)) await c.mailboxCreate(box)
      for (let i = 0; i < 80; i++) await c.append(BOXES[i % 4] as string, body(i), [], new Date(Date.UTC(2026, 1, 1, 0, i)))
      await c.logout()
    }
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('the scan that records second stops with exit 5 and records nothing; the store holds one clean scan', async () => {
    const clean = newStore()
    expect(mailtime([...clean.args, 'doAccountScan', 'gina'], imapEnv(d)).code).toBe(0)

    const s = newStore()
    // The slow scan has read the account's head and its first folders (INBOX is read first) when
    // the fast one starts, runs and records everything.
    const slow = mailtimeAsync([...s.args, '--json', 'doAccountScan', 'gina'], imapEnv(d, { MAILTIME_FAULT: 'pause-after-folder:3000' }))
    await until('the slow scan to read INBOX', () => blobCount(s) >= 20)
    const fast = mailtime([...s.args, '--json', 'doAccountScan', 'gina'], imapEnv(d))
    const lost = await slow.done
    expect(fast.code).toBe(0)
    const report = JSON.parse(fast.stdout) as Report
    expect(report.eventsAppended).toBe(eventCount(clean, 'gina'))
    // It read every message from the server, and stored only the bodies the slow scan had not.
    const all = Array.from({ length: 80 }, (_, i) => size(i)).reduce((a, b) => a + b, 0)
    expect(report.messagesRead).toBe(80)
    expect(report.bytesRead).toBe(all)
    expect(report.bytesStored).toBeLessThan(all)

    expect(lost.code).toBe(5)
    expect(lost.stderr).toMatch(/another scan of gina/)
    // With --json the failure is a JSON document on stdout too (docs/cli.md).
    expect(JSON.parse(lost.stdout)).toEqual({ error: expect.stringMatching(/^another scan of gina/), exitCode: 5 })
    expect(eventsOf(s, 'gina').map(withoutRecordedAt).sort()).toEqual(eventsOf(clean, 'gina').map(withoutRecordedAt).sort())
  })

  it('a scan whose messages the blob store already holds reports them read, not newly stored', () => {
    const s = newStore()
    expect(mailtime([...s.args, 'doAccountScan', 'gina'], imapEnv(d)).code).toBe(0)
    // hugo's mailbox holds the same messages as gina's.
    const r = mailtime([...s.args, '--json', 'doAccountScan', 'hugo'], imapEnv(d))
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as Report
    expect(report.bytesRead).toBeGreaterThan(0)
    expect(report.bytesStored).toBe(0)
    const t = newStore()
    expect(mailtime([...t.args, 'doAccountScan', 'gina'], imapEnv(d)).code).toBe(0)
    const text = mailtime([...t.args, 'doAccountScan', 'hugo'], imapEnv(d))
    expect(text.stdout.split('\n')[0]).toMatch(/^hugo: first scan, \d+ events recorded; 80 messages read from the server \([\d.]+ kB\), 0 B new to the blob store$/)
  })
})

const withoutRecordedAt = (line: string): string => {
  const { recordedAt: _r, ...rest } = JSON.parse(line) as Record<string, unknown>
  return JSON.stringify(rest)
}
