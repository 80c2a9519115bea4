/** What every benchmark module exports; bench/run.ts keeps the list of them. */
export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchResult>;
}

export type Figures = Record<string, number | string | boolean | null>;

/** Printed by the runner as the last line of a benchmark's output, keys in this order. */
export interface BenchResult {
  bench: string;
  figures: Figures;
  reference: Figures;
  ratio: number | null;
  target: number | string;
  pass: boolean;
}

/**
 * The benchmark could not run at all (a tool is missing, a server did not start). The runner
 * prints the message as a one-line reason and exits non-zero. A missed target is not this.
 */
export class BenchUnavailable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BenchUnavailable';
  }
}
