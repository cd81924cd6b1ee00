/** One figure checked against its target, gathered into the summary table of `npm run bench`. */
export interface BenchFigure {
  /** What was measured, e.g. `pipeline: median per report`. */
  name: string;
  /** The measured value, formatted with its unit. */
  value: string;
  /** The target, formatted (`≤ 50 µs`). */
  target: string;
  /** true: meets the target; false: misses it; absent: informative only. */
  met?: boolean;
}

/** One printed table of `npm run bench`; every figure sits beside its target. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Free-text lines printed under the table (method, data, caveats). */
  notes?: string[];
  /** The headline figures of this table against their targets (for the summary). */
  figures?: BenchFigure[];
}

export interface BenchOptions {
  /** `--quick`: smaller sizes, for a smoke run. */
  quick: boolean;
}

/** Each `bench/*.bench.ts` default-exports one of these. */
export type BenchSuite = (opts: BenchOptions) => Promise<BenchTable[]>;
