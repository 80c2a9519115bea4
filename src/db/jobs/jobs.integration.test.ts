import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { z } from 'zod';
import {
  createScratchDatabase,
  describeEachDialect,
  openMigrated,
  type ScratchDatabase,
} from '../../../test/harness/databases.js';
import { spawnTs, waitForExit, waitForLine } from '../../../test/harness/processes.js';
import { Bus } from '../../core/bus.js';
import { FakeClock, SECOND } from '../../core/clock.js';
import { PermanentError, TransientError } from '../../core/errors.js';
import { silentLogger } from '../../core/log.js';
import type { Database } from '../database.js';
import { JobQueue } from './job-queue.js';
import { countJobsByState, findJobByKey, listJobs } from './jobs.repo.js';
import { defineJob, type JobHandler, JobWorker } from './worker.js';

describeEachDialect('jobs queue contract', (dialect) => {
  let scratch: ScratchDatabase;
  let db: Database;
  let clock: FakeClock;
  let queue: JobQueue;
  const ran: string[] = [];

  beforeAll(async () => {
    scratch = await createScratchDatabase(dialect);
    db = await openMigrated(scratch);
    await db.kysely.schema
      .createTable('test_job_runs')
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('worker', 'text', (c) => c.notNull())
      .execute();
  });
  afterAll(async () => {
    await db.close();
    await scratch.drop();
  });
  beforeEach(async () => {
    clock = new FakeClock();
    queue = new JobQueue({ clock, bus: new Bus(), maxAttempts: 4 });
    ran.length = 0;
    await db.kysely.deleteFrom('jobs').execute();
    await sql`delete from test_job_runs`.execute(db.kysely);
  });

  const worker = (handlers: JobHandler[], options: { concurrency?: number; workerId?: string } = {}) =>
    new JobWorker({ db, clock, log: silentLogger, handlers, leaseMs: 30 * SECOND, random: () => 0.5, ...options });

  const recorder = defineJob({
    kind: 'test.record',
    payload: z.object({ n: z.number() }),
    async run(payload) {
      ran.push(`n${payload.n}`);
      return undefined;
    },
  });

  test('a job enqueued in a committed transaction runs once; its idempotency key makes a second enqueue a no-op', async () => {
    const first = await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 1 }, key: 'k-1' }));
    const second = await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 1 }, key: 'k-1' }));
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(await worker([recorder]).pump()).toBe(1);
    expect(ran).toEqual(['n1']);
    // Even after it is done, the same key never runs again.
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 1 }, key: 'k-1' }));
    expect(await worker([recorder]).pump()).toBe(0);
    expect((await findJobByKey(db.kysely, 'k-1'))?.state).toBe('done');
  });

  test('a job enqueued in a rolled-back transaction never runs', async () => {
    await expect(
      db.tx(async (trx) => {
        await queue.enqueue(trx, { kind: 'test.record', payload: { n: 2 }, key: 'rolled-back' });
        throw new Error('the fact that needed the job failed');
      }),
    ).rejects.toThrow('the fact that needed the job failed');
    expect(await worker([recorder]).pump()).toBe(0);
    expect(ran).toEqual([]);
    expect(await findJobByKey(db.kysely, 'rolled-back')).toBeUndefined();
  });

  test('run_at in the future waits for the clock', async () => {
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 3 }, runAt: clock.now() + 60 * SECOND }));
    const w = worker([recorder]);
    expect(await w.pump()).toBe(0);
    clock.advance(59 * SECOND);
    expect(await w.pump()).toBe(0);
    clock.advance(1 * SECOND);
    expect(await w.pump()).toBe(1);
    expect(ran).toEqual(['n3']);
  });

  test('a backlog of bulk deliveries does not hold back a job of the first lane enqueued after it; bulk keeps its order', async () => {
    const bulk = defineJob({
      kind: 'test.bulk',
      payload: z.object({ n: z.number() }),
      async run(payload) {
        ran.push(`b${payload.n}`);
        return undefined;
      },
    });
    const N = 300;
    const start = clock.now();
    await db.tx((trx) =>
      queue.enqueueMany(
        trx,
        Array.from({ length: N }, (_, n) => ({ kind: 'test.bulk', payload: { n }, bulk: true, runAt: start - N + n })),
      ),
    );
    clock.advance(1);
    // The status page's publish, say: enqueued after the whole fan-out.
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 7 } }));
    const w = worker([recorder, bulk], { concurrency: 4 });
    expect(await w.runUntilIdle()).toBe(N + 1);
    expect(ran).toHaveLength(N + 1);
    // In the first claim of 4, not after 300 deliveries.
    expect(ran.indexOf('n7')).toBeLessThan(4);
    const order = ran.filter((r) => r.startsWith('b')).map((r) => Number(r.slice(1)));
    // Batches of a claim may finish in any order; claims follow run_at.
    for (let i = 0; i < order.length; i++) expect(Math.abs((order[i] as number) - i)).toBeLessThan(8);
    expect(new Set(order).size).toBe(N);
  });

  test('failures retry with exponential backoff and jitter, then the job is dead', async () => {
    const attempts: number[] = [];
    const flaky = defineJob({
      kind: 'test.flaky',
      payload: z.object({}),
      backoff: { baseMs: 10 * SECOND, maxMs: 3600 * SECOND },
      async run(_p, ctx) {
        attempts.push(ctx.clock.now());
        throw new TransientError('provider timed out');
      },
    });
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.flaky', payload: {}, key: 'flaky' }));
    const w = worker([flaky]);
    const t0 = clock.now();
    expect(await w.pump()).toBe(1);
    // random() = 0.5 → delay = ceiling/2 + ceiling/4: 7.5 s, 15 s, 30 s for ceilings 10, 20, 40 s.
    for (const delay of [7_500, 15_000, 30_000]) {
      const job = await findJobByKey(db.kysely, 'flaky');
      expect(job?.state).toBe('queued');
      expect(job?.runAt).toBe(clock.now() + delay);
      clock.advance(delay - 1);
      expect(await w.pump()).toBe(0);
      clock.advance(1);
      expect(await w.pump()).toBe(1);
    }
    const job = await findJobByKey(db.kysely, 'flaky');
    expect(job?.state).toBe('dead');
    expect(job?.attempts).toBe(4);
    expect(job?.lastError).toContain('provider timed out');
    expect(attempts.map((a) => a - t0)).toEqual([0, 7_500, 22_500, 52_500]);
  });

  test('a permanent error or an invalid payload makes the job dead at once', async () => {
    const refuse = defineJob({
      kind: 'test.refuse',
      payload: z.object({ to: z.string() }),
      async run() {
        throw new PermanentError('recipient does not exist');
      },
    });
    await db.tx(async (trx) => {
      await queue.enqueue(trx, { kind: 'test.refuse', payload: { to: 'x' }, key: 'perm' });
      await queue.enqueue(trx, { kind: 'test.refuse', payload: { wrong: true }, key: 'bad-payload' });
    });
    await worker([refuse]).pump();
    const perm = await findJobByKey(db.kysely, 'perm');
    const bad = await findJobByKey(db.kysely, 'bad-payload');
    expect([perm?.state, perm?.attempts, perm?.lastError]).toEqual(['dead', 1, 'recipient does not exist']);
    expect(bad?.state).toBe('dead');
    expect(bad?.lastError).toContain('invalid payload');
  });

  test('a handler can reschedule itself without spending an attempt (quiet hours)', async () => {
    let calls = 0;
    const later = defineJob({
      kind: 'test.later',
      payload: z.object({}),
      async run(_p, ctx) {
        calls++;
        return calls === 1 ? { rescheduleAt: ctx.clock.now() + 3600 * SECOND } : undefined;
      },
    });
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.later', payload: {}, key: 'later' }));
    const w = worker([later]);
    await w.pump();
    expect(await findJobByKey(db.kysely, 'later')).toMatchObject({ state: 'queued', attempts: 0 });
    clock.advance(3600 * SECOND);
    await w.pump();
    expect(await findJobByKey(db.kysely, 'later')).toMatchObject({ state: 'done', attempts: 1 });
  });

  test('ctx.transaction makes database effects and completion one commit', async () => {
    const effect = defineJob({
      kind: 'test.effect',
      payload: z.object({ n: z.number() }),
      async run(payload, ctx) {
        await ctx.transaction(async (trx) => {
          await sql`insert into test_job_runs (job_id, worker) values (${ctx.job.id}, ${`n${payload.n}`})`.execute(trx);
        });
        return undefined;
      },
    });
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.effect', payload: { n: 7 }, key: 'effect' }));
    await worker([effect]).pump();
    const rows = await sql<{ worker: string }>`select worker from test_job_runs`.execute(db.kysely);
    expect(rows.rows.map((r) => r.worker)).toEqual(['n7']);
    expect((await findJobByKey(db.kysely, 'effect'))?.state).toBe('done');
  });

  test('a claimed job whose worker vanished is taken again after its lease expires, and only then', async () => {
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.record', payload: { n: 9 }, key: 'lease' }));
    // A worker that claims and never reports back (its process died).
    const { claimJobs } = await import('./jobs.repo.js');
    const [claimed] = await claimJobs(db, {
      now: clock.now(),
      workerId: 'ghost',
      leaseMs: 30 * SECOND,
      limit: 1,
      kinds: ['test.record'],
    });
    expect(claimed?.state).toBe('running');
    const w = worker([recorder]);
    clock.advance(29 * SECOND);
    expect(await w.pump()).toBe(0);
    clock.advance(1 * SECOND);
    expect(await w.pump()).toBe(1);
    expect(ran).toEqual(['n9']);
    expect(await findJobByKey(db.kysely, 'lease')).toMatchObject({ state: 'done', attempts: 2 });
  });

  test('graceful stop: a running job finishes; past the grace period it is put back without charging an attempt', async () => {
    let release!: () => void;
    let started!: () => void;
    const startedP = new Promise<void>((r) => {
      started = r;
    });
    const slow = defineJob({
      kind: 'test.slow',
      payload: z.object({ wait: z.boolean() }),
      async run(payload, ctx) {
        started();
        if (payload.wait) {
          await new Promise<void>((resolve) => {
            release = resolve;
          });
        } else {
          await new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
        }
        return undefined;
      },
    });
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.slow', payload: { wait: true }, key: 'finishes' }));
    const w = worker([slow]);
    w.start();
    await startedP;
    const stopping = w.stop(60_000);
    release();
    await stopping;
    expect(await findJobByKey(db.kysely, 'finishes')).toMatchObject({ state: 'done' });

    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.slow', payload: { wait: false }, key: 'interrupted' }));
    const started2 = new Promise<void>((r) => {
      started = r;
    });
    const w2 = worker([slow]);
    w2.start();
    await started2;
    await w2.stop(0);
    expect(await findJobByKey(db.kysely, 'interrupted')).toMatchObject({ state: 'queued', attempts: 0 });
  });

  test('two worker processes drain 2,000 jobs and no job runs twice', async () => {
    const N = 2000;
    await db.tx(async (trx) => {
      for (let n = 0; n < N; n++) await queue.enqueue(trx, { kind: 'test.record', payload: { n }, key: `drain-${n}` });
    });
    const children = ['alpha', 'beta'].map((id) => spawnTs('test/harness/job-worker-process.ts', ['drain', scratch.url, id]));
    await Promise.all(children.map((c) => waitForLine(c, /^ready$/)));
    for (const c of children) c.stdin?.write('go\n');
    const codes = await Promise.all(children.map(waitForExit));
    expect(codes).toEqual([0, 0]);
    const runs = await sql<{ job_id: string; worker: string }>`select job_id, worker from test_job_runs`.execute(db.kysely);
    expect(runs.rows).toHaveLength(N);
    expect(new Set(runs.rows.map((r) => r.job_id)).size).toBe(N);
    const perWorker = new Map<string, number>();
    for (const r of runs.rows) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
    expect(perWorker.get('alpha')).toBeGreaterThan(0);
    expect(perWorker.get('beta')).toBeGreaterThan(0);
    expect(await countJobsByState(db.kysely)).toEqual({ queued: 0, running: 0, done: N, dead: 0 });
  }, 120_000);

  test('a worker killed with SIGKILL mid-job: the job runs again after the lease expires', async () => {
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.hang', payload: {}, key: 'killed' }));
    const child = spawnTs('test/harness/job-worker-process.ts', ['hang', scratch.url, 'doomed']);
    const [, jobId] = await waitForLine(child, /^started (\S+)$/);
    child.kill('SIGKILL');
    await waitForExit(child);
    const orphan = await findJobByKey(db.kysely, 'killed');
    expect(orphan).toMatchObject({ id: jobId, state: 'running', lockedBy: 'doomed', attempts: 1 });

    const finisher = defineJob({
      kind: 'test.hang',
      payload: z.object({}).passthrough(),
      async run(_p, ctx) {
        ran.push(ctx.job.id);
        return undefined;
      },
    });
    const w = worker([finisher]);
    clock.set((orphan?.leaseExpiresAt ?? 0) - 1);
    expect(await w.pump()).toBe(0);
    clock.advance(1);
    expect(await w.pump()).toBe(1);
    expect(ran).toEqual([jobId]);
    expect(await findJobByKey(db.kysely, 'killed')).toMatchObject({ state: 'done', attempts: 2 });
  }, 60_000);

  test("a restarted worker on the same host takes over a dead worker's jobs at once, without waiting for the lease", async () => {
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.hang', payload: {}, key: 'orphan' }));
    const child = spawnTs('test/harness/job-worker-process.ts', ['hang', scratch.url, 'auto']);
    await waitForLine(child, /^started /);
    const alive = worker([]);
    expect(await alive.recoverOrphans()).toBe(0);
    child.kill('SIGKILL');
    await waitForExit(child);
    const finisher = defineJob({
      kind: 'test.hang',
      payload: z.object({}).passthrough(),
      async run(_p, ctx) {
        ran.push(ctx.job.idempotencyKey);
        return undefined;
      },
    });
    const w = worker([finisher]);
    clock.set(Date.now());
    expect(await w.pump()).toBe(0);
    expect(await w.recoverOrphans()).toBe(1);
    expect(await w.pump()).toBe(1);
    expect(ran).toEqual(['orphan']);
  }, 60_000);

  test('dead jobs are listed for operators', async () => {
    await db.tx((trx) => queue.enqueue(trx, { kind: 'test.unknown', payload: {}, key: 'orphan-kind', maxAttempts: 1 }));
    expect((await listJobs(db.kysely, { state: 'queued' })).map((j) => j.idempotencyKey)).toContain('orphan-kind');
  });
});

describe('backoff with the real random source stays inside its band', () => {
  test('equal jitter: between half and all of the exponential ceiling', async () => {
    const { computeBackoffMs } = await import('./jobs.js');
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(3_600_000, 2_000 * 2 ** (attempt - 1));
      const d = computeBackoffMs(attempt, { baseMs: 2_000, maxMs: 3_600_000 }, Math.random);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});
