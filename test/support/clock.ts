/**
 * Capture runs on the real clock (MAILTIME_NOW is refused for it), so tests that need rounds at
 * distinct instants record real instants between the rounds and wait for the clock itself, never for
 * a guessed delay.
 */

/** Resolves with the real clock's reading once it is past `t` (ms since the epoch). */
export const clockPast = async (t: number): Promise<number> => {
  for (;;) {
    const now = Date.now()
    if (now > t) return now
    await new Promise((r) => setTimeout(r, t - now + 1))
  }
}

/** The first whole second strictly after `t`: an IMAP INTERNALDATE has no fraction of a second. */
export const nextWholeSecond = (t: number): number => Math.floor(t / 1000) * 1000 + 1000

/** An instant as an ISO-8601 text in UTC. */
export const iso = (t: number): string => new Date(t).toISOString()
