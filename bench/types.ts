/** One printed table of `npm run bench`; every figure sits beside its target. */
export interface BenchTable {
  title: string;
  columns: string[];
  rows: (string | number)[][];
  /** Free-text lines printed under the table (method, data, caveats). */
  notes?: string[];
}

export interface BenchOptions {
  /** `--quick`: smaller sizes, for a smoke run. */
  quick: boolean;
}

/** Each `bench/*.bench.ts` default-exports one of these. */
export type BenchSuite = (opts: BenchOptions) => Promise<BenchTable[]>;
