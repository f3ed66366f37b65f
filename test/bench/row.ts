/** What one benchmark row is: a named measurement run in its own process, reporting figures and a ratio. */
export interface RowParams {
  readonly data: string
  /** 1 at full size; the rows scale their data by it (`--quick` is 0.1). */
  readonly scale: number
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
  /**
   * The figure that orders this line's runs to pick the median one, with its text (the goal's own
   * figure where it has one, such as a p50); without it, the ratio orders them.
   */
  readonly figure?: { readonly value: number; readonly text: string }
}

export interface RowResult {
  readonly rows: readonly Line[]
  readonly peakRssMB: number
}

export interface RowSpec {
  readonly name: string
  readonly title: string
  /** A row with a goal runs at least three times and reports the median run and in how many the goal was met. */
  readonly hasGoal: boolean
  run(p: RowParams): Promise<RowResult>
}
