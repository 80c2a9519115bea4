/**
 * A separate worker process for the jobs contract tests.
 *   drain <databaseUrl> <workerId>: run "test.record" jobs until none is due, then exit 0.
 *   hang <databaseUrl> <workerId>:  claim a "test.hang" job, print "started <id>", never finish.
 */
import { sql } from 'kysely';
import { z } from 'zod';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { openDatabase } from '../../src/db/database.js';
import { defineJob, JobWorker } from '../../src/db/jobs/worker.js';

const [mode, url, workerId] = process.argv.slice(2);
if (!mode || !url || !workerId) {
  process.stderr.write('usage: job-worker-process.ts drain|hang DATABASE_URL WORKER_ID\n');
  process.exit(2);
}
const db = openDatabase(url);

const record = defineJob({
  kind: 'test.record',
  payload: z.object({ n: z.number() }),
  async run(_payload, ctx) {
    await new Promise((resolve) => setImmediate(resolve));
    await sql`insert into test_job_runs (job_id, worker) values (${ctx.job.id}, ${workerId})`.execute(db.kysely);
    return undefined;
  },
});

const hang = defineJob({
  kind: 'test.hang',
  payload: z.object({}).passthrough(),
  async run(_payload, ctx) {
    process.stdout.write(`started ${ctx.job.id}\n`);
    await new Promise(() => {});
    return undefined;
  },
});

const worker = new JobWorker({
  db,
  clock: systemClock,
  log: silentLogger,
  handlers: mode === 'drain' ? [record] : [hang],
  ...(workerId !== 'auto' && { workerId }),
  concurrency: mode === 'drain' ? 8 : 1,
  leaseMs: 60_000,
});

if (mode === 'drain') {
  // Start together: say ready, wait for the parent's "go" line on stdin.
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const ran = await worker.runUntilIdle();
  await db.close();
  process.stdout.write(`ran ${ran}\n`);
  process.exit(0);
} else {
  await worker.pump({ maxRounds: 1 });
}
