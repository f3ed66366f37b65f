/** Stops long work cleanly on SIGINT/SIGTERM: the current batch finishes, then the verb returns. */
export const stopSignal = () => {
  let stop = false
  let wake: (() => void) | undefined
  // A wake-up that came while no sleep was pending (a server notification during a scan): the next
  // sleep returns at once instead of losing it.
  let woken = false
  const on = () => {
    stop = true
    wake?.()
  }
  process.on('SIGINT', on)
  process.on('SIGTERM', on)
  return {
    stopped: () => stop,
    sleep: (ms: number) =>
      new Promise<void>((resolve) => {
        if (woken || stop) {
          woken = false
          resolve()
          return
        }
        const t = setTimeout(() => {
          wake = undefined
          resolve()
        }, ms)
        wake = () => {
          wake = undefined
          clearTimeout(t)
          resolve()
        }
      }),
    wakeNow: () => {
      if (wake !== undefined) wake()
      else woken = true
    },
    dispose: () => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
    },
  }
}
