/** A progress bar on a TTY (cli-progress), and silence when stderr is piped or --json/--quiet is set. */
import { SingleBar, Presets } from 'cli-progress'
import type { Progress } from './grammar'

export const silentProgress: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined }

export const ttyProgress = (stream: NodeJS.WriteStream): Progress => {
  let bar: SingleBar | undefined
  let label = ''
  return {
    start: (l, total) => {
      if (bar !== undefined && l === label) {
        bar.setTotal(total)
        return
      }
      bar?.stop()
      label = l
      bar = new SingleBar({ stream, format: `${l} [{bar}] {percentage}% {value}/{total} {detail}`, hideCursor: true, clearOnComplete: true }, Presets.shades_classic)
      bar.start(total, 0, { detail: '' })
    },
    update: (done, detail) => bar?.update(done, { detail: detail ?? '' }),
    stop: () => {
      bar?.stop()
      bar = undefined
    },
  }
}
