/** Whether the process that runs an operation is still there (on this host; elsewhere we cannot tell). */
import * as os from 'os'

export const isAlive = (host: string, pid: number): boolean => {
  if (host !== os.hostname()) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
