/** Stops long work cleanly on SIGINT/SIGTERM: the current batch finishes, then the verb returns. */
export const stopSignal = () => {
  let stop = false
  let wake: (() => void) | undefined
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
        const t = setTimeout(resolve, ms)
        wake = () => {
          clearTimeout(t)
          resolve()
        }
      }),
    wakeNow: () => wake?.(),
    dispose: () => {
      process.off('SIGINT', on)
      process.off('SIGTERM', on)
    },
  }
}
