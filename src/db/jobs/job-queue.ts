import type { Bus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import type { Executor } from '../database.js';
import { type EnqueueInput, enqueueJob, enqueueJobs } from './jobs.repo.js';

/** What services use to cause effects outside the process: enqueue inside their transaction. */
export class JobQueue {
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #maxAttempts: number;

  constructor(deps: { clock: Clock; bus: Bus; maxAttempts: number }) {
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#maxAttempts = deps.maxAttempts;
  }

  async enqueue(trx: Executor, input: EnqueueInput): Promise<{ id: string; created: boolean }> {
    const result = await enqueueJob(trx, this.#clock.now(), this.#maxAttempts, input);
    // Wakes a local worker; if the transaction has not committed yet it finds nothing and the
    // next poll picks the job up.
    if (result.created) queueMicrotask(() => this.#bus.emit('job.enqueued'));
    return result;
  }

  /** Many at once, in multi-row statements; returns how many were new. */
  async enqueueMany(trx: Executor, inputs: readonly EnqueueInput[]): Promise<number> {
    const created = await enqueueJobs(trx, this.#clock.now(), this.#maxAttempts, inputs);
    if (created > 0) queueMicrotask(() => this.#bus.emit('job.enqueued'));
    return created;
  }

  /**
   * Keep one future run of a recurring job scheduled: the key names the time slot, so any
   * number of processes calling this schedule it once.
   */
  async scheduleRecurring(trx: Executor, kind: string, everyMs: number, payload: unknown = {}): Promise<void> {
    const now = this.#clock.now();
    const slot = Math.floor(now / everyMs) + 1;
    await this.enqueue(trx, { kind, payload, key: `${kind}@${slot}`, runAt: slot * everyMs });
  }
}
