/**
 * Test-only fault injection (docs/reliability.md), read only when the test marker lets it act
 * (testSwitches.ts); one grammar for every batch loop:
 * `MAILTIME_FAULT=kill-after-<event>:N` kills the process with SIGKILL right after the N-th batch
 * (`append`: a restore's batch reached the server, before it was recorded; `batch`: a scan's events
 * and checkpoint were committed; `folder`: a scan read a folder to the end, before recording
 * anything; `step`: an export finished one of its steps, which are each state file, the timeline,
 * the content files and MBOXes, the manifest, and the move into `dest`, before the operation
 * records its end; `feed`: the captures a batch of the change feed triggered recorded, before the
 * feed's position is committed; `action`: a rewind sent one action to the server, before its outcome is recorded); `pause-after-<event>:MS` slows each batch down so that a test can act while the
 * command runs (stop the server in the middle of a scan, start a second scan); `hold-after-<event>:N`
 * holds the run after every batch from the N-th on until a stop is requested (each parallel session
 * of a restore is held, not only the one that wrote batch N) (the loops that can be stopped pass
 * their own check), so that a test of the stop never races the end of the run.
 */
export const faultAfter = (
  raw: string | undefined,
  event: 'append' | 'batch' | 'folder' | 'step' | 'feed' | 'action',
): ((batch: number, stopRequested?: () => Promise<boolean>) => Promise<void>) | undefined => {
  const m = new RegExp(`^(kill|pause|hold)-after-${event}:(\\d+)$`).exec(raw ?? '')
  if (m === null) return undefined
  const n = Number(m[2])
  return async (batch, stopRequested) => {
    if (m[1] === 'hold' && batch >= n && stopRequested !== undefined) while (!(await stopRequested())) await new Promise((r) => setTimeout(r, 50))
    if (m[1] === 'kill' && batch === n) {
      process.stderr.write(`mailtime: WARNING: test fault MAILTIME_FAULT=${raw ?? ''}: killing this process now\n`)
      process.kill(process.pid, 'SIGKILL')
    }
    if (m[1] === 'pause') await new Promise((r) => setTimeout(r, n))
  }
}
