/** What one benchmark row is: a named measurement run in its own process, reporting figures and a ratio. */
export interface RowParams {
  readonly data: string
  readonly items: number
  readonly events: number
  readonly samples: number
  readonly replaySamples: number
}

export interface Line {
  readonly what: string
  readonly ours: string
  readonly baseline: string
  /** ours/baseline speed (higher is better for Mailtime), NaN when there is no baseline. */
  readonly ratio: number
  readonly goal: string
  readonly pass: boolean | undefined
}

export interface RowResult {
  readonly rows: readonly Line[]
  readonly peakRssMB: number
}

export interface RowSpec {
  readonly name: string
  readonly title: string
  run(p: RowParams): Promise<RowResult>
}
