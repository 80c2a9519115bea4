import { runCommand } from './process.js';
import { BenchUnavailable } from './types.js';

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSec: number;
  /** wrk counts slower responses as timeouts and leaves them out of the latency figures (wrk default 2 s). */
  timeoutSec?: number;
  headers?: Record<string, string>;
  /** A Lua script for wrk -s. */
  script?: string;
}

export interface WrkLatency {
  avgMs: number;
  stdevMs: number;
  maxMs: number;
  /** Percentile -> ms, from --latency (50, 75, 90, 99). */
  percentilesMs: Record<number, number>;
}

export interface WrkResult {
  requests: number;
  elapsedSec: number;
  bytesRead: number;
  rps: number;
  transferPerSec: number;
  latency: WrkLatency;
  errors: { connect: number; read: number; write: number; timeout: number };
  /** Responses with a status other than 2xx/3xx. */
  non2xx3xx: number;
  /** The command as run, and its raw output, for people. */
  command: string;
  output: string;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 };

/** "812.00us", "3.25ms", "1.02s", "1.50m" -> milliseconds. */
export function parseWrkDuration(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!match) throw new Error(`unrecognised wrk duration ${JSON.stringify(text)}`);
  return Number(match[1]) * (TIME_UNITS[match[2] as string] as number);
}

/** "1.20GB", "512.00B", "3.4MB" -> bytes (wrk uses powers of 1024). */
export function parseWrkSize(text: string): number {
  const match = /^([\d.]+)([KMGTP]?)B$/.exec(text.trim());
  if (!match) throw new Error(`unrecognised wrk size ${JSON.stringify(text)}`);
  return Number(match[1]) * (SIZE_UNITS[match[2] as string] as number);
}

/** Parse wrk 4.x output (with or without --latency). */
export function parseWrkOutput(output: string): Omit<WrkResult, 'command' | 'output'> {
  const num = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(output);
    if (!m) throw new Error(`wrk output has no ${what} line`);
    return m;
  };
  const rps = Number(num(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]);
  const transfer = num(/^Transfer\/sec:\s+(\S+)/m, 'Transfer/sec')[1] as string;
  const totals = num(/^\s*(\d+) requests in ([\d.]+\w+), (\S+) read/m, 'requests total');
  const lat = num(/^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'Latency stats');
  const percentilesMs: Record<number, number> = {};
  for (const m of output.matchAll(/^\s+(\d+(?:\.\d+)?)%\s+(\S+)\s*$/gm)) {
    percentilesMs[Number(m[1])] = parseWrkDuration(m[2] as string);
  }
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  return {
    requests: Number(totals[1]),
    elapsedSec: parseWrkDuration(totals[2] as string) / 1000,
    bytesRead: parseWrkSize(totals[3] as string),
    rps,
    transferPerSec: parseWrkSize(transfer),
    latency: {
      avgMs: parseWrkDuration(lat[1] as string),
      stdevMs: parseWrkDuration(lat[2] as string),
      maxMs: parseWrkDuration(lat[3] as string),
      percentilesMs,
    },
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
    non2xx3xx: Number(non2xx?.[1] ?? 0),
  };
}

/** Socket errors plus non-2xx/3xx responses: anything but a clean run. */
export function wrkErrorCount(r: Pick<WrkResult, 'errors' | 'non2xx3xx'>): number {
  return r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.non2xx3xx;
}

export function wrkArgs(o: WrkOptions): string[] {
  const args = [`-t${Math.min(o.threads, o.connections)}`, `-c${o.connections}`, `-d${o.durationSec}s`, '--latency'];
  if (o.timeoutSec !== undefined) args.push('--timeout', `${o.timeoutSec}s`);
  for (const [name, value] of Object.entries(o.headers ?? {})) args.push('-H', `${name}: ${value}`);
  if (o.script) args.push('-s', o.script);
  args.push(o.url);
  return args;
}

/** Run wrk and parse its report. */
export async function runWrk(wrk: string, options: WrkOptions): Promise<WrkResult> {
  const args = wrkArgs(options);
  const command = ['wrk', ...args].join(' ');
  const result = await runCommand(wrk, args, { timeoutMs: (options.durationSec + 60) * 1000 });
  if (result.code !== 0) {
    const why = result.stderr.trim().split('\n')[0] ?? '';
    throw new BenchUnavailable(`${command} failed (${result.code ?? result.signal})${why ? `: ${why}` : ''}`);
  }
  try {
    return { ...parseWrkOutput(result.stdout), command, output: result.stdout };
  } catch (err) {
    throw new BenchUnavailable(
      `${command}: ${(err as Error).message}; output: ${result.stdout.replace(/\s+/g, ' ').slice(0, 300)}`,
    );
  }
}
