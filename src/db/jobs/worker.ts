import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { errorMessage, PermanentError, TransientError } from '../../core/errors.js';
import { newSecret } from '../../core/ids.js';
import type { Database, Executor } from '../database.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, decideAfterFailure, type Job } from './jobs.js';
import { claimJobs, completeJobs, expireLeasesOf, extendLease, failJob, leaseHolders, releaseJob } from './jobs.repo.js';

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

export interface BatchItem<P> {
  job: Job;
  payload: P;
}

/** What a batch handler says about one job: done (undefined), later, or failed. */
export type BatchOutcome = JobResult | { error: unknown };

export interface BatchContext {
  signal: AbortSignal;
  clock: Clock;
  log: Logger;
  /**
   * Run database work and mark `done` jobs finished in the same transaction (exactly-once for
   * their database effects). A job whose lease was lost meanwhile rolls the transaction back.
   */
  transaction<T>(fn: (trx: Executor) => Promise<T>, done: readonly Job[]): Promise<T>;
}

export interface JobHandler<S extends z.ZodType = z.ZodType> {
  kind: string;
  /** Payloads are validated before the handler runs; an invalid one makes the job dead. */
  payload: S;
  run(payload: z.output<S>, ctx: JobContext): Promise<JobResult>;
  /**
   * Optional: every claimed job of this kind at once, so a fan-out reads and writes its rows in
   * a few set-based statements instead of several per job. Each job keeps its own outcome,
   * retries and backoff. Returns an outcome per job id (missing: done).
   */
  runBatch?(items: Array<BatchItem<z.output<S>>>, ctx: BatchContext): Promise<Map<string, BatchOutcome>>;
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
      await Promise.all(this.#groups(jobs).map((group) => this.#execute(group, new AbortController())));
      total += jobs.length;
    }
    throw new Error('pump: jobs keep enqueueing due jobs; stopped after maxRounds');
  }

  /**
   * How many slots to fill at once: claims are write transactions, so wait until a batch of slots
   * is free (or nothing runs) rather than claiming one job per finished job.
   */
  #claimable(): number {
    const free = this.#concurrency - this.#inflight.size;
    const batch = Math.max(1, Math.floor(this.#concurrency / 2));
    return free >= batch || this.#inflight.size === 0 ? free : 0;
  }

  /** Claim and run with full concurrency until nothing is due (a drain, no idle waiting). */
  async runUntilIdle(): Promise<number> {
    let total = 0;
    for (;;) {
      const free = this.#claimable();
      const jobs = free > 0 ? await this.#claim(free) : [];
      this.#spawn(jobs);
      total += jobs.length;
      if (jobs.length === 0 || this.#claimable() === 0) {
        if (this.#inflight.size === 0) return total;
        await Promise.race([...this.#inflight.values()].map((p) => p.promise));
      }
    }
  }

  async #runLoop(): Promise<void> {
    while (this.#running) {
      let claimed = 0;
      try {
        const free = this.#claimable();
        if (free > 0) {
          const jobs = await this.#claim(free);
          this.#spawn(jobs);
          claimed = jobs.length;
        }
      } catch (err) {
        this.#log.error({ err }, 'job claim failed; will retry');
      }
      if (!this.#running) break;
      if (claimed === 0 || this.#claimable() === 0) await this.#idle();
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

  /**
   * Jobs of a batch-capable kind run together, in batches of at most half the concurrency (so one
   * batch is claimed and started while the other still runs); every other job on its own.
   */
  #groups(jobs: readonly Job[]): Job[][] {
    const size = Math.max(1, Math.ceil(this.#concurrency / 2));
    const batches = new Map<string, Job[][]>();
    const singles: Job[][] = [];
    for (const job of jobs) {
      if (!this.#handlers.get(job.kind)?.runBatch) {
        singles.push([job]);
        continue;
      }
      const chunks = batches.get(job.kind) ?? [];
      const last = chunks[chunks.length - 1];
      if (last && last.length < size) last.push(job);
      else chunks.push([job]);
      batches.set(job.kind, chunks);
    }
    return [...[...batches.values()].flat(), ...singles];
  }

  #spawn(jobs: readonly Job[]): void {
    for (const group of this.#groups(jobs)) {
      const abort = new AbortController();
      const promise = this.#execute(group, abort).finally(() => {
        for (const job of group) this.#inflight.delete(job.id);
        this.#wake?.();
      });
      for (const job of group) this.#inflight.set(job.id, { promise, abort, job });
    }
  }

  async #execute(group: readonly Job[], abort: AbortController): Promise<void> {
    const kind = (group[0] as Job).kind;
    const handler = this.#handlers.get(kind);
    const log = this.#log.child({ kind, jobs: group.length === 1 ? (group[0] as Job).id : group.length });
    const now = this.#clock.now();
    if (!handler) {
      for (const job of group) {
        await failJob(
          this.#db.kysely,
          job,
          now,
          { state: 'queued', runAt: now + 60_000 },
          `no handler for ${job.kind} in this worker`,
        );
      }
      return;
    }
    const items: Array<BatchItem<unknown>> = [];
    for (const job of group) {
      if (job.attempts > job.maxAttempts) {
        // Its lease expired on every attempt (the worker crashed each time): stop trying.
        await failJob(this.#db.kysely, job, now, { state: 'dead' }, job.lastError ?? 'lease expired on every attempt');
        log.error({ job: job.id }, 'job dead: lease expired on every attempt');
        continue;
      }
      const parsed = handler.payload.safeParse(job.payload);
      if (parsed.success) items.push({ job, payload: parsed.data });
      else {
        const reason = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
        await this.#fail(handler, job, new PermanentError(`invalid payload: ${reason}`), log, abort);
      }
    }
    if (items.length === 0) return;

    const heartbeat = setInterval(
      () => {
        for (const { job } of items) {
          extendLease(this.#db.kysely, job, this.#clock.now() + this.#leaseMs).catch((err: unknown) =>
            log.warn({ err }, 'lease extension failed'),
          );
        }
      },
      Math.max(1000, Math.floor(this.#leaseMs / 3)),
    );
    heartbeat.unref();
    const completed = new Set<string>();
    const transaction = <T>(fn: (trx: Executor) => Promise<T>, done: readonly Job[]) =>
      this.#db.tx(async (trx) => {
        const result = await fn(trx);
        if ((await completeJobs(trx, done, this.#clock.now())) !== done.length) {
          throw new LeaseLostError('the lease of a job was lost');
        }
        for (const job of done) completed.add(job.id);
        return result;
      });
    let outcomes: Map<string, BatchOutcome>;
    try {
      if (handler.runBatch) {
        outcomes = await handler.runBatch(items, { signal: abort.signal, clock: this.#clock, log, transaction });
      } else {
        const item = items[0] as BatchItem<unknown>;
        const ctx: JobContext = {
          job: item.job,
          signal: abort.signal,
          clock: this.#clock,
          log: log.child({ attempt: item.job.attempts }),
          transaction: (fn) => transaction(fn, [item.job]),
        };
        outcomes = new Map([[item.job.id, await handler.run(item.payload, ctx).catch((error: unknown) => ({ error }))]]);
      }
    } catch (err) {
      outcomes = new Map(items.map(({ job }) => [job.id, { error: err }]));
    } finally {
      clearInterval(heartbeat);
    }
    const done: Job[] = [];
    for (const { job } of items) {
      if (completed.has(job.id)) continue;
      const outcome = outcomes.get(job.id);
      if (abort.signal.aborted) {
        await releaseJob(this.#db.kysely, job, this.#clock.now(), this.#clock.now());
      } else if (outcome && 'error' in outcome) {
        await this.#fail(handler, job, outcome.error, log, abort);
      } else if (outcome && 'rescheduleAt' in outcome) {
        await releaseJob(this.#db.kysely, job, this.#clock.now(), outcome.rescheduleAt);
      } else {
        done.push(job);
      }
    }
    if (done.length > 0) {
      const lost = done.length - (await this.#db.tx((trx) => completeJobs(trx, done, this.#clock.now())));
      if (lost > 0) log.warn({ lost }, 'jobs finished after their lease was lost; another worker may have run them');
    }
  }

  async #fail(handler: JobHandler, job: Job, err: unknown, log: Logger, abort: AbortController): Promise<void> {
    if (err instanceof LeaseLostError) {
      log.warn({ job: job.id }, 'lease lost before commit; the transaction was rolled back');
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
    if (decision.state !== 'dead') {
      log.warn({ err, job: job.id, retryAt: decision.runAt }, 'job failed; will retry');
      return;
    }
    log.error({ err, job: job.id }, 'job dead');
    const parsed = handler.payload.safeParse(job.payload);
    if (failed && parsed.success && handler.onDead) {
      const ctx: JobContext = {
        job,
        signal: abort.signal,
        clock: this.#clock,
        log,
        transaction: (fn) => this.#db.tx(fn),
      };
      await handler.onDead(parsed.data, ctx, errorMessage(err)).catch((e: unknown) => log.error({ err: e }, 'onDead failed'));
    }
  }
}
