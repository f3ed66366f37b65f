/** The job registry: progress and reports of long work, one run of the same command at a time, and failures with their status. */
import * as E from 'fp-ts/Either'
import type { AppError, Outcome } from '../../src/app/errors'
import { jobs } from '../../src/server/jobs'

type Output = E.Either<AppError, { json: unknown; outcome?: Outcome }>
const report = (json: unknown, outcome?: Outcome): Output => E.right({ json, ...(outcome !== undefined && { outcome }) })

const deferred = () => {
  let resolve: (o: Output) => void = () => undefined
  let reject: (e: unknown) => void = () => undefined
  const promise = new Promise<Output>((res, rej) => ((resolve = res), (reject = rej)))
  return { promise, resolve, reject }
}

describe('jobs', () => {
  it('shows progress while running, then the report; refuses the same command while it runs', async () => {
    const j = jobs()
    const d = deferred()
    const a = j.start('doUndelete', ['alice', 'first', 'last'], (progress) => {
      progress.start('restoring into maildir:/x', 10)
      progress.update(4)
      return d.promise
    })
    expect(a.started).toBe(true)
    expect(j.get(a.id)).toMatchObject({ state: 'running', label: 'restoring into maildir:/x', done: 4, total: 10, result: null })
    const again = j.start('doUndelete', ['alice', 'first', 'last'], () => Promise.reject(new Error('must not run')))
    expect(again).toEqual({ id: a.id, started: false })
    const other = j.start('doUndelete', ['bob', 'first', 'last'], async () => report({ restored: 1 }))
    expect(other.started).toBe(true)
    d.resolve(report({ restored: 10 }, 'partial'))
    await j.settled()
    expect(j.get(a.id)).toMatchObject({ state: 'partial', result: { restored: 10 }, error: null })
    expect(j.get(other.id)).toMatchObject({ state: 'done', result: { restored: 1 } })
    expect(j.get(a.id)?.endedAt).not.toBeNull()
    // Once it ended, the same command may run again.
    expect(j.start('doUndelete', ['alice', 'first', 'last'], async () => report({})).started).toBe(true)
  })

  it('maps a failure to its status and message, and keeps notes', async () => {
    const j = jobs()
    const bad = j.start('exportHistory', ['carol'], async (_p, note) => {
      note('first note')
      return E.left({ _tag: 'Usage', message: 'exportHistory: from is after to' })
    })
    const gone = j.start('doUndelete', ['x'], async () => E.left({ _tag: 'Unavailable', message: 'the target is down' }))
    const bug = j.start('getItem', ['x'], async () => {
      throw new TypeError('oops')
    })
    await j.settled()
    expect(j.get(bad.id)).toMatchObject({ state: 'failed', status: 400, error: 'exportHistory: from is after to', notes: ['first note'] })
    expect(j.get(gone.id)).toMatchObject({ state: 'failed', status: 503, error: 'the target is down' })
    expect(j.get(bug.id)).toMatchObject({ state: 'failed', status: 500, error: 'internal error: oops' })
    expect(
      j
        .list()
        .map((x) => x.id)
        .sort(),
    ).toEqual([bad.id, gone.id, bug.id].sort())
  })
})
