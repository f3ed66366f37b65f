import * as fs from 'fs'
import * as path from 'path'
import { createHash } from 'crypto'
import * as E from 'fp-ts/Either'
import { commandProvisioner, fillTemplate, passwdFileProvisioner, ssha512 } from '../../src/restore/provision/provisioner'
import { cleanupTmp, tmpDir } from '../support/tmp'

afterAll(cleanupTmp)

describe('provisioners', () => {
  it('ssha512 is what Dovecot checks: SHA-512 of password and salt, then the salt', () => {
    const salt = Buffer.from('12345678')
    const raw = Buffer.from(ssha512('pw', salt).slice('{SSHA512}'.length), 'base64')
    expect(raw.subarray(64).equals(salt)).toBe(true)
    expect(raw.subarray(0, 64).equals(createHash('sha512').update('pw12345678').digest())).toBe(true)
  })

  it('passwd file: appends the account once, keeps what was there, refuses names that would break the file', async () => {
    const file = path.join(tmpDir(), 'users')
    fs.writeFileSync(file, 'alice:{PLAIN}x::::::') // no final newline
    const p = passwdFileProvisioner(file, () => 'secret')
    expect(await p.ensure('bob@example.com')).toEqual(E.right({ created: true }))
    expect(await p.ensure('bob@example.com')).toEqual(E.right({ created: false }))
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe('alice:{PLAIN}x::::::')
    expect(lines[1]).toMatch(/^bob@example\.com:\{SSHA512\}[A-Za-z0-9+/=]+::::::$/)
    expect(fs.readFileSync(file, 'utf8')).not.toContain('secret')
    for (const bad of ['evil:x', 'a\nroot', '../x', '-rf', 'a b']) expect(E.isLeft(await p.ensure(bad))).toBe(true)
  })

  it('command template: words filled without a shell, the check command skips creation, failures name the command', async () => {
    const dir = tmpDir()
    const log = path.join(dir, 'created')
    const script = path.join(dir, 'prov.sh')
    fs.writeFileSync(script, `#!/bin/sh\nif [ "$1" = check ]; then grep -qx "$2" ${log} 2>/dev/null; exit $?; fi\necho "$2" >> ${log}\n[ -n "$3" ] || exit 3\n`, { mode: 0o755 })
    expect(fillTemplate(`${script} create {account} "{password}"`, { account: 'a@b', password: 'p q' })).toEqual([script, 'create', 'a@b', 'p q'])
    const p = commandProvisioner(`${script} create {account} {password}`, `${script} check {account}`, () => 'pw')
    expect(await p.ensure('carol@example.com')).toEqual(E.right({ created: true }))
    expect(await p.ensure('carol@example.com')).toEqual(E.right({ created: false }))
    expect(fs.readFileSync(log, 'utf8')).toBe('carol@example.com\n')
    const failing = commandProvisioner(`${script} create {account}`, undefined, () => 'pw')
    const r = await failing.ensure('dave@example.com')
    expect(E.isLeft(r) && r.left).toMatch(/prov\.sh exited with 3/)
    const missing = await commandProvisioner('/nonexistent/zmprov ca {account} {password}', undefined, () => 'pw').ensure('x@y')
    expect(E.isLeft(missing) && missing.left).toMatch(/exited with 127/)
  })
})
