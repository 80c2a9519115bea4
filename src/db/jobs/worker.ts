import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { errorMessage, PermanentError, TransientError } from '../../core/errors.js';
import { newSecret } from '../../core/ids.js';
import type { Database, Executor } from '../database.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, decideAfterFailure, type Job } from './jobs.js';
import { claimJobs, completeJob, expireLeasesOf, extendLease, failJob, leaseHolders, releaseJob } from './jobs.repo.js';

export interface JobContext {
  job: Job;
  /** Aborted when the worker is shutting down past its grace period. */
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  /**
   * Run database work and mark this job done in the same transaction: for effects that live
   * only in the database this is exactly-once. Throws if the lease was lost meanwhile.
   */
  transaction<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
}

/** A handler may ask to run again later without spending an attempt (quiet hours, rate limits). */
export type JobResult = undefined | { rescheduleAt: number };

export interface JobHandler<S extends z.ZodType = z.ZodType> {
  kind: string;
  /** Payloads are validated before the handler runs; an invalid one makes the job dead. */
  payload: S;
  run(payload: z.output<S>, ctx: JobContext): Promise<JobResult>;
  backoff?: BackoffPolicy;
  /** Called once when the job goes dead, to record the failure where people look (e.g. the message). */
  onDead?(payload: z.output<S>, ctx: JobContext, error: string): Promise<void>;
}

export function defineJob<S extends z.ZodType>(handler: JobHandler<S>): JobHandler<S> {
  return handler;
}

export interface WorkerOptions {
  db: Database;
  clock: Clock;
  log: Logger;
  handlers: ReadonlyArray<JobHandler>;
  workerId?: string;
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  random?: () => number;
}

class LeaseLostError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims due jobs and runs their handlers. `start()` runs it in the background with real timers;
 * `pump()` runs everything due at the clock's current time and returns (tests, CLI drains).
 */
export class JobWorker {
  readonly workerId: string;
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #handlers = new Map<string, JobHandler>();
  readonly #concurrency: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #random: () => number;
  readonly #inflight = new Map<string, { promise: Promise<void>; abort: AbortController; job: Job }>();
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(options: WorkerOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#log = options.log;
    for (const h of options.handlers) this.#handlers.set(h.kind, h);
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${newSecret(4)}`;
    this.#concurrency = options.concurrency ?? 8;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#pollMs = options.pollMs ?? 200;
    this.#random = options.random ?? Math.random;
  }

  get kinds(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Nudge a sleeping worker (something was just enqueued in this process). */
  notify(): void {
    this.#wake?.();
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.recoverOrphans()
      .catch((err: unknown) => this.#log.warn({ err }, 'could not check for orphaned leases'))
      .then(() => this.#runLoop());
  }

  /**
   * A worker on this host that died (killed, crashed) leaves leases behind until they expire. Its
   * process id is in the lease holder's name: if no such process runs any more, end its leases
   * now, so a restarted Keepwarm resumes at once instead of after the lease time. Returns how
   * many jobs were freed. (A live process with a reused id only means waiting for expiry.)
   */
  async recoverOrphans(): Promise<number> {
    const host = hostname();
    let freed = 0;
    for (const { lockedBy } of await leaseHolders(this.#db.kysely)) {
      const [holderHost, pidText] = lockedBy.split(':');
      const pid = Number(pidText);
      if (holderHost !== host || !Number.isInteger(pid) || pid <= 0 || pid === process.pid || isAlive(pid)) continue;
      const n = await expireLeasesOf(this.#db.kysely, lockedBy, this.#clock.now());
      if (n > 0) this.#log.warn({ lockedBy, jobs: n }, 'took over the jobs of a worker that is gone');
      freed += n;
    }
    return freed;
  }

  /**
   * Stop claiming, wait up to graceMs for running jobs, then abort the rest and put them back in
   * the queue without charging an attempt.
   */
  async stop(graceMs = 10_000): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    const pending = [...this.#inflight.values()];
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const finished = Promise.allSettled(pending.map((p) => p.promise)).then(() => 'done' as const);
    const outcome = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const p of this.#inflight.values()) p.abort.abort(new Error('worker shutting down'));
      await Promise.allSettled([...this.#inflight.values()].map((p) => p.promise));
    }
  }

  /** Run every job due now, including jobs those jobs enqueue as due, until none is left. */
  async pump(options: { maxRounds?: number } = {}): Promise<number> {
    let total = 0;
    for (let round = 0; round < (options.maxRounds ?? 10_000); round++) {
      const jobs = await this.#claim(this.#concurrency);
      if (jobs.length === 0) return total;
      await Promise.all(jobs.map((job) => this.#execute(job, new AbortController())));
      total += jobs.length;
    }
    throw new Error('pump: jobs keep enqueueing due jobs; stopped after maxRounds');
  }

  /** Claim and run with full concurrency until nothing is due (a drain, no idle waiting). */
  async runUntilIdle(): Promise<number> {
    let total = 0;
    for (;;) {
      const free = this.#concurrency - this.#inflight.size;
      const jobs = free > 0 ? await this.#claim(free) : [];
      for (const job of jobs) this.#spawn(job);
      total += jobs.length;
      if (jobs.length === 0) {
        if (this.#inflight.size === 0) return total;
        await Promise.race([...this.#inflight.values()].map((p) => p.promise));
      } else if (this.#inflight.size >= this.#concurrency) {
        await Promise.race([...this.#inflight.values()].map((p) => p.promise));
      }
    }
  }

  async #runLoop(): Promise<void> {
    while (this.#running) {
      let claimed = 0;
      try {
        const free = this.#concurrency - this.#inflight.size;
        if (free > 0) {
          const jobs = await this.#claim(free);
          for (const job of jobs) this.#spawn(job);
          claimed = jobs.length;
        }
      } catch (err) {
        this.#log.error({ err }, 'job claim failed; will retry');
      }
      if (!this.#running) break;
      if (claimed === 0 || this.#inflight.size >= this.#concurrency) await this.#idle();
    }
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#pollMs);
      timer.unref();
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.#wake === done) self.#wake = null;
        resolve();
      }
      this.#wake = done;
    });
  }

  #claim(limit: number): Promise<Job[]> {
    return claimJobs(this.#db, {
      now: this.#clock.now(),
      workerId: this.workerId,
      leaseMs: this.#leaseMs,
      limit,
      kinds: this.kinds,
    });
  }

  #spawn(job: Job): void {
    const abort = new AbortController();
    const promise = this.#execute(job, abort).finally(() => {
      this.#inflight.delete(job.id);
      this.#wake?.();
    });
    this.#inflight.set(job.id, { promise, abort, job });
  }

  async #execute(job: Job, abort: AbortController): Promise<void> {
    const handler = this.#handlers.get(job.kind);
    const log = this.#log.child({ job: job.id, kind: job.kind, attempt: job.attempts });
    if (!handler) {
      await failJob(
        this.#db.kysely,
        job,
        this.#clock.now(),
        { state: 'queued', runAt: this.#clock.now() + 60_000 },
        `no handler for ${job.kind} in this worker`,
      );
      return;
    }
    if (job.attempts > job.maxAttempts) {
      // Its lease expired on every attempt (the worker crashed each time): stop trying.
      await failJob(
        this.#db.kysely,
        job,
        this.#clock.now(),
        { state: 'dead' },
        job.lastError ?? 'lease expired on every attempt',
      );
      log.error('job dead: lease expired on every attempt');
      return;
    }
    const heartbeat = setInterval(
      () => {
        extendLease(this.#db.kysely, job, this.#clock.now() + this.#leaseMs).catch((err: unknown) =>
          log.warn({ err }, 'lease extension failed'),
        );
      },
      Math.max(1000, Math.floor(this.#leaseMs / 3)),
    );
    heartbeat.unref();
    let completedInTx = false;
    const ctx: JobContext = {
      job,
      signal: abort.signal,
      clock: this.#clock,
      log,
      transaction: (fn) =>
        this.#db.tx(async (trx) => {
          const result = await fn(trx);
          if (!(await completeJob(trx, job, this.#clock.now()))) throw new LeaseLostError('lease lost');
          completedInTx = true;
          return result;
        }),
    };
    try {
      const parsed = handler.payload.safeParse(job.payload);
      if (!parsed.success) {
        throw new PermanentError(
          `invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
        );
      }
      const result = await handler.run(parsed.data, ctx);
      if (abort.signal.aborted && !completedInTx) {
        await releaseJob(this.#db.kysely, job, this.#clock.now(), this.#clock.now());
        return;
      }
      if (result && 'rescheduleAt' in result) {
        if (!completedInTx) await releaseJob(this.#db.kysely, job, this.#clock.now(), result.rescheduleAt);
        return;
      }
      if (!completedInTx && !(await completeJob(this.#db.kysely, job, this.#clock.now()))) {
        log.warn('job finished after its lease was lost; another worker may have run it');
      }
    } catch (err) {
      if (err instanceof LeaseLostError) {
        log.warn('lease lost before commit; the transaction was rolled back');
        return;
      }
      if (abort.signal.aborted) {
        await releaseJob(this.#db.kysely, job, this.#clock.now(), this.#clock.now());
        return;
      }
      const decision = decideAfterFailure({
        attempts: job.attempts,
        maxAttempts: job.maxAttempts,
        now: this.#clock.now(),
        permanent: err instanceof PermanentError,
        retryAfterMs: err instanceof TransientError ? err.retryAfterMs : undefined,
        policy: handler.backoff ?? DEFAULT_BACKOFF,
        random: this.#random,
      });
      const failed = await failJob(this.#db.kysely, job, this.#clock.now(), decision, errorMessage(err));
      if (decision.state === 'dead') {
        log.error({ err }, 'job dead');
        const parsed = handler.payload.safeParse(job.payload);
        if (failed && parsed.success && handler.onDead) {
          await handler.onDead(parsed.data, ctx, errorMessage(err)).catch((e: unknown) => log.error({ err: e }, 'onDead failed'));
        }
      } else log.warn({ err, retryAt: decision.runAt }, 'job failed; will retry');
    } finally {
      clearInterval(heartbeat);
    }
  }
}
