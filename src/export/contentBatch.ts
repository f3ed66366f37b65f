/**
 * A batch of content jobs as it crosses to a content worker thread: one text line per job,
 * `<digest> <size> <content file or -> <MBOX index and date, or ->`. Posting 1,000 job objects cost
 * the export's main thread a structured clone each, and the batches it could not post yet stayed on
 * its heap as objects, to be copied by every garbage collection; a line is one flat string.
 *
 * MBOX paths are sent once per worker, in `mboxes`, and named by their index in that list after:
 * a folder name may hold any character, a digest (hex) and a content file path (directory, hex,
 * extension) hold no space or newline.
 */
import type { ContentJob } from './contentFiles'

export interface WireBatch {
  /** MBOX paths new to the worker, in the order of their indexes. */
  readonly mboxes: readonly string[]
  readonly text: string
  readonly jobs: number
}

/** The sending side for one worker: it remembers which MBOX paths that worker has been sent. */
export const batchEncoder = () => {
  const index = new Map<string, number>()
  return (jobs: readonly ContentJob[]): WireBatch => {
    const mboxes: string[] = []
    // Joined once: a string built by `+=` is a rope of every piece until it is flattened, heavier
    // than the objects it replaces while it waits in a queue.
    const lines: string[] = []
    for (const j of jobs) {
      let mbox = '-'
      if (j.mbox !== undefined) {
        let i = index.get(j.mbox.rel)
        if (i === undefined) {
          index.set(j.mbox.rel, (i = index.size))
          mboxes.push(j.mbox.rel)
        }
        mbox = `${i} ${j.mbox.date}`
      }
      lines.push(`${j.digest} ${j.size} ${j.rel ?? '-'} ${mbox}\n`)
    }
    return { mboxes, text: lines.join(''), jobs: jobs.length }
  }
}

/** The receiving side, in a worker: the jobs of each batch, in order. */
export const batchDecoder = () => {
  const mboxes: string[] = []
  return (b: WireBatch): ContentJob[] => {
    mboxes.push(...b.mboxes)
    const jobs: ContentJob[] = []
    for (let start = 0; start < b.text.length; ) {
      const end = b.text.indexOf('\n', start)
      const [digest = '', size = '', rel = '-', mbox = '-', date = ''] = b.text.slice(start, end).split(' ')
      const job: { -readonly [K in keyof ContentJob]: ContentJob[K] } = { digest, size: Number(size) }
      if (rel !== '-') job.rel = rel
      if (mbox !== '-') {
        const m = mboxes[Number(mbox)]
        if (m === undefined) throw new Error(`content batch names MBOX ${mbox}, which it was never sent`)
        job.mbox = { rel: m, date: Number(date) }
      }
      jobs.push(job)
      start = end + 1
    }
    return jobs
  }
}
