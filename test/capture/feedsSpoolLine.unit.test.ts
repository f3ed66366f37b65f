/**
 * The spool line decoder and the mapping of spool records to change signals and folder triggers.
 * The lines are written as contrib/dovecot/mailtime-feed.lua writes them (the Dovecot suite checks
 * the script itself against the real server).
 */
import * as E from 'fp-ts/Either'
import { type ChangeSignal, coalesce, signalsOfRecord } from '../../src/capture/feeds/signals'
import { type SpoolRecord, decodeSpoolLine, ignoredProblems } from '../../src/capture/feeds/spoolLine'

const at = { file: '2026120715.jsonl', line: 7 }
const line = (events: string, extra = '') => `{"v":1,"user":"alice","svc":"imap","ok":true,"res":1,${extra}"events":[${events}]}`
const decoded = (text: string): SpoolRecord => {
  const r = decodeSpoolLine(text, at)
  if (E.isLeft(r)) throw new Error(`expected a record: ${JSON.stringify(r.left)}`)
  return r.right
}
const problemOf = (text: string) => {
  const r = decodeSpoolLine(text, at)
  if (E.isRight(r)) throw new Error('expected a problem')
  return r.left
}

describe('a spool line', () => {
  it('decodes to the user, service, outcome, resolution and events it names', () => {
    const r = decoded(line('{"e":"MessageAppend","box":"INBOX","t":1796657405472,"uid":1,"uv":1796657406},{"e":"MailboxRename","box":"New","t":1796657405473,"old":"Old"}'))
    expect(r).toEqual({
      file: '2026120715.jsonl',
      line: 7,
      user: 'alice',
      service: 'imap',
      ok: true,
      resolutionMs: 1,
      events: [
        { name: 'MessageAppend', mailbox: 'INBOX', at: 1796657405472, uid: 1, uidValidity: 1796657406 },
        { name: 'MailboxRename', mailbox: 'New', at: 1796657405473, oldMailbox: 'Old' },
      ],
      ignored: [],
    })
  })

  it('reads names the script escaped: quotes, backslashes, control characters, accents and characters above the BMP', () => {
    const r = decoded(line('{"e":"MailboxCreate","box":"Quo\\"te\\\\Back\\u0009\\u00c9l\\u00e9ments \\ud83d\\ude00","t":1}'))
    expect(r.events[0]?.mailbox).toBe('Quo"te\\Back\tÉléments 😀')
  })

  it('reports a line that is not JSON with its file and line, and an excerpt', () => {
    const p = problemOf('{"v":1,"user":"alice","svc":"imap","ok":tr')
    expect(p).toMatchObject({ _tag: 'MalformedLine', file: '2026120715.jsonl', line: 7, excerpt: '{"v":1,"user":"alice","svc":"imap","ok":tr' })
    expect(p.reason).toMatch(/^not JSON/)
  })

  it('reports a line of a newer format version as such', () => {
    expect(problemOf('{"v":2,"user":"alice","svc":"imap","ok":true,"res":1,"events":[]}').reason).toBe('format version 2 is newer than this Mailtime reads (1)')
  })

  it('reports a line whose fields are missing or of the wrong type, naming the field', () => {
    expect(problemOf('{"v":1,"svc":"imap","ok":true,"res":1,"events":[]}').reason).toMatch(/user/)
    expect(problemOf('{"v":1,"user":"alice","svc":"imap","ok":"yes","res":1,"events":[]}').reason).toMatch(/ok/)
    expect(problemOf('{"v":1,"user":"alice","svc":"imap","ok":true,"res":7,"events":[]}').reason).toMatch(/res/)
  })

  it('keeps the known events of a line and lists the others (a newer script, a bad uid) as ignored', () => {
    const text = line('{"e":"MessageAppend","box":"INBOX","t":1,"uid":4},{"e":"MessageTeleport","box":"INBOX","t":1},{"e":"MessageExpunge","box":"INBOX","t":1,"uid":1.5}')
    const r = decoded(text)
    expect(r.events.map((e) => e.name)).toEqual(['MessageAppend'])
    expect(r.ignored.map((i) => i.index)).toEqual([1, 2])
    expect(ignoredProblems(r, text).map((p) => [p._tag, p.line, p.reason.slice(0, 8)])).toEqual([
      ['IgnoredEvent', 7, 'event 1:'],
      ['IgnoredEvent', 7, 'event 2:'],
    ])
  })

  it('reads integers the script wrote from Lua floats', () => {
    expect(decoded(line('{"e":"MessageAppend","box":"INBOX","t":1796657405472,"uid":1.0,"uv":1796657406.0}')).events[0]).toMatchObject({ uid: 1, uidValidity: 1796657406 })
  })
})

describe('change signals of a spool record', () => {
  const record = (events: string, res = 1, ok = true) => decoded(`{"v":1,"user":"alice","svc":"imap","ok":${ok},"res":${res},"events":[${events}]}`)

  it.each([
    ['MessageNew', 'messageNew'],
    ['MessageAppend', 'messageNew'],
    ['MessageExpunge', 'messageExpunged'],
    ['MessageTrash', 'flagsChanged'],
    ['MessageRead', 'flagsChanged'],
    ['FlagsSet', 'flagsChanged'],
    ['FlagsClear', 'flagsChanged'],
    ['MailboxCreate', 'mailboxCreated'],
    ['MailboxDelete', 'mailboxDeleted'],
    ['MailboxSubscribe', 'subscriptionChanged'],
    ['MailboxUnsubscribe', 'subscriptionChanged'],
  ])('%s is %s', (name, kind) => {
    expect(signalsOfRecord(record(`{"e":"${name}","box":"Work","t":5,"uid":3,"uv":9}`))).toEqual([
      { source: 'dovecot-spool', account: 'alice', mailbox: 'Work', kind, uid: 3, uidValidity: 9, at: 5, atPrecision: 'exact' },
    ])
  })

  it('a rename names the new folder and the old one', () => {
    expect(signalsOfRecord(record('{"e":"MailboxRename","box":"New","t":5,"old":"Old"}'))).toEqual([
      { source: 'dovecot-spool', account: 'alice', mailbox: 'New', kind: 'mailboxRenamed', oldMailbox: 'Old', at: 5, atPrecision: 'exact' },
    ])
  })

  it("one flag change, which Dovecot reports as FlagsClear, FlagsSet and MessageRead, is one signal at the first event's instant", () => {
    const s = signalsOfRecord(
      record(
        '{"e":"FlagsClear","box":"INBOX","t":5,"uid":3,"uv":9},{"e":"FlagsSet","box":"INBOX","t":6,"uid":3,"uv":9},{"e":"MessageRead","box":"INBOX","t":6,"uid":3,"uv":9},{"e":"FlagsSet","box":"INBOX","t":6,"uid":4,"uv":9}',
      ),
    )
    expect(s.map((x) => [x.kind, x.uid, x.at])).toEqual([
      ['flagsChanged', 3, 5],
      ['flagsChanged', 4, 6],
    ])
  })

  it('instants to the second (no LuaSocket) are said to be so', () => {
    expect(signalsOfRecord(record('{"e":"MessageAppend","box":"INBOX","t":1796657405000,"uid":1}', 1000))[0]?.atPrecision).toBe('second')
  })

  it('leaves out the folders it is told to ignore (lazy_expunge)', () => {
    const s = signalsOfRecord(record('{"e":"MessageAppend","box":"EXPUNGED","t":5,"uid":1},{"e":"MessageExpunge","box":"INBOX","t":5,"uid":7}'), { ignoreMailboxes: ['EXPUNGED'] })
    expect(s.map((x) => [x.mailbox, x.kind])).toEqual([['INBOX', 'messageExpunged']])
  })

  it('keeps the signals of a transaction Dovecot rolled back (a capture that finds nothing costs less than a change missed)', () => {
    expect(signalsOfRecord(record('{"e":"MessageAppend","box":"INBOX","t":5,"uid":1}', 1, false))).toHaveLength(1)
  })
})

describe('folder triggers', () => {
  const sig = (account: string, mailbox: string, kind: ChangeSignal['kind'], at: number, uid?: number): ChangeSignal => ({
    source: 'dovecot-spool',
    account,
    mailbox,
    kind,
    ...(uid !== undefined && { uid }),
    at,
    atPrecision: 'exact',
  })

  it('coalesce many signals into one trigger per account and folder, in the order each was first signalled', () => {
    const signals = [
      sig('alice', 'INBOX', 'messageNew', 10, 1),
      sig('bob', 'INBOX', 'messageNew', 11, 1),
      sig('alice', 'INBOX', 'flagsChanged', 12, 1),
      sig('alice', 'Work', 'mailboxCreated', 9),
      sig('alice', 'INBOX', 'messageExpunged', 8, 1),
    ]
    const t = coalesce(signals)
    expect(t.map((x) => [x.account, x.mailbox, x.kinds, x.relist, x.first, x.last, x.signals.length])).toEqual([
      ['alice', 'INBOX', ['messageNew', 'messageExpunged', 'flagsChanged'], false, 8, 12, 3],
      ['bob', 'INBOX', ['messageNew'], false, 11, 11, 1],
      ['alice', 'Work', ['mailboxCreated'], true, 9, 9, 1],
    ])
    expect(t[0]?.signals).toEqual([signals[0], signals[2], signals[4]])
  })

  it('keep an account named like a folder apart from it', () => {
    expect(coalesce([sig('a', 'b c', 'messageNew', 1), sig('a b', 'c', 'messageNew', 1)])).toHaveLength(2)
  })

  it('hold a large burst (a folder of 200,000 messages deleted) without exhausting the stack', () => {
    const many = Array.from({ length: 200_000 }, (_, i) => sig('alice', 'Old', 'messageExpunged', 1000 + i, i + 1))
    const [t] = coalesce(many)
    expect([t?.first, t?.last, t?.signals.length]).toEqual([1000, 200_999, 200_000])
  })
})
