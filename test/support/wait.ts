/** Waiting on the servers the tests start: polls a condition (an event, not a guessed delay) until it holds or `ms` passes. */
export const waitFor = async (what: string, ok: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await ok()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Whether a process is still running. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
