/**
 * `doRewind` end to end against a real Dovecot, through the built CLI: an account is captured, then
 * an "attacker" (plain imapflow) moves, flags, deletes, renames, creates and deletes folders while
 * new mail arrives; the rewind puts it back as it was, keeps the new mail aside, and a re-run does
 * nothing. A rewind killed at an action and run again ends in the same state, nothing duplicated.
 */
import * as fs from 'fs'
import * as path from 'path'
import { DateTime } from 'luxon'
import { type Dovecot, clientAs, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { type CaughtMail, type MailCatcher, smtpConfig, startMailCatcher } from '../support/smtp'
import { mailtimeAsync } from '../support/cli'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { expectedAfter, keepFolderToday, pause, readAccount } from '../support/hijack'
import { adminEnv, message, writeConfig } from '../support/imapServers'

/** The test's messages, all addressed to alice whoever's account they are appended to. */
const msg = (subject: string, id: string, body = 'Hello') => message('alice', subject, id, body)

describeWithService(dovecotAvailable(), 'Dovecot')('doRewind puts a hijacked IMAP account back as it was, keeping what arrived since', () => {
  let d: Dovecot
  let dir: string
  let env: Record<string, string>
  let smtp: MailCatcher
  const mails: CaughtMail[] = []
  const store = () => ['--store', `sqlite:${path.join(dir, 'm.db')}`, '--tz', 'UTC']
  const run = (args: string[], extra: Record<string, string> = {}) => mailtimeAsync([...store(), ...args], { ...env, ...extra }).done
  const runJson = async (...args: string[]) => {
    const r = await run(['--json', ...args])
    if (r.code !== 0) throw new Error(`${args[0]} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return JSON.parse(r.stdout)
  }
  /** The account before the attack: captured, then an instant after that capture is returned. */
  const setUp = async (user: string): Promise<{ instant: string; before: string[] }> => {
    const c = clientAs(d, user)
    await c.connect()
    for (const f of ['Projects', 'Archive', 'Trash']) await c.mailboxCreate(f)
    await c.append('INBOX', msg('Budget', `${user}1`), ['\\Seen'], new Date('2026-03-02T10:00:00Z'))
    await c.append('INBOX', msg('Travel', `${user}2`), [], new Date('2026-03-02T11:00:00Z'))
    await c.append('INBOX', msg('Lunch', `${user}3`, 'Ciao\r\n'.repeat(2000)), ['$Work', '\\Answered'], new Date('2026-03-02T12:00:00Z'))
    await c.append('Projects', msg('Spec', `${user}4`), ['\\Flagged', 'Review'], new Date('2026-03-01T09:00:00Z'))
    await c.append('Archive', msg('Old', `${user}5`), ['\\Seen'], new Date('2026-02-01T09:00:00Z'))
    await c.logout()
    await runJson('doAccountScan', user)
    await pause(1100)
    const instant = new Date().toISOString()
    await pause(1100)
    return { instant, before: await readAccount(d, user) }
  }

  /** The attack, by a plain IMAP client: a move, flags, a deletion, a rename, a folder made and one deleted; then new mail. */
  const attack = async (user: string) => {
    const c = clientAs(d, user)
    await c.connect()
    const lock = await c.getMailboxLock('INBOX')
    const uid: Record<string, number> = {}
    for await (const m of c.fetch('1:*', { uid: true, envelope: true })) uid[m.envelope?.subject ?? ''] = m.uid
    await c.messageMove(String(uid.Travel), 'Trash', { uid: true })
    await c.messageFlagsSet(String(uid.Budget), ['\\Flagged'], { uid: true })
    await c.messageDelete(String(uid.Lunch), { uid: true })
    lock.release()
    await c.mailboxRename('Projects', 'Stolen')
    await c.mailboxCreate('Loot')
    const arch = await c.getMailboxLock('Archive')
    await c.messageMove('1:*', 'Loot')
    arch.release()
    await c.mailboxDelete('Archive')
    await c.append('INBOX', msg('Invoice', `${user}6`), [], new Date())
    await c.logout()
  }

  beforeAll(async () => {
    d = await startDovecot({ alice: 'alicepw', bob: 'bobpw', carol: 'carolpw', dave: 'davepw', erin: 'erinpw' })
    dir = tmpDir()
    smtp = await startMailCatcher(mails)
    env = adminEnv(d, writeConfig(dir, { smtp: smtpConfig(smtp) }))
  })

  afterAll(async () => {
    await smtp.close()
    await removeDovecot(d)
    cleanupTmp()
  })

  it('previews the plan grouped with counts, rewinds, keeps the new mail aside, verifies, notifies; a re-run does nothing', async () => {
    const { instant, before } = await setUp('alice')
    await attack('alice')
    const attacked = await readAccount(d, 'alice')
    expect(attacked).not.toEqual(before)

    const dry = await runJson('doRewind', 'alice', instant, 'dry_run', 'true', 'remove_new_folders', 'true')
    expect(dry.plan.counts).toEqual({ 'rename back': 1, 'recreate folder': 1, 'move back': 2, 'come back': 1, 're-flag': 1, 'keep aside': 2, 'remove folder': 1 })
    // The preview docs/restore.md shows is this one, the instant and the day aside.
    const text = await run(['doRewind', 'alice', instant, 'dry_run', 'true', 'remove_new_folders', 'true'])
    expect(text.code).toBe(0)
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'restore.md'), 'utf8')
    const block = /<!-- rewind preview:[^\n]*-->\n```text\n([\s\S]*?)```/.exec(doc)?.[1] ?? ''
    const shown = DateTime.fromISO(instant, { zone: 'UTC' }).toFormat('dd/MM/yyyy HH:mm:ss ZZ')
    expect(text.stdout.split(shown).join('07/12/2026 09:12:00 +00:00').split(keepFolderToday()).join('rewind_07_12_26')).toBe(block)
    // A preview changes nothing on the server.
    expect(await readAccount(d, 'alice')).toEqual(attacked)

    mails.length = 0
    const r = await runJson('doRewind', 'alice', instant, 'remove_new_folders', 'true', 'notifications', 'security@example.com')
    expect(r).toMatchObject({ state: 'done', differences: [], failed: [] })
    expect(await readAccount(d, 'alice')).toEqual(expectedAfter(before, attacked, keepFolderToday()))
    await pause(200)
    expect(mails.map((m) => m.to)).toEqual([
      ['admin@example.com', 'ops@example.com', 'security@example.com'],
      ['admin@example.com', 'ops@example.com', 'security@example.com'],
    ])
    expect(mails[1]?.text).toContain(r.operationId)

    // The operation is in the audit trail.
    const ops = await runJson('getAllOperations')
    expect(JSON.stringify(ops)).toContain(r.operationId)

    const again = await runJson('doRewind', 'alice', instant, 'remove_new_folders', 'true')
    expect(again).toMatchObject({ state: 'done', differences: [], plan: { counts: {} } })
    expect(await readAccount(d, 'alice')).toEqual(expectedAfter(before, attacked, keepFolderToday()))
  })

  it('refuses while the account is under legal hold, and changes nothing; the preview says so', async () => {
    const { instant } = await setUp('carol')
    await attack('carol')
    const attacked = await readAccount(d, 'carol')
    // An instant before the account's first capture: the backup knows no mail of it then.
    const early = await run(['doRewind', 'carol', '2026-01-01T00:00:00Z', 'dry_run', 'true'])
    expect({ code: early.code, err: early.stderr }).toMatchObject({ code: 3, err: expect.stringContaining('the backup holds nothing of carol at 01/01/2026 00:00:00 +00:00') })
    await runJson('legalHold', 'set', 'carol', 'reason', 'case 2026-117')
    const r = await run(['doRewind', 'carol', instant])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain('carol is under legal hold')
    expect(await readAccount(d, 'carol')).toEqual(attacked)
    // The preview changes nothing, so the hold allows it; it says the rewind would be refused.
    const dry = await runJson('doRewind', 'carol', instant, 'dry_run', 'true')
    expect(dry.refusedBecause).toContain('carol is under legal hold (set by')
    expect(dry.plan.counts['move back']).toBe(2)
    expect(await readAccount(d, 'carol')).toEqual(attacked)
  })

  it('killed right after an action reached the server, then run again: the same final state, nothing applied twice', async () => {
    const { instant, before } = await setUp('bob')
    await attack('bob')
    const attacked = await readAccount(d, 'bob')
    // Killed after its first action (a rename), then a run killed after its second (a folder
    // recreated, then a move), then one killed after the messages written back reached the server.
    for (const fault of ['kill-after-action:1', 'kill-after-action:2']) {
      const k = await run(['doRewind', 'bob', instant], { MAILTIME_FAULT: fault })
      expect({ fault, code: k.code }).toEqual({ fault, code: 137 })
    }
    const k2 = await run(['doRewind', 'bob', instant], { MAILTIME_FAULT: 'kill-after-append:1' })
    expect(k2.code).toBe(137)
    const r = await runJson('doRewind', 'bob', instant)
    expect(r).toMatchObject({ state: 'done', differences: [], failed: [] })
    expect(r.foundApplied).toBeGreaterThan(0)
    expect(await readAccount(d, 'bob')).toEqual(
      expectedAfter(before, attacked, keepFolderToday())
        .filter((l) => !l.startsWith('Loot'))
        .concat(attacked.includes('Loot/') ? ['Loot/'] : [])
        .sort(),
    )
  })

  it('doStopOperation stops a running rewind between actions; the same command finishes it', async () => {
    const { instant, before } = await setUp('dave')
    await attack('dave')
    const attacked = await readAccount(d, 'dave')
    // Slow enough (about 7 s in all) that the stop lands before the end even on a loaded machine.
    const p = mailtimeAsync([...store(), '--json', 'doRewind', 'dave', instant], { ...env, MAILTIME_FAULT: 'pause-after-action:800' })
    let id: string | undefined
    for (let i = 0; i < 300 && id === undefined; i++) {
      await pause(100)
      const ops = (await runJson('getAllOperations', 'state', 'running')).operations
      id = ops.find((o: { verb: string; params: { account?: string } }) => o.verb === 'doRewind' && o.params.account === 'dave')?.operationId
    }
    expect(id).toBeDefined()
    expect((await run(['doStopOperation', id as string])).code).toBe(0)
    const r = await p.done
    expect({ code: r.code, output: (r.stdout + r.stderr).slice(0, 2000) }).toMatchObject({ code: 130 })
    expect(JSON.parse(r.stdout).state).toBe('stopped')
    expect(await readAccount(d, 'dave')).not.toEqual(expectedAfter(before, attacked, keepFolderToday()))
    const resumed = await runJson('doRewind', 'dave', instant)
    expect(resumed).toMatchObject({ state: 'done', differences: [] })
    expect(await readAccount(d, 'dave')).toEqual(
      expectedAfter(before, attacked, keepFolderToday())
        .filter((l) => !l.startsWith('Loot'))
        .concat(['Loot/'])
        .sort(),
    )
  })

  it('a change made while the rewind runs is found by its last capture: listed item by item, exit 7; the same command then finishes it', async () => {
    const { instant, before } = await setUp('erin')
    await attack('erin')
    const attacked = await readAccount(d, 'erin')
    const p = mailtimeAsync([...store(), '--json', 'doRewind', 'erin', instant], { ...env, MAILTIME_FAULT: 'pause-after-action:700' })
    let id: string | undefined
    for (let i = 0; i < 300 && id === undefined; i++) {
      await pause(100)
      const ops = (await runJson('getAllOperations', 'state', 'running')).operations
      id = ops.find((o: { verb: string; params: { account?: string } }) => o.verb === 'doRewind' && o.params.account === 'erin')?.operationId
    }
    expect(id).toBeDefined()
    // Someone else expunges Spec, which the rewind has no action for, while it runs.
    const c = clientAs(d, 'erin')
    await c.connect()
    for (const box of await c.list()) {
      const lock = await c.getMailboxLock(box.path)
      try {
        const uids: number[] = []
        for await (const m of c.fetch('1:*', { uid: true, envelope: true })) if (m.envelope?.subject === 'Spec') uids.push(m.uid)
        if (uids.length > 0) await c.messageDelete(uids.join(','), { uid: true })
      } catch {
        // an empty folder has no message 1
      } finally {
        lock.release()
      }
    }
    await c.logout()
    const r = await p.done
    expect({ code: r.code, err: r.stderr.slice(-500) }).toMatchObject({ code: 7 })
    const out = JSON.parse(r.stdout)
    expect(out.state).toBe('partial')
    expect(out.differences).toEqual([
      expect.objectContaining({ kind: 'missing message', folder: ['Projects'], text: expect.stringMatching(/^item \d+ \(at the instant\) is not in \/Projects$/) }),
    ])
    const m = await runJson('monitor', id as string)
    expect(JSON.stringify(m)).toContain('after the rewind: item')
    const again = await runJson('doRewind', 'erin', instant)
    expect(again).toMatchObject({ state: 'done', differences: [], plan: { counts: { 'come back': 1 } } })
    expect(await readAccount(d, 'erin')).toEqual(
      expectedAfter(before, attacked, keepFolderToday())
        .filter((l) => !l.startsWith('Loot'))
        .concat(['Loot/'])
        .sort(),
    )
  })
})
