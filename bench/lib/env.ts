import { BenchUnavailable } from './types.js';

/** A positive number from the environment (quick runs: BENCH_DURATION=3 BENCH_CONNECTIONS=64). */
export function envNumber(name: string, fallback: number, options: { integer?: boolean; min?: number } = {}): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  const min = options.min ?? 1;
  if (!Number.isFinite(value) || value < min || (options.integer === true && !Number.isInteger(value))) {
    throw new BenchUnavailable(
      `${name}=${JSON.stringify(raw)} is not ${options.integer ? 'a whole number' : 'a number'} >= ${min}`,
    );
  }
  return value;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** 12345.6 -> "12,346" */
export function formatInt(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}
