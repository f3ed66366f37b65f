/**
 * The hand-written examples of the fold (test/support/foldExamples.ts), one or more for every
 * branch of the event catalogue and of its order, asked of the independent oracle and of every
 * implementation of time travel on SQLite: the naive replay, and the temporal index both kept up to
 * date event by event (late facts then go through its corrections) and rebuilt from scratch.
 *
 * An example the product does not meet yet (a known divergence from the docs) is expected to fail
 * against the product, and the oracle told to fold as the product does must then give the
 * product's answer, so that the property tests' oracle describes the product exactly.
 */
import * as E from 'fp-ts/Either'
import type { MailEvent } from '../../domain/events'
import { replayTimeTravel } from '../../projections/replay'
import { openSqliteDatabase, sqliteEventStore } from '../../src/store/sqliteEventStore'
import { sqliteTemporalIndex } from '../../src/store/sqliteTemporalIndex'
import { streamReader } from '../../src/store/streamReader'
import { type Answers, EXAMPLE_ACCOUNT, FOLD_EXAMPLES, expectedAnswer, oracleAnswers, timeTravelAnswers } from '../support/foldExamples'
import { AS_DOCUMENTED, AS_FOLDED_TODAY, oracleOf } from '../support/oracle'
import { ok } from '../support/run'

type Open = (given: readonly MailEvent[]) => Promise<{ answers: Answers; dispose: () => Promise<void> }>

const stream = `account-${EXAMPLE_ACCOUNT}`

const sqlite =
  (how: 'replay' | 'each event' | 'rebuilt'): Open =>
  async (given) => {
    const h = openSqliteDatabase(':memory:')
    if (E.isLeft(h)) throw new Error(`cannot open SQLite: ${JSON.stringify(h.left)}`)
    const store = sqliteEventStore(h.right)
    const index = sqliteTemporalIndex(h.right)
    for (const e of given) {
      await ok(store.appendToStream(stream, [e]))
      if (how === 'each event' && E.isLeft(index.catchUp())) throw new Error('catch-up failed')
    }
    if (how === 'rebuilt' && E.isLeft(index.rebuild())) throw new Error('rebuild failed')
    const tt = how === 'replay' ? replayTimeTravel(streamReader(store)) : index
    return { answers: timeTravelAnswers(tt), dispose: () => store.close() }
  }

const oracle: Open = async (given) => ({ answers: oracleAnswers(oracleOf(EXAMPLE_ACCOUNT, given, AS_DOCUMENTED)), dispose: async () => undefined })

const SUBJECTS: [string, Open, boolean][] = [
  ['the independent oracle', oracle, false],
  ['the naive replay', sqlite('replay'), true],
  ['the SQLite temporal index, caught up after each event', sqlite('each event'), true],
  ['the SQLite temporal index, rebuilt', sqlite('rebuilt'), true],
]

describe.each(SUBJECTS)('given the events, when asked, then %s answers as the docs say:', (_name, open, isProduct) => {
  for (const ex of FOLD_EXAMPLES) {
    const test = isProduct && ex.divergence !== undefined ? it.failing : it
    test(ex.divergence !== undefined && isProduct ? `${ex.name} (known divergence: ${ex.divergence})` : ex.name, async () => {
      const s = await open(ex.given)
      try {
        expect(await s.answers(ex.when)).toEqual(expectedAnswer(ex))
      } finally {
        await s.dispose()
      }
    })
  }
})

describe('the oracle told to fold as the product does today', () => {
  const divergent = FOLD_EXAMPLES.filter((ex) => ex.divergence !== undefined)

  it('has at least one divergent example to check, each named after a divergence the property tests allow', () => {
    expect(divergent.length).toBeGreaterThan(0)
    for (const ex of divergent) expect(AS_FOLDED_TODAY[ex.divergence as keyof typeof AS_FOLDED_TODAY]).toBe(true)
  })

  it.each(divergent.map((ex) => [ex.name, ex] as const))('gives the product’s answer where the product differs from the docs: %s', async (_n, ex) => {
    const product = await sqlite('each event')(ex.given)
    try {
      const today = await oracleAnswers(oracleOf(EXAMPLE_ACCOUNT, ex.given, AS_FOLDED_TODAY))(ex.when)
      expect(today).toEqual(await product.answers(ex.when))
      expect(today).not.toEqual(expectedAnswer(ex))
    } finally {
      await product.dispose()
    }
  })
})
