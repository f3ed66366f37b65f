/**
 * A rewind plan: what to do to a live account so that it is again as it was at an instant, without
 * losing what arrived since. Pure: from the account as it was at the instant (`then`), as a fresh
 * capture finds it now (`now`) and the user's choices, the actions grouped as the admin reads them
 * (come back, move back, re-flag, rename back, recreate folder, keep aside, remove folder), in the
 * order they must run, and the state the account must be in once they have run.
 *
 * Guarantees:
 * 1. No action deletes a message. A message that was not in the account at the instant (it arrived,
 *    or was restored, since) stays where it is or moves to the keep-aside folder; nothing else.
 * 2. A folder created since is removed only when the user asked for it and nothing ends in it (no
 *    message, no folder below it), so a folder that holds mail from after the instant is never removed.
 * 3. Messages are the same message when they are the same item; a message gone since is matched to
 *    a later one with the same bytes (a copy a restore or an earlier, interrupted rewind wrote), so
 *    that a re-run moves it rather than writing it a second time.
 * 4. Folders are renamed back parents first and recreated parents first, so every path an action
 *    names exists when it runs; a rename back onto a path another folder holds is not attempted and
 *    is reported, as are messages whose bytes were never captured.
 */

/** A folder of a snapshot; top-level folders have `parentId` 0 (or the user root, 1, or ROOT, 11). */
export interface RewindFolder {
  readonly folderId: number
  readonly parentId: number
  readonly name: string
  /** System folders (Inbox, Trash, …) are never renamed, recreated or removed. */
  readonly system: boolean
}

/** Where the capture found a message on the server. */
export interface ServerLocation {
  readonly mailbox: string
  readonly uidValidity: number
  readonly uid: number
}

export interface RewindMessage {
  readonly itemId: number
  readonly folderId: number
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  /** Undefined when its bytes were never captured (known from a log line only). */
  readonly digest?: string
  readonly size?: number
  readonly internalDate?: number
  readonly subject?: string
  /** Set in the current snapshot (the capture saw it there); unused in the one at the instant. */
  readonly location?: ServerLocation
}

export interface Snapshot {
  readonly folders: readonly RewindFolder[]
  readonly messages: readonly RewindMessage[]
}

export interface RewindOptions {
  /** Where mail that arrived after the instant goes; undefined: it stays where it is. */
  readonly keepAfter?: readonly string[]
  /** Remove the folders created since that end up empty (default: leave them). */
  readonly removeNewFolders?: boolean
}

export type Path = readonly string[]

export type RewindAction =
  | { readonly kind: 'renameBack'; readonly folderId: number; readonly from: Path; readonly to: Path }
  | { readonly kind: 'recreateFolder'; readonly folderId: number; readonly path: Path }
  | { readonly kind: 'createKeepFolder'; readonly path: Path }
  | {
      readonly kind: 'moveBack' | 'keepAside'
      /** The message as it is now (a move back of a copy names the copy; `ofItem` the item it stands for). */
      readonly itemId: number
      readonly ofItem: number
      /** The folder it is in when the action runs (after the renames). */
      readonly from: Path
      readonly location: ServerLocation
      readonly to: Path
      readonly digest?: string
      readonly subject?: string
    }
  | {
      readonly kind: 'reflag'
      readonly itemId: number
      readonly ofItem: number
      /** The folder it is in when the action runs (after the moves). */
      readonly folder: Path
      readonly fromFlags: readonly string[]
      readonly fromTags: readonly string[]
      /** Where the capture saw it (before the renames and moves of the plan). */
      readonly location?: ServerLocation
      readonly flags: readonly string[]
      readonly tags: readonly string[]
      readonly subject?: string
    }
  | {
      readonly kind: 'comeBack'
      readonly itemId: number
      readonly folder: Path
      readonly flags: readonly string[]
      readonly tags: readonly string[]
      readonly digest: string
      readonly size: number
      readonly internalDate?: number
      readonly subject?: string
    }
  | { readonly kind: 'removeFolder'; readonly folderId: number; readonly path: Path }

export type RewindActionKind = RewindAction['kind']

/** The groups a preview shows, in this order, with the action kinds each holds. */
export const ACTION_GROUPS: readonly { readonly group: string; readonly kinds: readonly RewindActionKind[] }[] = [
  { group: 'rename back', kinds: ['renameBack'] },
  { group: 'recreate folder', kinds: ['recreateFolder'] },
  { group: 'move back', kinds: ['moveBack'] },
  { group: 'come back', kinds: ['comeBack'] },
  { group: 're-flag', kinds: ['reflag'] },
  { group: 'keep aside', kinds: ['createKeepFolder', 'keepAside'] },
  { group: 'remove folder', kinds: ['removeFolder'] },
]

/** Something the rewind cannot put back, and why. */
export interface Unachievable {
  readonly itemId: number
  readonly what: 'message' | 'folder'
  readonly reason: string
}

/** A message as the account must hold it once the plan has run. */
export interface ExpectedMessage {
  /** The item at the instant, or the later message kept. */
  readonly itemId: number
  readonly folder: Path
  /** Its bytes' digest, or `item:<id>` for a message whose bytes were never captured. */
  readonly digest: string
  readonly flags: readonly string[]
  readonly tags: readonly string[]
  readonly later: boolean
}

export interface ExpectedState {
  readonly folders: readonly Path[]
  readonly messages: readonly ExpectedMessage[]
}

export interface RewindPlan {
  /** In the order they run. */
  readonly actions: readonly RewindAction[]
  readonly unachievable: readonly Unachievable[]
  /** Later messages left where they are (no keep-aside folder, or already in it). */
  readonly keptInPlace: number
  /** Folders created since that stay. */
  readonly foldersLeft: readonly Path[]
  readonly expected: ExpectedState
}

const ROOTS = new Set([0, 1, 11])
const sortedSet = (xs: readonly string[]): string[] => [...new Set(xs)].sort()
const sameSet = (a: readonly string[], b: readonly string[]): boolean => JSON.stringify(sortedSet(a)) === JSON.stringify(sortedSet(b))
const keyOf = (p: Path): string => JSON.stringify(p.map((s, i) => (i === 0 && s.toLowerCase() === 'inbox' ? 'INBOX' : s)))
export const samePath = (a: Path, b: Path): boolean => keyOf(a) === keyOf(b)
export const digestKey = (m: { readonly itemId: number; readonly digest?: string }): string => m.digest ?? `item:${m.itemId}`

type Shape = { parentId: number; name: string; system: boolean }

/** Paths of a mutable set of folders (parent chain; a cycle or a missing parent ends at the top). */
const pathsOf = (folders: ReadonlyMap<number, Shape>) => {
  const pathOf = (id: number): string[] => {
    const out: string[] = []
    const seen = new Set<number>()
    for (let f = id; !ROOTS.has(f) && !seen.has(f); ) {
      seen.add(f)
      const s = folders.get(f)
      if (s === undefined) break
      out.unshift(s.name)
      f = s.parentId
    }
    return out
  }
  return pathOf
}

const isUnder = (p: Path, top: Path): boolean => p.length > top.length && samePath(p.slice(0, top.length), top)

export const planRewind = (then: Snapshot, now: Snapshot, options: RewindOptions = {}): RewindPlan => {
  const thenFolders = new Map<number, Shape>(then.folders.map((f) => [f.folderId, { parentId: f.parentId, name: f.name, system: f.system }]))
  const cur = new Map<number, Shape>(now.folders.map((f) => [f.folderId, { parentId: f.parentId, name: f.name, system: f.system }]))
  const thenPath = pathsOf(thenFolders)
  const curPath = pathsOf(cur)
  const actions: RewindAction[] = []
  const unachievable: Unachievable[] = []
  // The folder now holding a then-folder's place when the then-folder is gone and a new one took its path.
  const adopted = new Map<number, number>()
  const occupant = (path: Path, except: number): number | undefined => [...cur.keys()].find((id) => id !== except && samePath(curPath(id), path))

  // Folders: renamed back or recreated, parents first, so that each path exists when it is used.
  const folderOrder = [...thenFolders.entries()]
    .filter(([, s]) => !s.system)
    .map(([id]) => ({ id, path: thenPath(id) }))
    .sort((a, b) => a.path.length - b.path.length || (keyOf(a.path) < keyOf(b.path) ? -1 : 1) || a.id - b.id)
  const failedFolders = new Set<number>()
  for (const { id, path } of folderOrder) {
    const t = thenFolders.get(id) as Shape
    const parentInPlace = ROOTS.has(t.parentId) || !thenFolders.has(t.parentId) ? 0 : (adopted.get(t.parentId) ?? t.parentId)
    if (parentInPlace !== 0 && failedFolders.has(t.parentId)) {
      failedFolders.add(id)
      unachievable.push({ itemId: id, what: 'folder', reason: `/${path.join('/')}: its parent folder could not be put back` })
      continue
    }
    const there = cur.get(id)
    if (there !== undefined) {
      const from = curPath(id)
      if (samePath(from, path)) continue
      const taken = occupant(path, id)
      if (taken !== undefined) {
        failedFolders.add(id)
        unachievable.push({ itemId: id, what: 'folder', reason: `/${from.join('/')} cannot be renamed back to /${path.join('/')}: another folder has that name now` })
        continue
      }
      actions.push({ kind: 'renameBack', folderId: id, from, to: path })
      cur.set(id, { parentId: parentInPlace, name: t.name, system: false })
      continue
    }
    const taken = occupant(path, id)
    if (taken !== undefined && !thenFolders.has(taken)) {
      adopted.set(id, taken)
      continue
    }
    if (taken !== undefined) {
      failedFolders.add(id)
      unachievable.push({ itemId: id, what: 'folder', reason: `/${path.join('/')} cannot be recreated: another folder has that name now` })
      continue
    }
    actions.push({ kind: 'recreateFolder', folderId: id, path })
    cur.set(id, { parentId: parentInPlace, name: t.name, system: false })
  }
  /** Where a then-folder is once the folders are back (its own path, or the folder adopted for it). */
  const placeOf = (thenFolderId: number): Path => {
    const a = adopted.get(thenFolderId)
    if (a !== undefined) return curPath(a)
    if (cur.has(thenFolderId)) return curPath(thenFolderId)
    return thenPath(thenFolderId).length > 0 ? thenPath(thenFolderId) : [`unknown_${thenFolderId}`]
  }

  // Messages: the same item, else the same bytes among the messages the instant did not have.
  const nowById = new Map(now.messages.map((m) => [m.itemId, m]))
  const matched = new Map<number, RewindMessage>()
  const taken = new Set<number>()
  for (const t of then.messages) {
    const n = nowById.get(t.itemId)
    if (n !== undefined) {
      matched.set(t.itemId, n)
      taken.add(n.itemId)
    }
  }
  const thenIds = new Set(then.messages.map((m) => m.itemId))
  const spare = new Map<string, RewindMessage[]>()
  for (const n of now.messages) if (!thenIds.has(n.itemId) && n.digest !== undefined) spare.set(n.digest, [...(spare.get(n.digest) ?? []), n])
  for (const t of then.messages) {
    if (matched.has(t.itemId) || t.digest === undefined) continue
    const pool = spare.get(t.digest) ?? []
    // Prefer a copy already in the folder the item goes back to.
    const i = Math.max(
      0,
      pool.findIndex((n) => samePath(curPath(n.folderId), placeOf(t.folderId))),
    )
    const n = pool.splice(i, 1)[0]
    if (n !== undefined) {
      matched.set(t.itemId, n)
      taken.add(n.itemId)
    }
  }

  const keepAfter = options.keepAfter
  const keepExists = keepAfter === undefined || [...cur.keys()].some((id) => samePath(curPath(id), keepAfter))
  const moves: RewindAction[] = []
  const keeps: RewindAction[] = []
  const reflags: RewindAction[] = []
  const comeBacks: RewindAction[] = []
  const expected: ExpectedMessage[] = []
  /** Messages that end in each folder path (by key): what decides whether a new folder may go. */
  const endsIn = new Set<string>()
  for (const t of then.messages) {
    const to = placeOf(t.folderId)
    const n = matched.get(t.itemId)
    if (n === undefined) {
      if (t.digest === undefined) {
        unachievable.push({ itemId: t.itemId, what: 'message', reason: 'it is gone and its content was never captured (known only from a log line)' })
        continue
      }
      comeBacks.push({
        kind: 'comeBack',
        itemId: t.itemId,
        folder: to,
        flags: sortedSet(t.flags),
        tags: sortedSet(t.tags),
        digest: t.digest,
        size: t.size ?? 0,
        ...(t.internalDate !== undefined && { internalDate: t.internalDate }),
        ...(t.subject !== undefined && { subject: t.subject }),
      })
    } else {
      const from = curPath(n.folderId)
      let at: Path = from
      if (!samePath(from, to)) {
        if (n.location === undefined) {
          unachievable.push({ itemId: t.itemId, what: 'message', reason: `it is in /${from.join('/')} and the capture did not record where on the server` })
          endsIn.add(keyOf(from))
          continue
        }
        moves.push({
          kind: 'moveBack',
          itemId: n.itemId,
          ofItem: t.itemId,
          from,
          location: n.location,
          to,
          ...(n.digest !== undefined && { digest: n.digest }),
          ...((t.subject ?? n.subject) !== undefined && { subject: t.subject ?? n.subject }),
        })
        at = to
      }
      if (!sameSet(n.flags, t.flags) || !sameSet(n.tags, t.tags))
        reflags.push({
          kind: 'reflag',
          itemId: n.itemId,
          ofItem: t.itemId,
          folder: at,
          fromFlags: sortedSet(n.flags),
          fromTags: sortedSet(n.tags),
          ...(n.location !== undefined && { location: n.location }),
          flags: sortedSet(t.flags),
          tags: sortedSet(t.tags),
          ...((t.subject ?? n.subject) !== undefined && { subject: t.subject ?? n.subject }),
        })
    }
    endsIn.add(keyOf(to))
    expected.push({ itemId: t.itemId, folder: to, digest: digestKey(t), flags: sortedSet(t.flags), tags: sortedSet(t.tags), later: false })
  }
  let keptInPlace = 0
  for (const n of now.messages) {
    if (taken.has(n.itemId)) continue
    const from = curPath(n.folderId)
    let to: Path = from
    if (keepAfter === undefined || samePath(from, keepAfter)) keptInPlace++
    else if (n.location === undefined) {
      keptInPlace++
      unachievable.push({
        itemId: n.itemId,
        what: 'message',
        reason: `it arrived after the instant and stays in /${from.join('/')}: the capture did not record where on the server`,
      })
    } else {
      keeps.push({
        kind: 'keepAside',
        itemId: n.itemId,
        ofItem: n.itemId,
        from,
        location: n.location,
        to: keepAfter,
        ...(n.digest !== undefined && { digest: n.digest }),
        ...(n.subject !== undefined && { subject: n.subject }),
      })
      to = keepAfter
    }
    endsIn.add(keyOf(to))
    expected.push({ itemId: n.itemId, folder: to, digest: digestKey(n), flags: sortedSet(n.flags), tags: sortedSet(n.tags), later: true })
  }

  // Folders created since: removed (deepest first) only when asked and when nothing ends in them or below them.
  const thenIds2 = new Set(thenFolders.keys())
  const adoptedIds = new Set(adopted.values())
  const created = [...cur.entries()].filter(([id, s]) => !thenIds2.has(id) && !adoptedIds.has(id) && !s.system).map(([id]) => ({ id, path: curPath(id) }))
  const finalFolders = [...cur.keys()].map((id) => curPath(id))
  if (!keepExists && keepAfter !== undefined) finalFolders.push([...keepAfter])
  const removals: RewindAction[] = []
  const removed = new Set<string>()
  if (options.removeNewFolders === true) {
    const busy = (p: Path): boolean =>
      [...endsIn].some((k) => k === keyOf(p) || isUnder(JSON.parse(k) as string[], p)) ||
      finalFolders.some((f) => isUnder(f, p) && !removed.has(keyOf(f)) && !created.some((c) => samePath(c.path, f))) ||
      (keepAfter !== undefined && (samePath(keepAfter, p) || isUnder(keepAfter, p)))
    for (const c of [...created].sort((a, b) => b.path.length - a.path.length || (keyOf(a.path) < keyOf(b.path) ? -1 : 1))) {
      const belowKept = created.some((o) => isUnder(o.path, c.path) && !removed.has(keyOf(o.path)))
      if (busy(c.path) || belowKept) continue
      removals.push({ kind: 'removeFolder', folderId: c.id, path: c.path })
      removed.add(keyOf(c.path))
    }
  }
  const foldersLeft = created.filter((c) => !removed.has(keyOf(c.path)) && (keepAfter === undefined || !samePath(c.path, keepAfter))).map((c) => c.path)
  const createKeep: RewindAction[] = !keepExists && keepAfter !== undefined && keeps.length > 0 ? [{ kind: 'createKeepFolder', path: keepAfter }] : []
  const expectedFolders = finalFolders.filter((f) => !removed.has(keyOf(f)) && (keepAfter === undefined || keepExists || keeps.length > 0 || !samePath(f, keepAfter)))
  return {
    actions: [...actions, ...createKeep, ...moves, ...keeps, ...reflags, ...comeBacks, ...removals],
    unachievable,
    keptInPlace,
    foldersLeft,
    expected: { folders: dedupe(expectedFolders), messages: expected },
  }
}

const dedupe = (paths: readonly Path[]): Path[] => {
  const m = new Map<string, Path>()
  for (const p of paths) m.set(keyOf(p), p)
  return [...m.values()].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0))
}

/** The actions of a plan by group, in the groups' order, with empty groups left out. */
export const groupActions = (plan: RewindPlan): { group: string; actions: RewindAction[] }[] =>
  ACTION_GROUPS.map((g) => ({ group: g.group, actions: plan.actions.filter((a) => g.kinds.includes(a.kind)) })).filter((g) => g.actions.length > 0)

/** One difference between the account as a rewind left it and as it had to be. */
export interface Difference {
  readonly kind: 'missing message' | 'unexpected message' | 'flags differ' | 'missing folder' | 'unexpected folder'
  readonly folder: Path
  readonly itemId?: number
  readonly text: string
}

/**
 * The account as a capture found it after the rewind, against the expected state: messages are
 * compared by folder and bytes (a message written back is a new item with the same bytes), then
 * flags and tags; folders by path. Every difference, item by item.
 */
export const compareWithExpected = (expected: ExpectedState, actual: Snapshot): Difference[] => {
  const folders = new Map<number, Shape>(actual.folders.map((f) => [f.folderId, { parentId: f.parentId, name: f.name, system: f.system }]))
  const pathOf = pathsOf(folders)
  const out: Difference[] = []
  const show = (p: Path) => `/${p.join('/')}`
  const actualFolders = new Set(actual.folders.map((f) => keyOf(pathOf(f.folderId))))
  const expectedFolders = new Set(expected.folders.map(keyOf))
  for (const f of expected.folders) if (!actualFolders.has(keyOf(f))) out.push({ kind: 'missing folder', folder: f, text: `folder ${show(f)} is missing` })
  for (const f of actual.folders) {
    const p = pathOf(f.folderId)
    if (!expectedFolders.has(keyOf(p)) && !f.system)
      out.push({ kind: 'unexpected folder', folder: p, itemId: f.folderId, text: `folder ${show(p)} (item ${f.folderId}) should not be there` })
  }
  const pool = new Map<string, { m: RewindMessage; path: Path }[]>()
  for (const m of actual.messages) {
    const path = pathOf(m.folderId)
    const k = `${keyOf(path)}|${digestKey(m)}`
    pool.set(k, [...(pool.get(k) ?? []), { m, path }])
  }
  const pending: ExpectedMessage[] = []
  for (const e of expected.messages) {
    const cands = pool.get(`${keyOf(e.folder)}|${e.digest}`) ?? []
    const i = cands.findIndex((c) => sameSet(c.m.flags, e.flags) && sameSet(c.m.tags, e.tags))
    if (i >= 0) cands.splice(i, 1)
    else pending.push(e)
  }
  for (const e of pending) {
    const cands = pool.get(`${keyOf(e.folder)}|${e.digest}`) ?? []
    const c = cands.shift()
    if (c !== undefined)
      out.push({
        kind: 'flags differ',
        folder: e.folder,
        itemId: e.itemId,
        text: `item ${e.itemId} in ${show(e.folder)} has flags [${sortedSet([...c.m.flags, ...c.m.tags]).join(' ')}], expected [${sortedSet([...e.flags, ...e.tags]).join(' ')}]`,
      })
    else
      out.push({
        kind: 'missing message',
        folder: e.folder,
        itemId: e.itemId,
        text: `item ${e.itemId} (${e.later ? 'arrived after the instant' : 'at the instant'}) is not in ${show(e.folder)}`,
      })
  }
  for (const cands of pool.values())
    for (const c of cands) out.push({ kind: 'unexpected message', folder: c.path, itemId: c.m.itemId, text: `item ${c.m.itemId} in ${show(c.path)} should not be there` })
  return out
}
