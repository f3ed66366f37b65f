/**
 * Who owns a restored Maildir tree. Dovecot serves a tree only as its mail user (never as root), so
 * files written by Mailtime running as root must be given away: to the `owner` asked for
 * (`user`, `user:group`, `uid` or `uid:gid`), or by default to the owner of the target directory
 * (or of its nearest existing parent, when the restore creates it). The decisions are pure; the
 * name lookup (`getent`, so that NSS users count) and the stat are the edges.
 */
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import * as E from 'fp-ts/Either'

export interface Owner {
  readonly uid: number
  readonly gid: number
}

export interface OwnerLookup {
  /** uid and primary gid of a user name. */
  user(name: string): Owner | undefined
  /** gid of a group name. */
  group(name: string): number | undefined
}

const ID = /^\d{1,10}$/

/** `user`, `user:group`, `uid` or `uid:gid` to ids; a user alone brings its primary group. */
export const resolveOwner = (raw: string, lookup: OwnerLookup): E.Either<string, Owner> => {
  // No leading '-': a name goes to getent as an argument.
  const m = /^(\w[^:\s]*)(?::(\w[^:\s]*))?$/.exec(raw.trim())
  if (m === null) return E.left(`owner: ${JSON.stringify(raw)} is not user, user:group, uid or uid:gid`)
  const [, u = '', g] = m
  const user = ID.test(u) ? undefined : lookup.user(u)
  if (!ID.test(u) && user === undefined) return E.left(`owner: no user named ${JSON.stringify(u)} on this machine (give a user name, uid, or user:group)`)
  const uid = user?.uid ?? Number(u)
  let gid: number | undefined
  if (g === undefined) gid = user?.gid
  else if (ID.test(g)) gid = Number(g)
  else {
    gid = lookup.group(g)
    if (gid === undefined) return E.left(`owner: no group named ${JSON.stringify(g)} on this machine`)
  }
  if (gid === undefined) return E.left(`owner: ${JSON.stringify(raw)} gives a uid without a group: give uid:gid`)
  return E.right({ uid, gid })
}

export interface OwnerChoice {
  /** Whom to give every file and directory to; undefined leaves them to the process. */
  readonly chown?: Owner
  /** What the report says when the tree will not be servable as it is. */
  readonly warning?: string
}

/**
 * Whom the tree goes to. `asked` is the `owner` attribute, `directory` the owner of the target (or
 * its nearest existing parent), `self` the process's effective ids. Only root can give files away.
 */
export const chooseOwner = (p: {
  readonly asked?: Owner
  readonly raw?: string
  readonly directory: Owner
  readonly where: string
  readonly self: Owner
}): E.Either<string, OwnerChoice> => {
  if (p.asked !== undefined) {
    if (p.self.uid !== 0 && (p.asked.uid !== p.self.uid || p.asked.gid !== p.self.gid))
      return E.left(`owner ${p.raw ?? `${p.asked.uid}:${p.asked.gid}`}: only root can give the files to another user (Mailtime runs as uid ${p.self.uid})`)
    return E.right({ chown: p.asked })
  }
  if (p.self.uid !== 0)
    return E.right(
      p.directory.uid === p.self.uid
        ? {}
        : {
            warning: `the Maildir tree is owned by uid ${p.self.uid} (Mailtime's user), not by uid ${p.directory.uid}, the owner of ${p.where}: run the restore as root, or as that user`,
          },
    )
  if (p.directory.uid === 0)
    return E.right({
      chown: p.directory,
      warning: `the Maildir tree is owned by root (like ${p.where}): Dovecot does not serve mail as root; give owner <user> (such as owner vmail), or chown -R it`,
    })
  return E.right({ chown: p.directory })
}

/** The target directory, or its nearest existing parent: what the tree's default owner is read from. */
export const nearestExisting = (dir: string): { path: string; owner: Owner } => {
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    try {
      const st = fs.statSync(p)
      return { path: p, owner: { uid: st.uid, gid: st.gid } }
    } catch {
      if (path.dirname(p) === p) return { path: p, owner: { uid: 0, gid: 0 } }
    }
  }
}

const getent = (db: 'passwd' | 'group', name: string): string[] | undefined => {
  const r = spawnSync('getent', [db, name], { encoding: 'utf8', timeout: 10_000 })
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined
  return r.stdout.split('\n')[0]?.split(':')
}

/** Users and groups as the system knows them (files, LDAP, whatever NSS is configured with). */
export const systemLookup: OwnerLookup = {
  user: (name) => {
    const f = getent('passwd', name)
    return f === undefined || !ID.test(f[2] ?? '') || !ID.test(f[3] ?? '') ? undefined : { uid: Number(f[2]), gid: Number(f[3]) }
  },
  group: (name) => {
    const f = getent('group', name)
    return f === undefined || !ID.test(f[2] ?? '') ? undefined : Number(f[2])
  },
}
