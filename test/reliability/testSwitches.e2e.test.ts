/**
 * Test-only switches cannot hurt a user (src/cli/testSwitches.ts): MAILTIME_FAULT, MAILTIME_TEST_BUG
 * and MAILTIME_NOW act only with MAILTIME_TEST_MODE=1 (which the test harness sets), warn loudly when
 * they do, and are ignored, with a note, without it. MAILTIME_NOW is refused for capture.
 */
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'
import { REAL_CLOCK_VERBS, gateTestSwitches } from '../../src/cli/testSwitches'
import { VERBS } from '../../src/cli/verbs'
import { mailtime } from '../support/cli'
import { type Dovecot, dovecotAvailable, removeDovecot, startDovecot } from '../support/dovecot'
import { describeWithService } from '../support/services'
import { cleanupTmp, tmpDir } from '../support/tmp'
import { fillAccount, imapEnv } from './harness'

jest.setTimeout(120_000)

/** No marker: what a user's shell gives (the harness sets MAILTIME_TEST_MODE=1 unless told otherwise). */
const USER = { MAILTIME_TEST_MODE: '' }
const FUTURE = new Date(Date.now() + 400 * 86_400_000).toISOString()

describe('the gate of test-only switches', () => {
  it('removes every switch from what the command sees unless MAILTIME_TEST_MODE=1, and says so', () => {
    const env = { MAILTIME_FAULT: 'kill-after-batch:1', MAILTIME_TEST_BUG: 'checkpoint-ahead', MAILTIME_NOW: FUTURE, PATH: '/bin' }
    for (const marker of [undefined, '', '0', 'true', 'yes']) {
      const g = gateTestSwitches(marker === undefined ? env : { ...env, MAILTIME_TEST_MODE: marker }, 'doPurge')
      expect(E.isRight(g)).toBe(true)
      if (E.isLeft(g)) return
      expect([g.right.env.MAILTIME_FAULT, g.right.env.MAILTIME_TEST_BUG, g.right.env.MAILTIME_NOW, g.right.env.PATH]).toEqual([undefined, undefined, undefined, '/bin'])
      expect(g.right.warnings).toEqual([
        'mailtime: ignoring MAILTIME_FAULT, MAILTIME_TEST_BUG, MAILTIME_NOW: test-only switches act only under the test harness (MAILTIME_TEST_MODE=1); this is a normal run',
      ])
    }
  })

  it('lets them act with MAILTIME_TEST_MODE=1, with a warning naming each', () => {
    const g = gateTestSwitches({ MAILTIME_TEST_MODE: '1', MAILTIME_FAULT: 'pause-after-append:5' }, 'doUndelete')
    expect(g).toEqual(
      E.right({
        env: { MAILTIME_TEST_MODE: '1', MAILTIME_FAULT: 'pause-after-append:5' },
        warnings: [
          'mailtime: WARNING: TEST-ONLY SWITCHES ACTIVE (MAILTIME_TEST_MODE=1): MAILTIME_FAULT=pause-after-append:5; this run may be killed, slowed, given a planted bug or a false clock on purpose',
        ],
      }),
    )
  })

  it('says nothing when no switch is set, marker or not', () => {
    expect(gateTestSwitches({ MAILTIME_TEST_MODE: '1' }, 'doAccountScan')).toEqual(E.right({ env: { MAILTIME_TEST_MODE: '1' }, warnings: [] }))
    expect(gateTestSwitches({}, 'doAccountScan')).toEqual(E.right({ env: {}, warnings: [] }))
  })

  it('refuses MAILTIME_NOW for every verb that captures, marker or not, naming the variable and the verb; those verbs exist under those names', () => {
    expect([...REAL_CLOCK_VERBS].sort()).toEqual(['doAccountScan', 'doRewind', 'doSmartScan', 'importLog'])
    for (const verb of REAL_CLOCK_VERBS) {
      expect(VERBS.map((v) => v.name)).toContain(verb)
      for (const marker of [{ MAILTIME_TEST_MODE: '1' }, {}])
        expect(gateTestSwitches({ ...marker, MAILTIME_NOW: FUTURE }, verb)).toEqual(
          E.left(`MAILTIME_NOW cannot be used with ${verb}: capture runs on the real clock (an instant it records stays in the backup for good); unset MAILTIME_NOW`),
        )
      // The other switches still act for it.
      expect(E.isRight(gateTestSwitches({ MAILTIME_TEST_MODE: '1', MAILTIME_FAULT: 'pause-after-folder:10' }, verb))).toBe(true)
    }
    // Any other verb takes it (under the marker).
    expect(E.isRight(gateTestSwitches({ MAILTIME_TEST_MODE: '1', MAILTIME_NOW: FUTURE }, 'getAccountState'))).toBe(true)
  })
})

describe('MAILTIME_NOW from the command line', () => {
  afterAll(cleanupTmp)
  const store = () => ['--store', `sqlite:${path.join(tmpDir(), 'm.db')}`]

  it('moves the clock only under the test marker: a purge at a future instant is refused there, and runs on the real clock without it', () => {
    const test = mailtime([...store(), 'doPurge'], { MAILTIME_NOW: FUTURE })
    expect(test.code).toBe(2)
    expect(test.stderr).toContain(`mailtime: WARNING: TEST-ONLY SWITCHES ACTIVE (MAILTIME_TEST_MODE=1): MAILTIME_NOW=${FUTURE}`)
    expect(test.stderr).toContain('MAILTIME_NOW is in the future')
    const user = mailtime([...store(), 'doPurge'], { ...USER, MAILTIME_NOW: FUTURE })
    expect(user.code).toBe(0)
    expect(user.stderr).toBe('mailtime: ignoring MAILTIME_NOW: test-only switches act only under the test harness (MAILTIME_TEST_MODE=1); this is a normal run\n')
  })

  it('is refused with exit 2 by doAccountScan, doSmartScan, importLog and doRewind (whatever the case of the verb), marker or not, before anything is opened', () => {
    for (const args of [
      ['doAccountScan', 'erin'],
      ['doSmartScan'],
      ['importLog', 'erin', '/nonexistent/mailbox.log'],
      ['doRewind', 'erin', '2026-03-01T12:00:00Z', 'dry_run', 'true'],
      ['DOACCOUNTSCAN', 'erin'],
    ])
      for (const marker of [{}, USER]) {
        const dir = tmpDir()
        const r = mailtime(['--store', `sqlite:${path.join(dir, 'm.db')}`, ...args], { ...marker, MAILTIME_NOW: '2026-03-01T12:00:00Z' })
        const verb = VERBS.find((v) => v.name.toLowerCase() === args[0]?.toLowerCase())?.name
        expect([r.code, r.stdout, r.stderr]).toEqual([
          2,
          '',
          `mailtime: MAILTIME_NOW cannot be used with ${verb}: capture runs on the real clock (an instant it records stays in the backup for good); unset MAILTIME_NOW\n`,
        ])
        expect(fs.readdirSync(dir)).toEqual([])
      }
  })
})

describeWithService(dovecotAvailable(), 'Dovecot')('MAILTIME_FAULT and MAILTIME_TEST_BUG from the command line', () => {
  let d: Dovecot
  let store: string[]
  beforeAll(async () => {
    d = await startDovecot({ erin: 'erinpw' })
    await fillAccount(d, 'erin', 8)
    store = ['--store', `sqlite:${path.join(tmpDir(), 'm.db')}`]
  })
  afterAll(async () => {
    if (d !== undefined) await removeDovecot(d)
    cleanupTmp()
  })

  it('a planted bug warns under the marker and is ignored, with a note, without it', () => {
    const user = mailtime([...store, 'doAccountScan', 'erin'], imapEnv(d, { ...USER, MAILTIME_TEST_BUG: 'checkpoint-ahead' }))
    expect([user.code, user.stderr]).toEqual([
      0,
      'mailtime: ignoring MAILTIME_TEST_BUG: test-only switches act only under the test harness (MAILTIME_TEST_MODE=1); this is a normal run\n',
    ])
    const test = mailtime([...store, 'doAccountScan', 'erin'], imapEnv(d, { MAILTIME_TEST_BUG: 'checkpoint-ahead' }))
    expect([test.code, test.stderr]).toEqual([
      0,
      'mailtime: WARNING: TEST-ONLY SWITCHES ACTIVE (MAILTIME_TEST_MODE=1): MAILTIME_TEST_BUG=checkpoint-ahead; this run may be killed, slowed, given a planted bug or a false clock on purpose\n',
    ])
  })

  it('a fault kills the export under the marker, saying so, and does nothing without it', () => {
    const dest = path.join(tmpDir(), 'x')
    const killed = mailtime([...store, 'exportHistory', 'erin', 'dest', dest], { MAILTIME_FAULT: 'kill-after-step:1' })
    expect(killed.code).toBe(-1) // killed by a signal: spawnSync gives no status
    expect(killed.stderr).toContain('WARNING: TEST-ONLY SWITCHES ACTIVE (MAILTIME_TEST_MODE=1): MAILTIME_FAULT=kill-after-step:1')
    expect(killed.stderr).toContain('mailtime: WARNING: test fault MAILTIME_FAULT=kill-after-step:1: killing this process now')
    expect(fs.existsSync(dest)).toBe(false)
    const user = mailtime([...store, 'exportHistory', 'erin', 'dest', dest], { ...USER, MAILTIME_FAULT: 'kill-after-step:1' })
    expect([user.code, user.stderr]).toEqual([
      0,
      'mailtime: ignoring MAILTIME_FAULT: test-only switches act only under the test harness (MAILTIME_TEST_MODE=1); this is a normal run\n',
    ])
    expect(fs.existsSync(path.join(dest, 'manifest.json'))).toBe(true)
  })
})
