/** How `npm run bench` writes docs/performance.md: medians, goals met in k of n runs, and only its own rows replaced. */
import { REGION_END, REGION_START, type RunInfo, medianIndex, replaceRows, summarize } from '../bench/report'
import type { Line, RowResult } from '../bench/row'

const info = (over: Partial<RunInfo> = {}): RunInfo => ({
  at: '2026-12-07T10:00:00.000Z',
  commit: 'abc1234',
  machine: '2 cores',
  command: 'npm run bench -- --rows x',
  scale: 1,
  ...over,
})
const line = (ratio: number, pass: boolean | undefined, over: Partial<Line> = {}): Line => ({
  what: 'w',
  ours: `ours ${ratio}`,
  baseline: 'b',
  ratio,
  goal: pass === undefined ? '' : '≥ 1×',
  pass,
  ...over,
})
const run = (...rows: Line[]): RowResult => ({ rows, peakRssMB: 100 + rows.length })

describe('a row of several runs', () => {
  it('shows the median run and says in how many runs the goal was met', () => {
    const r = summarize('append', [run(line(0.9, false)), run(line(1.4, true)), run(line(1.1, true))], info())
    expect(r.lines[0]).toMatchObject({ ours: 'ours 1.1', ratio: '1.10×', met: '2 of 3', runs: '0.90×, 1.40×, 1.10×' })
  })

  it("picks the median by the line's own figure when it has one (a p50, not the ratio)", () => {
    const l = (p50: number, ratio: number) => line(ratio, p50 < 100, { ours: `p50 ${p50}`, figure: { value: p50, text: `${p50} ms` } })
    const r = summarize('asof', [run(l(120, 400)), run(l(90, 300)), run(l(95, 500))], info())
    expect(r.lines[0]).toMatchObject({ ours: 'p50 95', met: '2 of 3', runs: '120 ms, 90 ms, 95 ms' })
  })

  it('does not judge a goal below full size', () => {
    const r = summarize('asof', [run(line(2, true)), run(line(2, true)), run(line(2, true))], info({ scale: 0.1 }))
    expect(r.lines[0]?.met).toBe('not judged (scale 0.1)')
  })

  it('takes the lower middle of an even count, and NaN as the lowest', () => {
    expect(medianIndex([3, 1, 2, 4])).toBe(2)
    expect(medianIndex([NaN, 5, 1])).toBe(2)
  })
})

describe('writing docs/performance.md', () => {
  const doc = (region = '') => `# Performance\n\nintro\n\n${REGION_START}\n${region}\n${REGION_END}\n\n## Notes\n\nnotes stay\n`
  const a = summarize('append', [run(line(0.9, true), line(NaN, undefined, { what: 'index' }))], info({ command: 'npm run bench -- --rows append' }))
  const b = summarize('asof', [run(line(300, true))], info({ commit: 'def5678' }))

  it('replaces the rows it ran and keeps the others, in the bench order, and leaves the rest of the file alone', () => {
    const once = replaceRows(doc(), [b, a], ['append', 'asof'])
    if (!once.ok) throw new Error(once.error)
    const a2 = summarize('append', [run(line(0.7, false), line(NaN, undefined, { what: 'index' }))], info({ commit: 'fff0000' }))
    const twice = replaceRows(once.doc, [a2], ['append', 'asof'])
    if (!twice.ok) throw new Error(twice.error)
    const rows = twice.doc.split('\n').filter((l) => l.startsWith('| '))
    expect(rows.filter((l) => l.includes('| asof |'))).toEqual(once.doc.split('\n').filter((l) => l.includes('| asof |')))
    expect(rows.some((l) => l.includes('ours 0.9'))).toBe(false)
    expect(rows.findIndex((l) => l.startsWith('| append | w | ours 0.7'))).toBeLessThan(rows.findIndex((l) => l.startsWith('| asof | w')))
    expect(rows.some((l) => l.startsWith('|  | index |'))).toBe(true)
    expect(rows.filter((l) => l.includes('fff0000'))).toHaveLength(1)
    expect(twice.doc.startsWith('# Performance\n\nintro\n\n')).toBe(true)
    expect(twice.doc.endsWith('## Notes\n\nnotes stay\n')).toBe(true)
    expect(replaceRows(twice.doc, [a2], ['append', 'asof'])).toEqual(twice)
  })

  it('refuses a file without the results region rather than overwrite it', () => {
    expect(replaceRows('# Performance\n\nhand-written table\n', [a], ['append'])).toEqual({ ok: false, error: expect.stringContaining('no results region') })
  })

  it('keeps a pipe inside a figure from splitting its cell', () => {
    const p = summarize('restore', [run(line(1, true, { baseline: 'a | b' }))], info())
    const w = replaceRows(doc(), [p], ['restore'])
    if (!w.ok) throw new Error(w.error)
    const again = replaceRows(w.doc, [], ['restore'])
    expect(again).toEqual(w)
    expect(w.doc).toContain('a \\| b')
  })
})

describe('a line without a baseline', () => {
  it('lists its runs by its own figure, and nothing when it has none', () => {
    const index = (rate: number): Line => ({ ...line(NaN, undefined), figure: { value: rate, text: `${rate}/s` } })
    expect(summarize('append', [run(index(5)), run(index(9)), run(index(7))], info()).lines[0]).toMatchObject({ runs: '5/s, 9/s, 7/s', ratio: '' })
    expect(summarize('pgstore', [run(line(NaN, undefined)), run(line(NaN, undefined)), run(line(NaN, undefined))], info()).lines[0]?.runs).toBe('')
  })
})
