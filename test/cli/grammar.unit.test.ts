import * as E from 'fp-ts/Either'
import { parseWords } from '../../src/cli/grammar'
import { getItem, doItemSearch } from '../../src/cli/verbs/inspect'
import { canonicalVerb } from '../../src/cli/main'

describe('Carbonio grammar', () => {
  it('reads positionals then attribute value pairs', () => {
    expect(parseWords(getItem, ['alice', '300', 'date', '03/03/2026 14:02:00'])).toEqual(E.right({ positionals: ['alice', '300'], attrs: { date: '03/03/2026 14:02:00' } }))
  })

  it('names a missing positional, an unknown attribute and a missing value', () => {
    expect(parseWords(getItem, ['alice'])).toEqual(E.left(expect.stringContaining('missing <item>')))
    expect(parseWords(getItem, ['alice', '1', 'colour', 'red'])).toEqual(E.left(expect.stringContaining('unknown attribute "colour"')))
    expect(parseWords(getItem, ['alice', '1', 'date'])).toEqual(E.left(expect.stringContaining('date needs a value')))
  })

  it('checks enumerated attributes case-insensitively', () => {
    expect(parseWords(doItemSearch, ['a', 'search_filter', 'ALL'])).toEqual(E.right({ positionals: ['a'], attrs: { search_filter: 'all' } }))
    expect(parseWords(doItemSearch, ['a', 'search_filter', 'gone'])).toEqual(E.left(expect.stringContaining('deleted')))
  })

  it('accepts verbs in any case, skipping global flags and their values', () => {
    expect(canonicalVerb(['--store', 'getitem', 'GETITEM', 'x'])).toEqual(['--store', 'getitem', 'getItem', 'x'])
    expect(canonicalVerb(['doundelete'])).toEqual(['doUndelete'])
    expect(canonicalVerb(['frobnicate'])).toEqual(['frobnicate'])
  })
})
