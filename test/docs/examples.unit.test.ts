/** The docs' example blocks as the runner reads them: markers, commands, output lines, and `…`. */
import { lineDiff, matches, parseExamples } from './examples'

const doc = (...lines: string[]) => lines.join('\n')

describe('reading example blocks', () => {
  it('reads each command with the lines shown after it, and the marker before the fence', () => {
    const { examples, problems } = parseExamples(
      'a.md',
      doc('text', '<!-- example session=tour setup=demo elided exit=8 -->', '```sh', '$ npx mailtime demo', 'one', 'two', '$ ls', '```', 'more'),
    )
    expect(problems).toEqual([])
    expect(examples).toEqual([
      {
        file: 'a.md',
        line: 3,
        marker: { session: 'tour', setup: 'demo', elided: true, exit: 8, stop: false },
        commands: [
          { line: 4, command: 'npx mailtime demo', expected: ['one', 'two'] },
          { line: 7, command: 'ls', expected: [] },
        ],
      },
    ])
  })

  it('names a block that shows commands with output but no marker, and leaves blocks of bare commands alone', () => {
    const { examples, problems } = parseExamples(
      'b.md',
      doc('```sh', 'npx mailtime demo', '```', '', '```sh', '$ npx mailtime serve', 'listening on x', '```', '```', '$ a', '$ b', '```'),
    )
    expect(examples).toEqual([])
    expect(problems).toEqual([{ file: 'b.md', line: 5, message: expect.stringContaining('no example marker') }])
  })

  it('refuses a marker without a session, with an unknown word, or a demo setup on a continued session', () => {
    const bad = (marker: string) => parseExamples('c.md', doc(marker, '```', '$ x', '```')).problems.map((p) => p.message)
    expect(bad('<!-- example elided -->')).toEqual([expect.stringContaining('no session')])
    expect(bad('<!-- example session=a quick -->')).toEqual([expect.stringContaining('"quick"')])
    const twice = parseExamples('d.md', doc('<!-- example session=a -->', '```', '$ x', '```', '<!-- example session=a setup=demo -->', '```', '$ y', '```'))
    expect(twice.problems).toEqual([{ file: 'd.md', line: 6, message: expect.stringContaining('setup=demo') }])
  })
})

describe('matching the real output', () => {
  it('needs every line, in order, when the block is not elided; trailing spaces and blank lines aside', () => {
    expect(matches(['a', 'b'], ['a  ', 'b', ''], false)).toBe(true)
    expect(matches(['a', 'b'], ['a', 'b', 'c'], false)).toBe(false)
    expect(matches(['a', 'c'], ['a', 'b', 'c'], false)).toBe(false)
  })

  it('takes … literally in a block that is not elided (the CLI prints it)', () => {
    expect(matches(['to  …'], ['to  …'], false)).toBe(true)
    expect(matches(['…'], ['a', 'b'], false)).toBe(false)
    expect(matches(['in … s'], ['in 3.2 s'], false)).toBe(false)
  })

  it('lets a … line stand for any lines, and … within a line for any text, in an elided block', () => {
    expect(matches(['head', '…', 'tail'], ['head', 'x', 'y', 'tail'], true)).toBe(true)
    expect(matches(['head', '…', 'tail'], ['head', 'tail'], true)).toBe(true)
    expect(matches(['head', '…'], ['head', 'x'], true)).toBe(true)
    expect(matches(['head', '…', 'tail'], ['head', 'x', 'tale'], true)).toBe(false)
    expect(matches(['operation op-…: done', 'in … s'], ['operation op-2026-x: done', 'in 0.4 s'], true)).toBe(true)
    expect(matches(['operation op-…: done'], ['operation op-1: partial'], true)).toBe(false)
    expect(matches(['a (1.5 MB)'], ['a (1x5 MB)'], true)).toBe(false)
  })

  it('shows only the lines that differ and a few around them, an elided gap taking up what it stands for', () => {
    const real = ['operation op-1: done', ...Array.from({ length: 100 }, (_, k) => `line ${k}`), 'Restored Items: 1312', 'end']
    const diff = lineDiff(['operation op-…: done', '…', 'line 99', 'Restored Items: 1114', 'end'], real, true, 1)
    expect(diff).toBe(['  [lines that agree]', '  line 99', '- Restored Items: 1114', '+ Restored Items: 1312', '  end'].join('\n'))
    expect(lineDiff(['a', 'b'], ['a', 'b', 'c'], false, 0)).toBe(['  [lines that agree]', '+ c'].join('\n'))
  })

  it('shows which lines differ, the doc against the program', () => {
    expect(lineDiff(['a', 'Restored Items: 1114', 'c'], ['a', 'Restored Items: 1312', 'c'], false)).toBe(
      ['  a', '- Restored Items: 1114', '+ Restored Items: 1312', '  c'].join('\n'),
    )
  })
})
