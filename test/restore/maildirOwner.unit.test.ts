import * as E from 'fp-ts/Either'
import { chooseOwner, resolveOwner, type OwnerLookup } from '../../src/restore/maildirOwner'

const lookup: OwnerLookup = {
  user: (n) => (n === 'vmail' ? { uid: 5000, gid: 5000 } : undefined),
  group: (n) => (n === 'mail' ? 8 : undefined),
}
const root = { uid: 0, gid: 0 }

describe('the owner of a restored Maildir tree', () => {
  it('takes a user (with its primary group), user:group, uid:gid', () => {
    expect(resolveOwner('vmail', lookup)).toEqual(E.right({ uid: 5000, gid: 5000 }))
    expect(resolveOwner('vmail:mail', lookup)).toEqual(E.right({ uid: 5000, gid: 8 }))
    expect(resolveOwner('8:8', lookup)).toEqual(E.right({ uid: 8, gid: 8 }))
  })

  it('refuses names it cannot find, a uid without a group, and words that are not names', () => {
    expect(resolveOwner('nobody-here', lookup)).toEqual(E.left('owner: no user named "nobody-here" on this machine (give a user name, uid, or user:group)'))
    expect(resolveOwner('vmail:staff', lookup)).toEqual(E.left('owner: no group named "staff" on this machine'))
    expect(E.isLeft(resolveOwner('8', lookup))).toBe(true)
    expect(E.isLeft(resolveOwner('-x', lookup))).toBe(true)
    expect(E.isLeft(resolveOwner('a:b:c', lookup))).toBe(true)
  })

  it('as root: the owner asked for, else the directory owner, with a warning when that is root', () => {
    expect(chooseOwner({ asked: { uid: 8, gid: 8 }, directory: root, where: '/srv', self: root })).toEqual(E.right({ chown: { uid: 8, gid: 8 } }))
    expect(chooseOwner({ directory: { uid: 5000, gid: 5000 }, where: '/srv/a', self: root })).toEqual(E.right({ chown: { uid: 5000, gid: 5000 } }))
    const r = chooseOwner({ directory: root, where: '/srv', self: root })
    expect(E.isRight(r) && r.right.chown).toEqual(root)
    expect(E.isRight(r) && r.right.warning).toMatch(/owned by root \(like \/srv\): Dovecot does not serve mail as root/)
  })

  it("not as root: files stay the process user's, and giving them away is refused", () => {
    const self = { uid: 1000, gid: 1000 }
    expect(chooseOwner({ directory: self, where: '/home/a', self })).toEqual(E.right({}))
    expect(chooseOwner({ asked: self, directory: self, where: '/home/a', self })).toEqual(E.right({ chown: self }))
    expect(chooseOwner({ asked: { uid: 8, gid: 8 }, raw: 'mail', directory: self, where: '/home/a', self })).toEqual(
      E.left('owner mail: only root can give the files to another user (Mailtime runs as uid 1000)'),
    )
  })
})
