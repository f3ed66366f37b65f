/**
 * The behaviour every restore target adapter must have (the port is `src/restore/target.ts`). Each
 * adapter's test file calls `restoreTargetContract` with a factory that gives a fresh, empty account
 * on a real server (Dovecot, or Cyrus for the IMAP target): the IMAP target writes into it over IMAP, the Maildir target writes the tree
 * that Dovecot then serves. Whatever the adapter, the account is read back as Dovecot serves it, over
 * IMAP: folders, bytes, flags, keywords and INTERNALDATE.
 *
 * The journal here keeps the operations stream's events in memory and derives what earlier runs did
 * with the same functions as `runRestore` (`alreadyRestored`, `pendingIntents`); it can die like a
 * killed process (every call from one point on fails, the intent that was being written kept or
 * not), and ask the target to stop.
 */
import * as E from 'fp-ts/Either'
import type { ImapFlow } from 'imapflow'
import { type AppendIntent, type ItemOutcome, type OperationEvent, alreadyRestored, itemKey, pendingIntents } from '../../domain/operations'
import type { RestoreFolderItem, RestoreItem, RestorePlan } from '../../domain/restore/plan'
import { type BlobStore, fsBlobStore, sha256 } from '../../src/blobs/blobStore'
import type { Journal, MaterializeReport, RestoreTarget, TargetError } from '../../src/restore/target'
import { cleanupTmp, tmpDir } from '../support/tmp'

export interface ServedMessage {
  readonly uid: number
  readonly digest: string
  readonly size: number
  /** System flags, sorted, without `\Recent`. */
  readonly flags: string[]
  /** Keywords, sorted. */
  readonly keywords: string[]
  readonly internalDate: number
}

/** Folder (its names as served, joined by `/`; INBOX is `INBOX`) → its messages in UID order. */
export type Served = Record<string, ServedMessage[]>

export interface TargetFixture {
  readonly target: RestoreTarget
  /** The account the target writes into, empty. */
  readonly account: string
  /** A plain IMAP client logged in for the account on Dovecot (to read it, or to put something in it first). */
  imap(): Promise<ImapFlow>
}

export interface RestoreTargetAdapter {
  readonly name: string
  /** The hierarchy separator of the account as Dovecot serves it (Maildir++: `.`; LAYOUT=fs: `/`). */
  readonly separator: '.' | '/'
  /** Distinct keywords one folder can hold (a Maildir's file names: 26, `a` to `z`); undefined: no limit. */
  readonly keywordsPerFolder?: number
  /** Whether the target refuses a zero-byte message (Dovecot's IMAP does: "Can't save a zero byte message"). */
  readonly refusesEmptyMessages: boolean
  /** The server's words when it refuses a zero-byte message (default: Dovecot's). */
  readonly emptyMessageRefusal?: RegExp
  /** A folder name longer than the target can hold (default: 100 CJK characters, too long for a Maildir directory). */
  readonly tooLongFolderName?: string
  fresh(): Promise<TargetFixture>
}

/** What Dovecot serves of an account: its selectable folders (a parent only implied by its child is not one). */
export const readServed = async (c: ImapFlow): Promise<Served> => {
  const out: Served = {}
  for (const box of await c.list()) {
    if ([...box.flags].some((f) => /^\\(noselect|nonexistent)$/i.test(f))) continue
    const key = box.path.toUpperCase() === 'INBOX' ? 'INBOX' : box.path.split(box.delimiter).join('/')
    const msgs: ServedMessage[] = []
    const lock = await c.getMailboxLock(box.path, { readOnly: true })
    try {
      if ((c.mailbox as { exists: number }).exists > 0)
        for await (const m of c.fetch('1:*', { uid: true, flags: true, internalDate: true, source: true })) {
          const all = [...(m.flags ?? [])]
          const source = m.source ?? Buffer.alloc(0)
          msgs.push({
            uid: m.uid,
            digest: sha256(source),
            size: source.length,
            flags: all.filter((f) => f.startsWith('\\') && f !== '\\Recent').sort(),
            keywords: all.filter((f) => !f.startsWith('\\')).sort(),
            internalDate: new Date(m.internalDate ?? 0).getTime(),
          })
        }
    } finally {
      lock.release()
    }
    out[key] = msgs.sort((a, b) => a.uid - b.uid)
  }
  return out
}

const served = async (fx: TargetFixture): Promise<Served> => {
  const c = await fx.imap()
  try {
    return await readServed(c)
  } finally {
    await c.logout()
  }
}

/** How a test journal fails: as a process killed at that call (an intent being written is kept), or asked to stop. */
export interface JournalScript {
  readonly crash?: { readonly on: 'intent' | 'record'; readonly nth: number }
  /** `stopRequested` answers true once this many messages were recorded restored (0: at once). */
  readonly stopAfterRestored?: number
}

export interface TestJournal extends Journal {
  /** This run's events, as the operations stream would hold them. */
  readonly events: OperationEvent[]
  /** Every outcome this run recorded. */
  readonly outcomes: ItemOutcome[]
  readonly crashed: () => boolean
}

let runs = 0

/** A journal over the events of `earlier` runs of the same restore (key `key`). */
export const testJournal = (key: string, earlier: readonly (readonly OperationEvent[])[], script: JournalScript = {}): TestJournal => {
  const operationId = `op-test-${++runs}`
  const done = alreadyRestored(earlier)
  const events: OperationEvent[] = []
  const outcomes: ItemOutcome[] = []
  const calls = { intent: 0, record: 0 }
  let dead = false
  const die = (why: string): never => {
    dead = true
    throw new Error(`the process died (${why})`)
  }
  return {
    key,
    events,
    outcomes,
    crashed: () => dead,
    doneAt: (account, itemId) => done.get(itemKey(account, itemId)),
    pendingIntents: pendingIntents(earlier),
    intent: async (i: Omit<AppendIntent, 'type' | 'operationId' | 'at'>) => {
      if (dead) die('intent after the crash')
      events.push({ type: 'AppendIntent', operationId, at: Date.now(), ...i })
      if (script.crash?.on === 'intent' && ++calls.intent === script.crash.nth) die(`right after intent ${calls.intent}`)
    },
    record: async (os: readonly ItemOutcome[]) => {
      if (dead) die('record after the crash')
      if (os.length === 0) return
      if (script.crash?.on === 'record' && ++calls.record === script.crash.nth) die(`before record ${calls.record}`)
      events.push({ type: 'ItemsRecorded', operationId, at: Date.now(), items: [...os] })
      for (const o of os) {
        outcomes.push(o)
        if (o.outcome !== 'unrestored') done.set(itemKey(o.account, o.itemId), o.location ?? '')
      }
    },
    stopRequested: async () => script.stopAfterRestored !== undefined && outcomes.filter((o) => o.outcome === 'restored').length >= script.stopAfterRestored,
  }
}

// ---- building plans ------------------------------------------------------------------------------

let nextId = 300

interface MessageSpec {
  readonly folder?: readonly string[]
  readonly flags?: readonly string[]
  readonly tags?: readonly string[]
  readonly internalDate?: number
  readonly body?: string
  /** The exact bytes (otherwise a small message with this subject). */
  readonly bytes?: Buffer
}

const bytesOf = (subject: string, body = 'Hello'): Buffer =>
  Buffer.from(
    `From: Marco <marco@example.org>\r\nTo: alice@example.com\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${nextId}@example.org>\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${body}\r\n`,
  )

/** Items and folder items, with their bytes put in `blobs`. */
export const planOf = (account: string, blobs: BlobStore, messages: readonly (readonly [string, MessageSpec])[], folderItems: readonly (readonly string[])[] = []): RestorePlan => {
  const items: RestoreItem[] = messages.map(([subject, m]) => {
    const bytes = m.bytes ?? bytesOf(subject, m.body)
    const put = blobs.put(bytes)
    if (E.isLeft(put)) throw new Error(`blob store: ${JSON.stringify(put.left)}`)
    return {
      itemId: nextId++ as never,
      itemType: 'message',
      folder: m.folder ?? ['Inbox'],
      flags: [...(m.flags ?? [])],
      tags: [...(m.tags ?? [])],
      internalDate: (m.internalDate ?? Date.UTC(2026, 2, 1, 9, 5, 7)) as never,
      digest: sha256(bytes),
      size: bytes.length,
      subject,
    }
  })
  const fis: RestoreFolderItem[] = folderItems.map((folder) => ({ itemId: nextId++ as never, folder }))
  const keys = new Map<string, string[]>()
  for (const f of [...items.map((i) => i.folder), ...fis.map((f) => f.folder)]) for (let n = 1; n <= f.length; n++) keys.set(JSON.stringify(f.slice(0, n)), f.slice(0, n))
  const folders = [...keys.values()].sort((a, b) => a.length - b.length || (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1))
  return { kind: 'newAccount', sourceAccount: 'source@example.com', targetAccount: account, folders, items, folderItems: fis, unrestorable: [] }
}

const run = async (t: RestoreTarget, plan: RestorePlan, blobs: BlobStore, j: Journal): Promise<E.Either<TargetError, MaterializeReport>> => t.materialize(plan, blobs, j)

const right = <A>(r: E.Either<TargetError, A>): A => {
  if (E.isLeft(r)) throw new Error(`the target failed: ${JSON.stringify(r.left)}`)
  return r.right
}

/** Every message of the account, whatever its folder, by digest. */
const allMessages = (s: Served): (ServedMessage & { folder: string })[] => Object.entries(s).flatMap(([folder, ms]) => ms.map((m) => ({ ...m, folder })))

// ---- the contract --------------------------------------------------------------------------------

export const restoreTargetContract = (adapter: RestoreTargetAdapter): void => {
  describe(`restore target contract: ${adapter.name}`, () => {
    let fx: TargetFixture
    let blobs: BlobStore
    const dot = adapter.separator === '.'
    beforeEach(async () => {
      fx = await adapter.fresh()
      blobs = fsBlobStore(tmpDir('mailtime-contract-blobs-'))
    })
    afterAll(() => cleanupTmp())

    it("creates and subscribes every folder of the plan, nested, empty, non-ASCII, differing only in case, and named with either layout's separator, and reports each name it changed", async () => {
      const plan = planOf(
        fx.account,
        blobs,
        [
          ['Transfer', { folder: ['Überweisungen', 'März 2026'] }],
          ['Research', { folder: ['R&D'] }],
          ['Dotted', { folder: ['a.b'] }],
          ['Slashed', { folder: ['c/d'] }],
          ['Upper', { folder: ['Archive'] }],
          ['Lower', { folder: ['archive'] }],
          ['Parent', { folder: ['..'] }],
        ],
        [['Projects'], ['Projects', 'Alpha'], ['Empty'], ['日本語'], ['Post 📬'], ['Later', 'Someday']],
      )
      const j = testJournal('k-folders', [])
      const report = right(await run(fx.target, plan, blobs, j))
      // A name holding the layout's separator, `/`, or `..` cannot be held as it is (docs/restore.md).
      const dotted = dot ? 'a_b' : 'a.b'
      const parent = dot ? '__' : '_..'
      const s = await served(fx)
      expect(Object.keys(s).sort()).toEqual(
        [
          'INBOX',
          'Überweisungen',
          'Überweisungen/März 2026',
          'R&D',
          dotted,
          'c_d',
          'Archive',
          'archive',
          parent,
          'Projects',
          'Projects/Alpha',
          'Empty',
          '日本語',
          'Post 📬',
          'Later',
          'Later/Someday',
        ].sort(),
      )
      expect(s['Überweisungen/März 2026']).toHaveLength(1)
      expect(s['R&D']).toHaveLength(1)
      expect(s[dotted]).toHaveLength(1)
      expect(s.c_d).toHaveLength(1)
      expect(s[parent]).toHaveLength(1)
      // Names differing only in case are two folders, each with its own message.
      expect([s.Archive?.length, s.archive?.length]).toEqual([1, 1])
      expect([s.Empty, s['Projects/Alpha'], s['Later/Someday']]).toEqual([[], [], []])
      expect(report.renamedFolders.map((r) => `${r.original.join('/')} → ${r.mapped}`).sort()).toEqual([`.. → ${parent}`, 'c/d → c_d', ...(dot ? ['a.b → a_b'] : [])].sort())
      // Subscribed, as many clients show only subscribed folders.
      const c = await fx.imap()
      try {
        const unsubscribed = (await c.list()).filter((b) => b.path.toUpperCase() !== 'INBOX' && b.subscribed !== true).map((b) => b.path)
        expect(unsubscribed).toEqual([])
      } finally {
        await c.logout()
      }
      // Every item is accounted for; each folder item restored where its folder is.
      expect(j.outcomes.filter((o) => o.outcome !== 'restored')).toEqual([])
      expect(j.outcomes.map((o) => o.itemId).sort()).toEqual([...plan.items, ...plan.folderItems].map((i) => i.itemId).sort())
    })

    it('writes every message byte for byte into its folder, with its flags, keywords (as IMAP atoms) and INTERNALDATE', async () => {
      const plan = planOf(fx.account, blobs, [
        ['Seen', { flags: ['\\Seen'], internalDate: Date.UTC(1999, 11, 31, 23, 59, 59) }],
        ['Answered and flagged', { flags: ['\\Answered', '\\Flagged'], tags: ['$Work', 'Review'] }],
        ['Draft', { folder: ['Drafts'], flags: ['\\Draft', '\\Seen'], internalDate: Date.UTC(2026, 0, 15, 8, 0, 1) }],
        ['8-bit', { body: 'Grüße aus Köln — 東京 ✓\r\nLine two', internalDate: Date.UTC(2025, 5, 30, 12, 0, 0) }],
        ['Large', { folder: ['Projects', 'Alpha'], body: 'All work and no play. '.repeat(20_000), tags: ['big'] }],
        // Tags a keyword cannot hold as they are: characters outside an IMAP atom become `_`.
        ['Odd tags', { folder: ['Projects'], tags: ['Work Stuff', 'Priorità', '\\Bad', 'a(b'] }],
      ])
      const j = testJournal('k-bytes', [])
      right(await run(fx.target, plan, blobs, j))
      const s = await served(fx)
      const want = (subject: string) => plan.items.find((i) => i.subject === subject) as RestoreItem
      const expectServed = (folder: string, subject: string, keywords: string[]) => {
        const i = want(subject)
        const m = s[folder]?.find((x) => x.digest === i.digest)
        expect({ subject, folder, found: m !== undefined }).toEqual({ subject, folder, found: true })
        expect({ subject, size: m?.size, flags: m?.flags, keywords: m?.keywords, internalDate: m?.internalDate }).toEqual({
          subject,
          size: i.size,
          flags: [...i.flags].sort(),
          keywords: keywords.sort(),
          internalDate: i.internalDate,
        })
      }
      expectServed('INBOX', 'Seen', [])
      expectServed('INBOX', 'Answered and flagged', ['$Work', 'Review'])
      expectServed('Drafts', 'Draft', [])
      expectServed('INBOX', '8-bit', [])
      expectServed('Projects/Alpha', 'Large', ['big'])
      expectServed('Projects', 'Odd tags', ['Work_Stuff', 'Priorit_', '_Bad', 'a_b'])
      expect(allMessages(s)).toHaveLength(plan.items.length)
      expect(j.outcomes.filter((o) => o.outcome === 'restored')).toHaveLength(plan.items.length)
    })

    it('a re-run of the same restore writes nothing twice: every item is skipped, with the location the first run recorded', async () => {
      const plan = planOf(
        fx.account,
        blobs,
        Array.from({ length: 8 }, (_, n) => [`Again ${n}`, { folder: n % 2 === 0 ? ['Inbox'] : ['Projects', 'Beta'], flags: n % 3 === 0 ? ['\\Seen'] : [] }] as const),
        [['Empty']],
      )
      const first = testJournal('k-again', [])
      right(await run(fx.target, plan, blobs, first))
      const before = await served(fx)
      const second = testJournal('k-again', [first.events])
      right(await run(fx.target, plan, blobs, second))
      expect(await served(fx)).toEqual(before)
      expect(second.outcomes.filter((o) => o.outcome !== 'skipped')).toEqual([])
      const where = new Map(first.outcomes.map((o) => [o.itemId, o.location]))
      expect(second.outcomes.map((o) => [o.itemId, o.location]).sort()).toEqual([...where.entries()].sort())
      expect(second.outcomes).toHaveLength(plan.items.length + plan.folderItems.length)
    })

    it('a restore that died after writing a batch and before recording it resumes without writing anything twice', async () => {
      const plan = planOf(
        fx.account,
        blobs,
        // Two messages with the same bytes: each is its own item, and comes back once each.
        Array.from(
          { length: 14 },
          (_, n) => [`Batch ${n}`, { folder: n < 9 ? ['Inbox'] : ['Projects'], ...(n === 13 && { bytes: bytesOf('Twin') }), ...(n === 12 && { bytes: bytesOf('Twin') }) }] as const,
        ),
      )
      const crashed = testJournal('k-crash', [], { crash: { on: 'record', nth: 1 } })
      const r = await run(fx.target, plan, blobs, crashed)
      expect(crashed.crashed()).toBe(true)
      expect(E.isLeft(r) && r.left._tag).toBe('TargetFailure')
      const partial = allMessages(await served(fx))
      // Something reached the target that the stream does not know about.
      expect(partial.length).toBeGreaterThan(crashed.outcomes.filter((o) => o.outcome === 'restored').length)

      const resumed = testJournal('k-crash', [crashed.events])
      right(await run(fx.target, plan, blobs, resumed))
      const all = allMessages(await served(fx))
      expect(all.map((m) => m.digest).sort()).toEqual(plan.items.map((i) => i.digest).sort())
      // What the crashed run had written is found and skipped, with where it is; the rest is written.
      const outcomes = new Map([...crashed.outcomes, ...resumed.outcomes].map((o) => [o.itemId, o.outcome]))
      expect([...outcomes.keys()].sort()).toEqual(plan.items.map((i) => i.itemId).sort())
      expect(resumed.outcomes.filter((o) => o.outcome === 'skipped').length).toBe(partial.length - crashed.outcomes.filter((o) => o.outcome === 'restored').length)
      expect(resumed.outcomes.filter((o) => o.outcome === 'unrestored')).toEqual([])
      expect(new Set(resumed.outcomes.map((o) => o.location)).size).toBe(resumed.outcomes.length)
    })

    it('a restore that died after announcing a batch and before sending it writes that batch on the re-run', async () => {
      const plan = planOf(
        fx.account,
        blobs,
        Array.from({ length: 7 }, (_, n) => [`Announced ${n}`, {}] as const),
      )
      const crashed = testJournal('k-intent', [], { crash: { on: 'intent', nth: 1 } })
      const r = await run(fx.target, plan, blobs, crashed)
      // A target that announces no batch (Maildir names its files instead) simply finishes.
      if (crashed.crashed()) expect(E.isLeft(r) && r.left._tag).toBe('TargetFailure')
      else right(r)
      const resumed = testJournal('k-intent', [crashed.events])
      right(await run(fx.target, plan, blobs, resumed))
      expect(
        allMessages(await served(fx))
          .map((m) => m.digest)
          .sort(),
      ).toEqual(plan.items.map((i) => i.digest).sort())
      const ids = [...crashed.outcomes, ...resumed.outcomes].filter((o) => o.outcome !== 'unrestored').map((o) => o.itemId)
      expect(new Set(ids)).toEqual(new Set(plan.items.map((i) => i.itemId)))
    })

    it('stops between batches when asked, having recorded every message it wrote; the same restore then finishes it', async () => {
      // More than one batch of any adapter (the Maildir target records every 200 messages).
      const plan = planOf(
        fx.account,
        blobs,
        Array.from({ length: 230 }, (_, n) => [`Stop ${n}`, { folder: n % 2 === 0 ? ['Inbox'] : ['Later'] }] as const),
      )
      const stopped = testJournal('k-stop', [], { stopAfterRestored: 1 })
      const report = right(await run(fx.target, plan, blobs, stopped))
      expect(report.stopped).toBe(true)
      const partial = allMessages(await served(fx))
      expect(partial.length).toBeLessThan(plan.items.length)
      expect(stopped.outcomes.filter((o) => o.outcome === 'restored')).toHaveLength(partial.length)
      const resumed = testJournal('k-stop', [stopped.events])
      expect(right(await run(fx.target, plan, blobs, resumed)).stopped).toBe(false)
      expect(
        allMessages(await served(fx))
          .map((m) => m.digest)
          .sort(),
      ).toEqual(plan.items.map((i) => i.digest).sort())
      expect(resumed.outcomes.filter((o) => o.outcome === 'restored')).toHaveLength(plan.items.length - partial.length)
    })

    it('a folder the target cannot hold does not stop the restore: its items, and those below it, are unrestored with the reason; the others are written', async () => {
      // 100 CJK characters: 267 bytes in modified UTF-7, more than a directory name may have (Dovecot: "Mailbox name too long").
      const long = adapter.tooLongFolderName ?? '長'.repeat(100)
      const plan = planOf(
        fx.account,
        blobs,
        [
          ['Fits', { folder: ['Projects'] }],
          ['Too long', { folder: [long] }],
          ['Below it', { folder: [long, 'Child'] }],
          ['In INBOX', {}],
        ],
        [[long], [long, 'Child', 'Empty'], ['Projects', 'Empty']],
      )
      const j = testJournal('k-refused-folder', [])
      right(await run(fx.target, plan, blobs, j))
      const inLong = new Set([...plan.items, ...plan.folderItems].filter((i) => i.folder[0] === long).map((i) => i.itemId))
      expect(inLong.size).toBe(4)
      const bad = j.outcomes.filter((o) => o.outcome === 'unrestored')
      expect(new Set(bad.map((o) => o.itemId))).toEqual(inLong)
      for (const o of bad) expect(o.reason).toMatch(new RegExp(`^the target cannot hold folder /${long}: .*(too long|ENAMETOOLONG|invalid mailbox name)`, 'i'))
      expect(j.outcomes.filter((o) => o.outcome === 'restored')).toHaveLength(plan.items.length + plan.folderItems.length - inLong.size)
      const s = await served(fx)
      expect(Object.keys(s).sort()).toEqual(['INBOX', 'Projects', 'Projects/Empty'])
      expect(
        allMessages(s)
          .map((m) => m.digest)
          .sort(),
      ).toEqual(
        plan.items
          .filter((i) => !inLong.has(i.itemId))
          .map((i) => i.digest)
          .sort(),
      )
    })

    it('a message whose bytes are missing from the blob store is unrestored, naming the blob; the others are written', async () => {
      const plan = planOf(
        fx.account,
        blobs,
        Array.from({ length: 5 }, (_, n) => [`Blob ${n}`, {}] as const),
      )
      const lost = plan.items[2] as RestoreItem
      expect(E.isRight(blobs.remove(lost.digest))).toBe(true)
      const j = testJournal('k-blob', [])
      right(await run(fx.target, plan, blobs, j))
      const bad = j.outcomes.filter((o) => o.outcome === 'unrestored')
      expect(bad.map((o) => o.itemId)).toEqual([lost.itemId])
      expect(bad[0]?.reason).toContain(lost.digest)
      expect(
        allMessages(await served(fx))
          .map((m) => m.digest)
          .sort(),
      ).toEqual(
        plan.items
          .filter((i) => i !== lost)
          .map((i) => i.digest)
          .sort(),
      )
    })

    it('adds to an account that already holds folders and messages, touching nothing of them; a parent folder only implied by its child becomes a folder', async () => {
      const c = await fx.imap()
      const sep = adapter.separator
      try {
        await c.mailboxCreate(['Projects', 'Alpha'].join(sep))
        await c.append('INBOX', bytesOf('Already here'), ['\\Seen', '$Mine'], new Date('2026-02-01T10:00:00Z'))
        await c.append(['Projects', 'Alpha'].join(sep), bytesOf('Filed earlier'), [], new Date('2026-02-02T10:00:00Z'))
      } finally {
        await c.logout()
      }
      const before = await served(fx)
      const plan = planOf(fx.account, blobs, [
        ['Restored here', { folder: ['Projects', 'Alpha'], tags: ['$Work'] }],
        ['Restored in INBOX', { tags: ['Other'] }],
        ['Restored in the parent', { folder: ['Projects'] }],
      ])
      const j = testJournal('k-existing', [])
      right(await run(fx.target, plan, blobs, j))
      const after = await served(fx)
      for (const [folder, ms] of Object.entries(before)) for (const m of ms) expect(after[folder]).toContainEqual(m)
      expect(after['Projects/Alpha']?.map((m) => m.keywords)).toEqual([[], ['$Work']])
      expect(after.INBOX?.map((m) => m.keywords)).toEqual([['$Mine'], ['Other']])
      expect(after.Projects).toHaveLength(1)
      expect(allMessages(after)).toHaveLength(5)
      expect(j.outcomes.filter((o) => o.outcome !== 'restored')).toEqual([])
    })

    it(
      adapter.refusesEmptyMessages ? 'a message the target refuses is unrestored with its words, and the rest of its batch is written' : 'an empty message is written as it is',
      async () => {
        const plan = planOf(fx.account, blobs, [
          ['Before', {}],
          ['Empty', { bytes: Buffer.alloc(0) }],
          ['After', {}],
        ])
        const empty = plan.items[1] as RestoreItem
        const j = testJournal('k-refused', [])
        right(await run(fx.target, plan, blobs, j))
        const s = allMessages(await served(fx))
        if (adapter.refusesEmptyMessages) {
          expect(j.outcomes.filter((o) => o.outcome === 'unrestored').map((o) => [o.itemId, o.reason])).toEqual([
            [empty.itemId, expect.stringMatching(adapter.emptyMessageRefusal ?? /refused.*zero byte/)],
          ])
          expect(s.map((m) => m.digest).sort()).toEqual(
            plan.items
              .filter((i) => i !== empty)
              .map((i) => i.digest)
              .sort(),
          )
        } else {
          expect(j.outcomes.filter((o) => o.outcome !== 'restored')).toEqual([])
          expect(s.map((m) => m.digest).sort()).toEqual(plan.items.map((i) => i.digest).sort())
        }
      },
    )

    it('keeps every keyword of a folder up to the limit the adapter documents, and reports the keywords beyond it', async () => {
      const tags = Array.from({ length: 30 }, (_, n) => `tag${String(n).padStart(2, '0')}`)
      const plan = planOf(
        fx.account,
        blobs,
        tags.map((t) => [`Tagged ${t}`, { folder: ['Tagged'], tags: [t, 'common'] }] as const),
      )
      const j = testJournal('k-keywords', [])
      const report = right(await run(fx.target, plan, blobs, j))
      const s = await served(fx)
      expect(s.Tagged).toHaveLength(tags.length)
      expect(j.outcomes.filter((o) => o.outcome !== 'restored')).toEqual([])
      const limit = adapter.keywordsPerFolder
      const kept = (s.Tagged ?? []).map((m) => m.keywords.join(','))
      if (limit === undefined) {
        expect(kept.sort()).toEqual(tags.map((t) => `common,${t}`).sort())
        expect(report.warnings).toEqual([])
      } else {
        // The first `limit` distinct keywords of the folder are kept (`common` and tag00…tag24 here); each
        // message that lost one is named in a warning, with what it lost.
        const fits = new Set(['common', ...tags.slice(0, limit - 1)])
        expect(kept.sort()).toEqual(tags.map((t) => (fits.has(t) ? `common,${t}` : 'common')).sort())
        const lost = plan.items.filter((i) => !fits.has(i.tags[0] ?? ''))
        expect(lost).toHaveLength(tags.length - (limit - 1))
        expect(report.warnings).toHaveLength(1)
        for (const i of lost) expect(report.warnings[0]).toContain(`${i.itemId}`)
        expect(report.warnings[0]).toContain(`at most ${limit} keywords`)
      }
    })
  })
}
