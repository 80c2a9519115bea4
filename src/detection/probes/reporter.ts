import type { Logger } from 'pino';
import type { ProbeResult } from '../monitor.js';

/** The receiver refused a batch for good (e.g. 400/422): retrying would not help, the batch is dropped. */
export class RejectedBatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RejectedBatchError';
  }
}

export interface ReporterOptions {
  /** Deliver one batch; reject to retry later (RejectedBatchError: drop it). */
  deliver(batch: ProbeResult[]): Promise<void>;
  /** Results kept while the receiver is unreachable; past that the oldest go (default 10,000). */
  maxBuffered?: number;
  /** Results per delivery at most (default 1,000; the API takes 5,000). */
  maxBatch?: number;
  /** Retry delays: from `initialBackoffMs`, doubling, up to `maxBackoffMs`, with jitter. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  log?: Logger;
  random?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export interface ReporterStats {
  buffered: number;
  delivered: number;
  dropped: number;
  failedAttempts: number;
  /** Consecutive failed deliveries right now (0: healthy). */
  failing: number;
}

/**
 * Hands probe results to their receiver (the detection service, or the server's API for an
 * agent), one delivery at a time: results that arrive meanwhile go in the next batch, so a slow
 * receiver gets bigger batches rather than more requests. When delivery fails the results are
 * kept (the newest `maxBuffered`) and retried with capped exponential backoff; nothing throws.
 */
export class ResultReporter {
  readonly #deliver: ReporterOptions['deliver'];
  readonly #maxBuffered: number;
  readonly #maxBatch: number;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #log: Logger | undefined;
  readonly #random: () => number;
  readonly #setTimer: (fn: () => void, ms: number) => unknown;
  readonly #clearTimer: (handle: unknown) => void;
  #buffer: ProbeResult[] = [];
  #inFlight: Promise<void> | null = null;
  #retryTimer: unknown = null;
  #failing = 0;
  #delivered = 0;
  #dropped = 0;
  #failedAttempts = 0;
  #closed = false;

  constructor(options: ReporterOptions) {
    this.#deliver = options.deliver;
    this.#maxBuffered = options.maxBuffered ?? 10_000;
    this.#maxBatch = options.maxBatch ?? 1_000;
    this.#initialBackoffMs = options.initialBackoffMs ?? 1_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#log = options.log;
    this.#random = options.random ?? Math.random;
    this.#setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.#clearTimer = options.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  push(results: readonly ProbeResult[]): void {
    if (this.#closed || results.length === 0) return;
    for (const r of results) this.#buffer.push(r);
    this.#trim();
    this.#pump();
  }

  stats(): ReporterStats {
    return {
      buffered: this.#buffer.length,
      delivered: this.#delivered,
      dropped: this.#dropped,
      failedAttempts: this.#failedAttempts,
      failing: this.#failing,
    };
  }

  /**
   * Deliver what is buffered now (ignoring backoff), waiting at most `timeoutMs`; then accept no
   * more. For shutdown: the last results are worth one more try.
   */
  async close(timeoutMs = 5_000): Promise<void> {
    if (this.#closed) return;
    if (this.#retryTimer !== null) this.#clearTimer(this.#retryTimer);
    this.#retryTimer = null;
    const deadline = Date.now() + timeoutMs;
    let timer: unknown = null;
    const expired = new Promise<'expired'>((resolve) => {
      timer = this.#setTimer(() => resolve('expired'), timeoutMs);
    });
    const failuresBefore = this.#failedAttempts;
    try {
      while (Date.now() < deadline) {
        if (this.#inFlight) {
          if ((await Promise.race([this.#inFlight, expired])) === 'expired') break;
          continue;
        }
        // Empty, or the receiver failed again during this last try: give up.
        if (this.#buffer.length === 0 || this.#failedAttempts > failuresBefore) break;
        this.#pump(true);
      }
    } finally {
      this.#clearTimer(timer);
      this.#closed = true;
      if (this.#retryTimer !== null) this.#clearTimer(this.#retryTimer);
      this.#retryTimer = null;
    }
  }

  #trim(): void {
    const excess = this.#buffer.length - this.#maxBuffered;
    if (excess <= 0) return;
    this.#buffer.splice(0, excess);
    if (this.#dropped === 0 || this.#failing > 0)
      this.#log?.warn({ dropped: excess, kept: this.#maxBuffered }, 'result buffer full: oldest probe results dropped');
    this.#dropped += excess;
  }

  #pump(force = false): void {
    if (this.#inFlight || this.#buffer.length === 0 || (this.#closed && !force)) return;
    if (this.#retryTimer !== null && !force) return;
    const batch = this.#buffer.splice(0, this.#maxBatch);
    this.#inFlight = this.#deliver(batch).then(
      () => {
        this.#inFlight = null;
        if (this.#failing > 0) this.#log?.info({ afterAttempts: this.#failing }, 'probe results delivered again');
        this.#failing = 0;
        this.#delivered += batch.length;
        if (!this.#closed) this.#pump();
      },
      (err: unknown) => {
        this.#inFlight = null;
        if (err instanceof RejectedBatchError) {
          this.#dropped += batch.length;
          this.#log?.error({ err: err.message, results: batch.length }, 'probe results rejected; dropped');
          if (!this.#closed) this.#pump();
          return;
        }
        this.#failedAttempts++;
        this.#failing++;
        // Back in front, in order; the newest win if that overflows.
        this.#buffer = batch.concat(this.#buffer);
        this.#trim();
        const base = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** (this.#failing - 1));
        const delayMs = Math.round(base / 2 + (this.#random() * base) / 2);
        this.#log?.warn(
          {
            err: err instanceof Error ? err.message : String(err),
            attempt: this.#failing,
            retryInMs: delayMs,
            buffered: this.#buffer.length,
          },
          'could not deliver probe results; will retry',
        );
        if (this.#closed) return;
        this.#retryTimer = this.#setTimer(() => {
          this.#retryTimer = null;
          this.#pump();
        }, delayMs);
      },
    );
  }
}
