/**
 * The instants a change feed gives a scan (feeds/instants.ts) and the pure parts of feed-driven
 * capture (feeds/feedCapture.ts): grouping by account, one capture at a time per account, signals
 * that arrive during a capture taken by the next one.
 */
import { feedInstants } from '../../src/capture/feeds/instants'
import * as E from 'fp-ts/Either'
import { type CaptureResult, accountQueue, byAccount, captureFromSpool, triggerOnSignal } from '../../src/capture/feeds/feedCapture'
import type { SpoolBatch, SpoolFollower } from '../../src/capture/feeds/spoolFollower'
import type { SpoolRecord } from '../../src/capture/feeds/spoolLine'
import type { ChangeSignal } from '../../src/capture/feeds/signals'

const sig = (s: Partial<ChangeSignal> & Pick<ChangeSignal, 'kind' | 'at'>): ChangeSignal => ({
  source: 'dovecot-spool',
  account: 'alice',
  mailbox: 'INBOX',
  atPrecision: 'exact',
  ...s,
})

describe('feed instants', () => {
  it('date a message added, expunged or flagged by folder, UID and UIDVALIDITY, exactly', () => {
    const i = feedInstants([
      sig({ kind: 'messageNew', uid: 7, uidValidity: 100, at: 1000 }),
      sig({ kind: 'flagsChanged', uid: 7, uidValidity: 100, at: 2000 }),
      sig({ kind: 'flagsChanged', uid: 7, uidValidity: 100, at: 3000 }),
      sig({ kind: 'messageExpunged', uid: 7, uidValidity: 100, at: 4000 }),
    ])
    expect(i.added('INBOX', 100, 7)).toEqual({ from: 1000, to: 1000 })
    // The scan reads the flags the last change left.
    expect(i.flagsChanged('INBOX', 100, 7)).toEqual({ from: 3000, to: 3000 })
    expect(i.expunged('INBOX', 100, 7)).toEqual({ from: 4000, to: 4000 })
    expect(i.added('INBOX', 98, 7)).toBeUndefined()
    expect(i.added('Work', 100, 7)).toBeUndefined()
    expect(i.added('INBOX', 100, 8)).toBeUndefined()
  })

  it("match the UIDVALIDITY Dovecot reports for a folder's first message before it replaces it with one less", () => {
    const i = feedInstants([sig({ kind: 'messageNew', uid: 1, uidValidity: 1796657406, at: 1000 })])
    expect(i.added('INBOX', 1796657405, 1)).toEqual({ from: 1000, to: 1000 })
    expect(i.added('INBOX', 1796657404, 1)).toBeUndefined()
  })

  it('match a signal without UIDVALIDITY to any, and give the second an instant to the second falls in', () => {
    const i = feedInstants([sig({ kind: 'messageNew', uid: 1, at: 5000, atPrecision: 'second' })])
    expect(i.added('INBOX', 42, 1)).toEqual({ from: 5000, to: 5999 })
  })

  it('never date by a NOTIFY signal (heard, not when it happened)', () => {
    const i = feedInstants([
      sig({ source: 'imap-notify', kind: 'messageNew', uid: 1, at: 5000, atPrecision: 'received' }),
      sig({ source: 'imap-notify', kind: 'mailboxCreated', mailbox: 'X', at: 5000, atPrecision: 'received' }),
    ])
    expect(i.added('INBOX', 1, 1)).toBeUndefined()
    expect(i.folderCreated('X')).toBeUndefined()
  })

  it('date a folder created, renamed or deleted by its name, the last time it was', () => {
    const i = feedInstants([
      sig({ kind: 'mailboxCreated', mailbox: 'A', at: 1 }),
      sig({ kind: 'mailboxDeleted', mailbox: 'A', at: 2 }),
      sig({ kind: 'mailboxCreated', mailbox: 'A', at: 3 }),
      sig({ kind: 'mailboxRenamed', mailbox: 'B', oldMailbox: 'A', at: 4 }),
    ])
    expect(i.folderCreated('A')).toEqual({ from: 3, to: 3 })
    expect(i.folderDeleted('A')).toEqual({ from: 2, to: 2 })
    expect(i.folderRenamed('B')).toEqual({ from: 4, to: 4 })
    expect(i.folderRenamed('A')).toBeUndefined()
  })
})

describe('feed-driven capture', () => {
  it('groups signals by account, in the order each was first signalled', () => {
    const g = byAccount([sig({ account: 'b', kind: 'messageNew', at: 1 }), sig({ account: 'a', kind: 'messageNew', at: 2 }), sig({ account: 'b', kind: 'flagsChanged', at: 3 })])
    expect([...g.keys()]).toEqual(['b', 'a'])
    expect(g.get('b')?.map((s) => s.at)).toEqual([1, 3])
  })

  it('runs one task at a time per account, and tasks of different accounts side by side', async () => {
    const q = accountQueue()
    const log: string[] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((r) => (release = r))
    const a1 = q('a', async () => {
      log.push('a1 start')
      await gate
      log.push('a1 end')
    })
    const a2 = q('a', async () => {
      log.push('a2')
    })
    const b1 = q('b', async () => {
      log.push('b1')
    })
    await b1
    expect(log).toEqual(['a1 start', 'b1'])
    release()
    await Promise.all([a1, a2])
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2'])
  })

  it('a failed task does not stop the ones after it', async () => {
    const q = accountQueue()
    await expect(q('a', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    await expect(q('a', async () => 'next')).resolves.toBe('next')
  })

  it('takes every signal that arrives during a capture into one next capture', async () => {
    const calls: number[][] = []
    let release: () => void = () => undefined
    let first = true
    const done: string[] = []
    const trigger = triggerOnSignal(
      async (_account, signals): Promise<CaptureResult> => {
        calls.push(signals.map((s) => s.at))
        if (first) {
          first = false
          await new Promise<void>((r) => (release = r))
        }
        return { _tag: 'Captured', events: signals.length }
      },
      (account) => done.push(account),
    )
    trigger('alice', [sig({ kind: 'messageNew', at: 1 })])
    await Promise.resolve()
    trigger('alice', [sig({ kind: 'messageNew', at: 2 })])
    trigger('alice', [sig({ kind: 'messageNew', at: 3 })])
    release()
    while (done.length < 2) await new Promise((r) => setTimeout(r, 1))
    expect(calls).toEqual([[1], [2, 3]])
  })
})

describe('capture from the spool', () => {
  const record = (user: string, line: number): SpoolRecord => ({
    file: '2026120710.jsonl',
    line,
    user,
    service: 'imap',
    ok: true,
    resolutionMs: 1,
    events: [{ name: 'MessageAppend', mailbox: 'INBOX', at: line, uid: line }],
    ignored: [],
  })
  const batch = (records: SpoolRecord[]): SpoolBatch => ({
    records,
    problems: [],
    failures: [],
    position: { files: [{ name: '2026120710.jsonl', offset: records.length * 100, line: records.length }] },
  })
  /** A follower over given batches (our own port, in memory), recording what is committed. */
  const followerOf = (batches: SpoolBatch[]) => {
    const committed: number[] = []
    let stopped = false
    const f: SpoolFollower = {
      checkpointName: 'test',
      startedAt: { files: [] },
      batches: async function* () {
        for (const b of batches) {
          if (stopped) return
          yield b
        }
      },
      commit: async (p) => {
        committed.push(p.files[0]?.line ?? 0)
        return E.right({ deleted: [], failures: [] })
      },
      stop: () => {
        stopped = true
      },
    }
    return { f, committed }
  }
  const options = { note: () => undefined, onFailed: () => undefined }

  it('captures each account a batch names once, then commits the batch', async () => {
    const { f, committed } = followerOf([batch([record('alice', 1), record('bob', 2), record('alice', 3)])])
    const calls: string[] = []
    const r = await captureFromSpool(
      f,
      async (a, s) => {
        calls.push(`${a}:${s.map((x) => x.uid).join(',')}`)
        expect(committed).toEqual([])
        return { _tag: 'Captured', events: 1 }
      },
      options,
    )
    expect(E.isRight(r)).toBe(true)
    expect(calls).toEqual(['alice:1,3', 'bob:2'])
    expect(committed).toEqual([3])
  })

  it('does not commit a batch whose capture failed on the store, nor one stopped before it recorded everything', async () => {
    for (const outcome of [{ _tag: 'Failed', reason: 'disk full', fatal: true }, { _tag: 'Interrupted' }] as CaptureResult[]) {
      const { f, committed } = followerOf([batch([record('alice', 1)]), batch([record('alice', 2)])])
      const r = await captureFromSpool(f, async () => outcome, options)
      expect(committed).toEqual([])
      expect(E.isLeft(r)).toBe(outcome._tag === 'Failed')
    }
  })

  it('hands an account whose capture failed (the server) to the caller, and goes on', async () => {
    const { f, committed } = followerOf([batch([record('alice', 1), record('bob', 2)])])
    const failed: string[] = []
    await captureFromSpool(f, async (a) => (a === 'alice' ? { _tag: 'Failed', reason: 'unreachable', fatal: false } : { _tag: 'Captured', events: 1 }), {
      ...options,
      onFailed: (a) => failed.push(a),
    })
    expect(failed).toEqual(['alice'])
    expect(committed).toEqual([2])
  })
})
