/**
 * The rewind plan against an oracle that shares none of its code: random histories of an account
 * (an attacker moves, flags, tags, deletes, renames, creates and deletes folders; new mail arrives;
 * a restore writes a copy back), a plan from the state at the instant and the state now, the plan
 * applied to a model of an IMAP server that knows folders only by path (as a server does) and refuses
 * any action that does not fit it, and the result compared with the state at the instant plus the
 * mail that arrived since.
 */
import fc from 'fast-check'
import { type RewindFolder, type RewindMessage, type RewindPlan, type Snapshot, planRewind } from '../../domain/rewind/plan'

interface Folder {
  id: number
  parent: number
  name: string
}
interface Msg {
  id: number
  folder: number
  digest: string
  flags: string[]
  tags: string[]
}
interface Model {
  folders: Folder[]
  msgs: Msg[]
  nextId: number
}

const SYSTEM = [
  { id: 2, parent: 1, name: 'Inbox' },
  { id: 3, parent: 1, name: 'Trash' },
]
const NAMES = ['A', 'B', 'C', 'D']
const FLAGS = ['\\Seen', '\\Flagged', '\\Answered']
const TAGS = ['work', 'home']

const clone = (m: Model): Model => ({ folders: m.folders.map((f) => ({ ...f })), msgs: m.msgs.map((x) => ({ ...x, flags: [...x.flags], tags: [...x.tags] })), nextId: m.nextId })
const pathOf = (folders: readonly Folder[], id: number): string[] => {
  const out: string[] = []
  for (let f = folders.find((x) => x.id === id); f !== undefined; f = folders.find((x) => x.id === f?.parent)) out.unshift(f.name)
  return out
}
const isSystem = (id: number) => id <= 20
const descendants = (folders: readonly Folder[], id: number): number[] => folders.filter((f) => f.parent === id).flatMap((f) => [f.id, ...descendants(folders, f.id)])
const nameFree = (folders: readonly Folder[], parent: number, name: string) => !folders.some((f) => f.parent === parent && f.name === name)

/** One random change, driven by the numbers `r` (so that fast-check can shrink histories). */
const step = (m: Model, r: readonly number[], phase: 'before' | 'after'): void => {
  const pick = <T>(xs: readonly T[], k: number): T | undefined => (xs.length === 0 ? undefined : xs[(r[k] ?? 0) % xs.length])
  const userFolders = m.folders.filter((f) => !isSystem(f.id))
  const kind = (r[0] ?? 0) % 9
  switch (kind) {
    case 0: // deliver (a few digests only, so that copies of the same bytes occur)
    case 1: {
      const f = pick(m.folders, 1)
      if (f !== undefined) m.msgs.push({ id: m.nextId++, folder: f.id, digest: `d${(r[2] ?? 0) % 12}`, flags: [], tags: [] })
      return
    }
    case 2: {
      const x = pick(m.msgs, 1)
      const f = pick(m.folders, 2)
      if (x !== undefined && f !== undefined) x.folder = f.id
      return
    }
    case 3: {
      const x = pick(m.msgs, 1)
      if (x !== undefined) x.flags = FLAGS.filter((_, i) => ((r[2] ?? 0) >> i) & 1)
      return
    }
    case 4: {
      const x = pick(m.msgs, 1)
      if (x !== undefined) x.tags = TAGS.filter((_, i) => ((r[2] ?? 0) >> i) & 1)
      return
    }
    case 5: {
      const x = pick(m.msgs, 1)
      if (x !== undefined) m.msgs = m.msgs.filter((y) => y !== x)
      return
    }
    case 6: {
      // create a folder
      const parent = pick([{ id: 1 }, ...userFolders], 1)
      const name = pick(NAMES, 2) as string
      if (parent !== undefined && nameFree(m.folders, parent.id, name) && pathOf(m.folders, parent.id).length < 3) m.folders.push({ id: m.nextId++, parent: parent.id, name })
      return
    }
    case 7: {
      // rename or move a folder (never under itself; never onto a name its new siblings hold)
      const f = pick(userFolders, 1)
      if (f === undefined) return
      const below = new Set([f.id, ...descendants(m.folders, f.id)])
      const parent = pick([{ id: 1 }, ...userFolders.filter((x) => !below.has(x.id))], 2) as { id: number }
      const name = phase === 'after' ? `${pick(NAMES, 3) as string}${(r[4] ?? 0) % 2 === 0 ? '' : '2'}` : (pick(NAMES, 3) as string)
      if (nameFree(m.folders, parent.id, name)) {
        f.parent = parent.id
        f.name = name
      }
      return
    }
    case 8: {
      // delete a folder with everything in and below it (as IMAP DELETE of each, leaves first)
      const f = pick(userFolders, 1)
      if (f === undefined) return
      const gone = new Set([f.id, ...descendants(m.folders, f.id)])
      m.folders = m.folders.filter((x) => !gone.has(x.id))
      m.msgs = m.msgs.filter((x) => !gone.has(x.folder))
      return
    }
  }
}

const snapshot = (m: Model, withLocations: boolean): Snapshot => ({
  folders: m.folders.map((f): RewindFolder => ({ folderId: f.id, parentId: f.parent, name: f.name, system: isSystem(f.id) })),
  messages: m.msgs.map(
    (x): RewindMessage => ({
      itemId: x.id,
      folderId: x.folder,
      flags: x.flags,
      tags: x.tags,
      digest: x.digest,
      size: 1,
      ...(withLocations && { location: { mailbox: pathOf(m.folders, x.folder).join('/'), uidValidity: 1, uid: x.id } }),
    }),
  ),
})

/** A server as IMAP shows it: folders by path, messages by UID; it refuses what a server would. */
interface Server {
  folders: Map<string, number | undefined>
  msgs: Map<number, { path: string[]; digest: string; flags: string[]; tags: string[] }>
  nextUid: number
}
const k = (p: readonly string[]) => JSON.stringify(p)
const apply = (s: Server, plan: RewindPlan): void => {
  const need = (ok: boolean, what: string) => {
    if (!ok) throw new Error(`the server refuses: ${what}`)
  }
  const parentExists = (p: readonly string[]) => p.length === 1 || s.folders.has(k(p.slice(0, -1)))
  for (const a of plan.actions) {
    switch (a.kind) {
      case 'renameBack': {
        need(s.folders.has(k(a.from)) && !s.folders.has(k(a.to)) && parentExists(a.to), `RENAME ${k(a.from)} ${k(a.to)}`)
        const moved = (p: readonly string[]) => (p.length >= a.from.length && k(p.slice(0, a.from.length)) === k(a.from) ? [...a.to, ...p.slice(a.from.length)] : [...p])
        s.folders = new Map([...s.folders].map(([p, id]) => [k(moved(JSON.parse(p) as string[])), id]))
        for (const m of s.msgs.values()) m.path = moved(m.path)
        break
      }
      case 'recreateFolder':
      case 'createKeepFolder':
        need(!s.folders.has(k(a.path)) && parentExists(a.path), `CREATE ${k(a.path)}`)
        s.folders.set(k(a.path), undefined)
        break
      case 'moveBack':
      case 'keepAside': {
        const m = s.msgs.get(a.location.uid)
        need(m !== undefined && k(m.path) === k(a.from) && s.folders.has(k(a.to)), `MOVE ${a.location.uid} from ${k(a.from)} to ${k(a.to)}`)
        if (m !== undefined) m.path = [...a.to]
        break
      }
      case 'reflag': {
        const m = s.msgs.get(a.itemId)
        need(m !== undefined && k(m.path) === k(a.folder), `STORE ${a.itemId} in ${k(a.folder)}`)
        if (m !== undefined) {
          m.flags = [...a.flags]
          m.tags = [...a.tags]
        }
        break
      }
      case 'comeBack':
        need(s.folders.has(k(a.folder)), `APPEND to ${k(a.folder)}`)
        s.msgs.set(s.nextUid++, { path: [...a.folder], digest: a.digest, flags: [...a.flags], tags: [...a.tags] })
        break
      case 'removeFolder':
        need(
          s.folders.has(k(a.path)) &&
            ![...s.msgs.values()].some((m) => k(m.path) === k(a.path)) &&
            ![...s.folders.keys()].some((p) => p !== k(a.path) && p.startsWith(k(a.path).slice(0, -1) + ',')),
          `DELETE ${k(a.path)} (it must be empty)`,
        )
        s.folders.delete(k(a.path))
        break
    }
  }
}

const sortKey = (x: { path: readonly string[]; digest: string; flags: readonly string[]; tags: readonly string[] }) =>
  JSON.stringify([x.path, x.digest, [...x.flags].sort(), [...x.tags].sort()])

const history = fc.record({
  before: fc.array(fc.array(fc.nat(50), { minLength: 5, maxLength: 5 }), { minLength: 3, maxLength: 30 }),
  after: fc.array(fc.array(fc.nat(50), { minLength: 5, maxLength: 5 }), { minLength: 0, maxLength: 30 }),
  keep: fc.boolean(),
  remove: fc.boolean(),
})

describe('rewind plan against an oracle', () => {
  it('applied to a server, any history ends as it was at the instant plus what arrived since, and no later mail is lost', () => {
    let checked = 0
    fc.assert(
      fc.property(history, ({ before, after, keep, remove }) => {
        const m: Model = { folders: SYSTEM.map((f) => ({ ...f })), msgs: [], nextId: 256 }
        for (const r of before) step(m, r, 'before')
        const then = clone(m)
        for (const r of after) step(m, r, 'after')
        const keepAfter = keep ? ['rewind_kept'] : undefined
        if (keepAfter !== undefined && m.folders.some((f) => f.parent === 1 && f.name === 'rewind_kept')) return
        const plan = planRewind(snapshot(then, false), snapshot(m, true), { ...(keepAfter !== undefined && { keepAfter }), removeNewFolders: remove })
        // A rename back onto a name another folder took is reported, not done: then the oracle does not apply.
        if (plan.unachievable.length > 0) {
          expect(plan.unachievable.every((u) => u.what === 'folder' && /another folder has that name|parent folder could not/.test(u.reason))).toBe(true)
          return
        }
        checked++
        const server: Server = {
          folders: new Map(m.folders.map((f) => [k(pathOf(m.folders, f.id)), f.id])),
          msgs: new Map(m.msgs.map((x) => [x.id, { path: pathOf(m.folders, x.folder), digest: x.digest, flags: [...x.flags], tags: [...x.tags] }])),
          nextUid: 100000,
        }
        apply(server, plan)

        // The oracle. Every message of the instant is in its folder of the instant, as it was then.
        const result = [...server.msgs.values()]
        const left = new Map<string, number>()
        for (const x of result) left.set(sortKey(x), (left.get(sortKey(x)) ?? 0) + 1)
        const take = (key: string) => {
          const n = left.get(key) ?? 0
          expect({ key, present: n > 0 }).toEqual({ key, present: true })
          left.set(key, n - 1)
        }
        for (const x of then.msgs) take(sortKey({ path: pathOf(then.folders, x.folder), digest: x.digest, flags: x.flags, tags: x.tags }))
        // What is left is later mail: per digest, the later messages beyond the copies that stand for
        // messages of the instant gone since; each as it was, kept aside or where it was.
        const thenIds = new Set(then.msgs.map((x) => x.id))
        const nowIds = new Set(m.msgs.map((x) => x.id))
        const later = m.msgs.filter((x) => !thenIds.has(x.id))
        const count = (xs: readonly { digest: string }[], d: string) => xs.filter((x) => x.digest === d).length
        const rest = [...left].flatMap(([key, n]) => Array.from({ length: n }, () => JSON.parse(key) as [string[], string, string[], string[]]))
        for (const d of new Set([...later.map((x) => x.digest), ...rest.map((x) => x[1])])) {
          const gone = count(
            then.msgs.filter((x) => !nowIds.has(x.id)),
            d,
          )
          expect({ d, kept: rest.filter((x) => x[1] === d).length }).toEqual({ d, kept: Math.max(0, count(later, d) - gone) })
          // No later mail is lost: the account holds at least as many copies of its bytes as arrived.
          expect(result.filter((x) => x.digest === d).length).toBeGreaterThanOrEqual(count(later, d))
        }
        for (const [path, digest, flags, tags] of rest) {
          const own = later.filter((x) => x.digest === digest && sortKey({ path: [], digest, flags: x.flags, tags: x.tags }) === sortKey({ path: [], digest, flags, tags }))
          expect(own.length).toBeGreaterThan(0)
          if (keepAfter !== undefined) expect(path).toEqual(keepAfter)
        }
        // Every folder of the instant is there, at its path of the instant.
        for (const f of then.folders) if (!isSystem(f.id)) expect(server.folders.has(k(pathOf(then.folders, f.id)))).toBe(true)
        // Folders created since: all kept unless removal was asked; then only those that end empty go.
        const thenFolderIds = new Set(then.folders.map((f) => f.id))
        const survivors = new Set([...server.folders.values()].filter((id): id is number => id !== undefined))
        for (const f of m.folders) if (thenFolderIds.has(f.id) || !remove) expect(survivors.has(f.id)).toBe(true)
        // (A folder created since at the path of a folder of the instant now gone stands for it.)
        const thenPaths = new Set(then.folders.map((f) => k(pathOf(then.folders, f.id))))
        if (remove)
          for (const [p, id] of server.folders) {
            if (id === undefined || thenFolderIds.has(id) || isSystem(id) || thenPaths.has(p)) continue
            const holds = result.some((x) => k(x.path).startsWith(p.slice(0, -1))) || [...server.folders.keys()].some((q) => q !== p && q.startsWith(p.slice(0, -1) + ','))
            expect({ folder: p, emptyAndLeft: !holds }).toEqual({ folder: p, emptyAndLeft: false })
          }
        // The plan's own expectation agrees with the oracle.
        expect(
          plan.expected.messages
            .map((x) => sortKey({ path: x.folder.map((s, i) => (i === 0 && s === 'Inbox' ? 'Inbox' : s)), digest: x.digest, flags: x.flags, tags: x.tags }))
            .sort(),
        ).toEqual(result.map(sortKey).sort())
      }),
      { numRuns: 500 },
    )
    // Most histories must reach the oracle, or the property says little.
    expect(checked).toBeGreaterThan(300)
  })
})
