import { accountMissing, loginAttempts } from '../../src/restore/imap/login'
import { unrestoredLines } from '../../src/cli/restoreRun'

describe('refused restore logins', () => {
  it('only an account this run has just created is tried again', () => {
    expect(loginAttempts(true)).toBeGreaterThan(1)
    expect(loginAttempts(false)).toBe(1)
  })

  it("an admin's login on behalf of an account refused with AUTHORIZATIONFAILED means the account is missing; a wrong password does not", () => {
    expect(accountMissing({ code: 'AUTHORIZATIONFAILED' }, true)).toBe(true)
    expect(accountMissing({ code: 'AUTHENTICATIONFAILED' }, true)).toBe(false)
    expect(accountMissing({}, true)).toBe(false)
    // With the account's own password, a missing account cannot be told from a wrong password.
    expect(accountMissing({ code: 'AUTHORIZATIONFAILED' }, false)).toBe(false)
  })
})

describe('the unrestored lines of a restore report', () => {
  it('one line per account and reason, with the ids', () => {
    const us = [
      { account: 'b', itemId: 1, reason: 'account b does not exist' },
      { account: 'a', itemId: 7, reason: 'purged' },
      { account: 'b', itemId: 2, reason: 'account b does not exist' },
    ]
    expect(unrestoredLines(us, 'op-1')).toEqual(['  b 1, 2: account b does not exist', '  a 7: purged'])
  })

  it('at most ten ids and twenty reasons', () => {
    const many = Array.from({ length: 12 }, (_, i) => ({ account: 'a', itemId: i, reason: 'r' }))
    expect(unrestoredLines(many, 'op-1')).toEqual(['  a 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … 2 more: r'])
    const reasons = Array.from({ length: 22 }, (_, i) => ({ account: 'a', itemId: i, reason: `r${i}` }))
    const lines = unrestoredLines(reasons, 'op-1')
    expect(lines).toHaveLength(21)
    expect(lines[20]).toBe('  … 2 more reasons (monitor op-1 --json lists every item)')
  })
})
