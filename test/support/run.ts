/** Runs a TaskEither in a test and fails loudly on Left. */
import * as E from 'fp-ts/Either'
import type * as TE from 'fp-ts/TaskEither'

export const ok = async <A>(te: TE.TaskEither<unknown, A>): Promise<A> => {
  const r = await te()
  if (E.isLeft(r)) throw new Error(`expected Right, got Left: ${JSON.stringify(r.left)}`)
  return r.right
}

export const fail = async <L>(te: TE.TaskEither<L, unknown>): Promise<L> => {
  const r = await te()
  if (E.isRight(r)) throw new Error(`expected Left, got Right: ${JSON.stringify(r.right)}`)
  return r.left
}
