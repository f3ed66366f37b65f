/**
 * The console's jobs in a real PostgreSQL: queued by one server process and run by whichever takes
 * it first, exactly once; one command at a time; a job whose server died (its claim not renewed) is
 * taken over by another and run again from its parameters, and every process sees its end.
 */
import * as E from 'fp-ts/Either'
import type { AppError, Outcome } from '../../src/app/errors'
import type { JobQueue } from '../../src/app/jobQueue'
import { type JobBoard, type JobRun, durableBoard } from '../../src/server/jobs'
import { pgJobs } from '../../src/store/postgres/pgJobs'
import { openPg, postgresAvailable, sharedPostgres, stopSharedPostgres } from '../support/postgres'
import { describeWithService } from '../support/services'
import { waitFor } from '../support/wait'

jest.setTimeout(60_000)
afterAll(stopSharedPostgres)

type Output = E.Either<AppError, { json: unknown; outcome?: Outcome }>

describeWithService(postgresAvailable(), 'PostgreSQL')('durable jobs in PostgreSQL', () => {
  const boards: JobBoard[] = []
  afterEach(async () => {
    for (const b of boards.splice(0)) await b.close()
  })
  const setup = async () => {
    const store = await openPg(await (await sharedPostgres()).freshDatabase())
    return { store, queue: pgJobs(store.pool, 'test') }
  }
  const board = (queue: JobQueue, name: string, runs: string[], runner?: (params: Record<string, string>) => JobRun) => {
    const b = durableBoard(
      queue,
      (verb, params) =>
        runner?.(params) ??
        (async (progress, note): Promise<Output> => {
          runs.push(`${name}:${verb}:${params.account}`)
          progress.start('restoring', 3)
          progress.update(3)
          note(`ran on ${name}`)
          return E.right({ json: { restored: 3, account: params.account }, outcome: 'done' })
        }),
      { holder: name, ttlMs: 600, pollMs: 100 },
    )
    boards.push(b)
    return b
  }

  it('a job queued on one server process runs once, on whichever takes it, and both see its report; the same command is refused while queued', async () => {
    const { store, queue } = await setup()
    // Queued before any server process polls: the same command again is that job.
    const ids: string[] = []
    for (const u of ['u1', 'u2', 'u3', 'u4']) {
      const r = await queue.enqueue('doUndelete', [u], { account: u })()
      if (E.isLeft(r) || !r.right.started) throw new Error('enqueue')
      ids.push(r.right.id)
    }
    expect(await queue.enqueue('doUndelete', ['u1'], { account: 'u1' })()).toEqual(E.right({ id: ids[0], started: false }))
    const runs: string[] = []
    const a = board(queue, 'a', runs)
    const b = board(queue, 'b', runs)
    await waitFor('every job to end', async () => (await a.list()).filter((j) => j.state === 'done').length === 4)
    const views = await Promise.all(ids.map((id) => b.get(id)))
    expect(views.map((v) => [v?.state, v?.result, v?.done, v?.total])).toEqual(['u1', 'u2', 'u3', 'u4'].map((u) => ['done', { restored: 3, account: u }, 3, 3]))
    // Exactly once each, on one process or the other.
    expect(runs.map((r) => r.slice(2)).sort()).toEqual(['doUndelete:u1', 'doUndelete:u2', 'doUndelete:u3', 'doUndelete:u4'])
    // Once it ended, the same command is a new job.
    expect(await a.start('doUndelete', ['u1'], { account: 'u1' }, async () => E.left({ _tag: 'Usage', message: 'unused' }))).toMatchObject({ started: true })
    await store.close()
  })

  it('a job whose server process died is taken over by another after its claim expires, run again from its parameters, and reported', async () => {
    const { store, queue } = await setup()
    const q = await queue.enqueue('doRestoreOnNewAccount', ['alice', 'bob'], { account: 'alice', destination: 'bob' })()
    if (E.isLeft(q)) throw new Error('enqueue')
    // A server that claimed it and then died: it never renews.
    const dead = await queue.claim('dead-server', 500)()
    expect(E.isRight(dead) && dead.right?.id).toBe(q.right.id)
    const runs: string[] = []
    const b = board(queue, 'b', runs)
    await waitFor('the job to be taken over and end', async () => (await b.get(q.right.id))?.state === 'done')
    const v = await b.get(q.right.id)
    expect(runs).toEqual(['b:doRestoreOnNewAccount:alice'])
    expect(v?.notes[0]).toMatch(/^taken over by b \(attempt 2\): the run resumes from its journal$/)
    // The dead server's late end (if it came back) is not recorded over the new one's.
    await queue.finish('dead-server', q.right.id, { state: 'failed', result: null, error: 'late', status: 500 }, { label: '', done: 0, total: 0, notes: [] })()
    expect((await b.get(q.right.id))?.state).toBe('done')
    await store.close()
  })
})
