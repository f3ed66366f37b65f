import fc from 'fast-check'
import * as path from 'path'
import { encodeModifiedUtf7, safeSegment } from '../../src/restore/folderNames'
import { withSubscriptions } from '../../src/restore/maildirTarget'

describe('folder names a target can hold', () => {
  it.each([
    ['Projects', 'Projects'],
    ['a/b', 'a_b'],
    ['a.b', 'a_b'],
    ['..', '__'],
    ['.', '_'],
    ['', '_'],
    ['.hidden', '_hidden'],
    ['tab\there\u0000nul', 'tab_here_nul'],
  ])('%j becomes %j', (name, safe) => {
    expect(safeSegment(name, ['.'])).toBe(safe)
  })

  it('keeps dots where the separator is "/", but never a bare "." or ".."', () => {
    expect(['..', '.', 'a.b'].map((n) => safeSegment(n, ['/']))).toEqual(['_..', '_.', 'a.b'])
  })

  it('never yields a name that leaves its parent directory or holds a separator', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (name) => {
        const s = safeSegment(name, ['.'])
        expect(/[./\\\u0000-\u001f]/.test(s)).toBe(false)
        expect(path.resolve('/t', `.${encodeModifiedUtf7(s)}`).startsWith('/t/')).toBe(true)
      }),
    )
  })

  it('encodes names in modified UTF-7 as Dovecot stores them', () => {
    expect(encodeModifiedUtf7('Entwürfe')).toBe('Entw&APw-rfe')
    expect(encodeModifiedUtf7('R&D')).toBe('R&-D')
    expect(encodeModifiedUtf7('日本語')).toBe('&ZeVnLIqe-')
  })
})

describe("the Maildir target's subscriptions file", () => {
  it("is Dovecot's version 2: header, blank line, modified UTF-7 segments separated by tabs, each folder once", () => {
    expect(withSubscriptions(undefined, [['Projects', 'Alpha'], ['Café']])).toBe('V\t2\n\nProjects\tAlpha\nCaf&AOk-\n')
    expect(withSubscriptions('V\t2\n\nEmpty\n', [['Empty'], ['Work']])).toBe('V\t2\n\nEmpty\nWork\n')
    // Another format is left alone.
    expect(withSubscriptions('Empty\n', [['Work']])).toBeUndefined()
  })
})
