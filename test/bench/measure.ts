/** Timing helpers for the benchmarks: percentiles of repeated runs, rates, peak memory. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6

export const percentile = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number
}

export const timeAll = async (runs: number, f: (i: number) => Promise<unknown> | unknown): Promise<number[]> => {
  const out: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = now()
    await f(i)
    out.push(now() - t)
  }
  return out
}

export const peakRssMB = (): number => process.resourceUsage().maxRSS / 1024

export const fmt = (n: number, digits = 1): string =>
  !Number.isFinite(n) ? 'n/a' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n < 0.1 ? n.toPrecision(2) : n.toFixed(digits)
