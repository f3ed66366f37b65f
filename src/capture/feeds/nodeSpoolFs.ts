/** The spool follower's file-system port on Node's `fs` (`SpoolFs`). */
import * as E from 'fp-ts/Either'
import * as fs from 'fs'
import * as path from 'path'
import type { SpoolFs } from './spoolFollower'

const reason = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const attempt = async <A>(f: () => Promise<A>): Promise<E.Either<string, A>> => {
  try {
    return E.right(await f())
  } catch (e) {
    return E.left(reason(e))
  }
}

export const nodeSpoolFs: SpoolFs = {
  list: (dir) => attempt(() => fs.promises.readdir(dir)),
  size: (file) =>
    attempt(async () => {
      try {
        const st = await fs.promises.stat(file)
        // A device or a FIFO in the spool is not something a mail process appended to.
        if (!st.isFile()) throw new Error(`${file} is not a regular file`)
        return st.size
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
    }),
  read: (file, offset, length) =>
    attempt(async () => {
      const h = await fs.promises.open(file, 'r')
      try {
        const buf = Buffer.alloc(length)
        let got = 0
        while (got < length) {
          const { bytesRead } = await h.read(buf, got, length - got, offset + got)
          if (bytesRead === 0) break
          got += bytesRead
        }
        return buf.subarray(0, got)
      } finally {
        await h.close()
      }
    }),
  remove: (file) => attempt(() => fs.promises.unlink(file)),
  watch: (dir, onChange, onError) => {
    try {
      // Not persistent: a follower that is waiting must not keep the process alive on its own.
      const w = fs.watch(dir, { persistent: false }, () => onChange())
      w.on('error', (e) => onError(reason(e)))
      return E.right({ close: () => w.close() })
    } catch (e) {
      return E.left(reason(e))
    }
  },
  join: (dir, name) => path.join(dir, name),
}
