/**
 * The NOTIFY watcher's pure parts: the response reader (lines and literals, split anywhere), the
 * tokenizer, mailbox names (modified UTF-7 and Dovecot's UTF-8), STATUS and LIST responses, and what
 * a STATUS says changed. The responses are those Dovecot 2.3.19 sent here (see the Dovecot suite).
 */
import { decodeMailboxName, decodeModifiedUtf7, parseList, parseStatus, responseReader, statusChanges, tokenize } from '../../src/imap/notify'

const b = (s: string) => Buffer.from(s, 'utf8')

describe('the response reader', () => {
  it('splits responses at CRLF and keeps literals, with their CRLFs, inside the response, however the bytes are cut', () => {
    const wire = b('* STATUS {19}\r\nÉléments envoyés (MESSAGES 0 UIDNEXT 1)\r\n* LIST () "." Sub2\r\n* LIST () "." {6}\r\nA\r\nB\r\n ("OLDNAME" ({2}\r\nXY))\r\n')
    const expected = [b('* STATUS {19}\r\nÉléments envoyés (MESSAGES 0 UIDNEXT 1)'), b('* LIST () "." Sub2'), b('* LIST () "." {6}\r\nA\r\nB\r\n ("OLDNAME" ({2}\r\nXY))')]
    for (const cut of [1, 2, 3, 7, 16, 50, wire.length]) {
      const read = responseReader()
      const out: Buffer[] = []
      for (let i = 0; i < wire.length; i += cut) out.push(...read(wire.subarray(i, i + cut)))
      expect(out).toEqual(expected)
    }
  })

  it('refuses a literal too large to be a mailbox name', () => {
    expect(() => responseReader()(b('* LIST () "." {99999999}\r\n'))).toThrow(/literal/)
  })
})

describe('the tokenizer', () => {
  it('reads atoms, quoted strings with escapes, literals and nested lists', () => {
    const t = tokenize(b('* LIST (\\NonExistent) "." "Quo\\"te\\\\Back" ("OLDNAME" ({3}\r\nOld))'))
    expect(t).toEqual([
      { t: 'atom', v: '*' },
      { t: 'atom', v: 'LIST' },
      { t: 'list', v: [{ t: 'atom', v: '\\NonExistent' }] },
      { t: 'string', v: b('.') },
      { t: 'string', v: b('Quo"te\\Back') },
      {
        t: 'list',
        v: [
          { t: 'string', v: b('OLDNAME') },
          { t: 'list', v: [{ t: 'string', v: b('Old') }] },
        ],
      },
    ])
  })

  it.each(['* LIST (a "b', '* LIST (a', '* LIST a)', '* STATUS {9}\r\nab'])('throws on what it cannot read: %j', (s) => {
    expect(() => tokenize(b(s))).toThrow()
  })
})

describe('mailbox names', () => {
  it.each([
    ['&AMk-l&AOk-ments envoy&AOk-s', 'Éléments envoyés'],
    ['Emoji&2D3eAA-', 'Emoji😀'],
    ['Tom &- Jerry', 'Tom & Jerry'],
    ['&ZeVnLIqe-', '日本語'],
    ['INBOX.Sub', 'INBOX.Sub'],
  ])('modified UTF-7 %s is %s', (raw, text) => {
    expect(decodeModifiedUtf7(raw)).toBe(text)
  })

  it.each(['Tom & Jerry', '&AMk', '&AMkA-', '&AEE-', '&2D0-', 'caf\u00e9'])('%j is not modified UTF-7', (raw) => {
    expect(decodeModifiedUtf7(raw)).toBeUndefined()
  })

  it('are read as UTF-8 when the server sends 8-bit bytes (Dovecot in NOTIFY responses), as they are when not modified UTF-7, and INBOX in any case is INBOX', () => {
    expect(decodeMailboxName(b('Ünïcode "q" \\b'))).toBe('Ünïcode "q" \\b')
    expect(decodeMailboxName(b('Tom & Jerry'))).toBe('Tom & Jerry')
    expect(decodeMailboxName(b('&AMk-l&AOk-ments'))).toBe('Éléments')
    expect(decodeMailboxName(b('inbox'))).toBe('INBOX')
  })
})

describe('STATUS and LIST responses', () => {
  it('a STATUS gives the folder and its numbers, whatever their order, ignoring items it does not know', () => {
    expect(parseStatus(tokenize(b('* STATUS {19}\r\nÉléments envoyés (MESSAGES 4 UIDNEXT 5 UIDVALIDITY 1796666680 UNSEEN 3 HIGHESTMODSEQ 4 SIZE 99)')))).toEqual({
      mailbox: 'Éléments envoyés',
      status: { messages: 4, uidNext: 5, uidValidity: 1796666680, unseen: 3, highestModseq: 4 },
    })
    expect(parseStatus(tokenize(b('* STATUS EXPUNGED (UNSEEN 7 MESSAGES 8)')))).toEqual({ mailbox: 'EXPUNGED', status: { messages: 8, unseen: 7 } })
  })

  it('a LIST is a deletion (\\NonExistent), a rename (OLDNAME), or a folder listed (created or (un)subscribed)', () => {
    expect(parseList(tokenize(b('* LIST (\\NonExistent) "." "Tom & Jerry"')))).toEqual({ kind: 'deleted', mailbox: 'Tom & Jerry' })
    expect(parseList(tokenize(b('* LIST () "." Sub2.Child ("OLDNAME" (Sub.Child))')))).toEqual({ kind: 'renamed', mailbox: 'Sub2.Child', oldMailbox: 'Sub.Child' })
    expect(parseList(tokenize(b('* LIST () "." Renamed ("OLDNAME" ({16}\r\nÜnïcode "q" \\b))')))).toEqual({ kind: 'renamed', mailbox: 'Renamed', oldMailbox: 'Ünïcode "q" \\b' })
    expect(parseList(tokenize(b('* LIST (\\Subscribed) "." Sub')))).toEqual({ kind: 'listed', mailbox: 'Sub' })
    expect(parseList(tokenize(b('* LIST () NIL Flat')))).toEqual({ kind: 'listed', mailbox: 'Flat' })
  })
})

describe('what a STATUS says changed', () => {
  const before = { messages: 4, uidNext: 10, uidValidity: 7, unseen: 1, highestModseq: 20 }
  it.each([
    ['new mail', { ...before, messages: 5, uidNext: 11, highestModseq: 21 }, ['messageNew']],
    ['an expunge', { ...before, messages: 3, highestModseq: 21 }, ['messageExpunged']],
    ['new mail and an expunge at once', { ...before, messages: 4, uidNext: 11, highestModseq: 22 }, ['messageNew', 'messageExpunged']],
    ['a flag change', { ...before, unseen: 0, highestModseq: 21 }, ['flagsChanged']],
    ['a flag change seen only in HIGHESTMODSEQ', { ...before, highestModseq: 21 }, ['flagsChanged']],
    ['nothing it can see', { ...before }, ['mailboxChanged']],
    ['a new UIDVALIDITY', { ...before, uidValidity: 8 }, ['mailboxChanged']],
  ])('%s', (_, after, kinds) => {
    expect(statusChanges(before, after)).toEqual(kinds)
  })

  it('without an earlier STATUS, something changed', () => {
    expect(statusChanges(undefined, before)).toEqual(['mailboxChanged'])
  })

  it('without UIDNEXT, more messages are new mail', () => {
    expect(statusChanges({ messages: 1 }, { messages: 2 })).toEqual(['messageNew'])
  })
})
