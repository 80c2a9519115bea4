import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, type TestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { cleanEnv, REPO_ROOT, waitForExit } from '../../test/harness/processes.js';
import { type SmtpSink, startSmtpSink } from '../../test/harness/smtp-sink.js';
import { SAMPLE_VARIABLES, seedDefaultTemplates } from './default-templates.js';
import { messageIdFor } from './providers/smtp.js';

const N = 5000;
const FROM = 'Northwind Status <status@northwind.example>';

function startWorker(scratchUrl: string, dir: string) {
  return spawn(
    process.execPath,
    [
      `${REPO_ROOT}bin/keepwarm`,
      'start',
      '--roles',
      'worker',
      '--database-url',
      scratchUrl,
      '--data-dir',
      dir,
      '--config',
      join(dir, 'keepwarm.yaml'),
      '--log-level',
      'warn',
    ],
    { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

async function countFinal(c: TestContext): Promise<number> {
  const row = await sql<{
    n: number;
  }>`select count(*) as n from messages where status in ('sent', 'delivered', 'failed', 'dead')`.execute(c.db.kysely);
  return Number(row.rows[0]?.n ?? 0);
}

describeEachDialect('outbox crash safety', (dialect) => {
  let c: TestContext;
  let sink: SmtpSink;

  beforeAll(async () => {
    sink = await startSmtpSink({ countOnly: true });
    c = await createTestContext(dialect, { config: { 'smtp.url': sink.url, 'messaging.from': FROM } });
    // The worker processes read the same settings from a file.
    writeFileSync(
      join(c.scratch.dir, 'keepwarm.yaml'),
      `smtp:\n  url: ${sink.url}\n  maxConnections: 5\nmessaging:\n  from: "${FROM}"\n  emailPerSecond: 100000\njobs:\n  concurrency: 16\n`,
    );
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
  }, 60_000);

  afterAll(async () => {
    await sink?.stop();
    await c?.close();
  });

  test(`SIGKILL the worker in the middle of ${N.toLocaleString('en')} emails, restart: every message arrives, none is lost, duplicates only where a send was cut`, async () => {
    const recipients = Array.from({ length: N }, (_, i) => ({
      address: `buyer${i}@customers.example`,
      variables: { first_name: `Buyer ${i}` },
    }));
    const dispatched = await c.db.tx((trx) =>
      c.services.outbox.dispatch(trx, {
        templateKey: 'email.initial_ack',
        recipients,
        variables: SAMPLE_VARIABLES,
        incidentId: 'crash-test',
        step: 'ack',
      }),
    );
    expect(dispatched.created).toBe(N);

    const first = startWorker(c.scratch.url, c.scratch.dir);
    await sink.waitForCount(Math.floor(N * 0.3), 120_000);
    first.kill('SIGKILL');
    await waitForExit(first);
    const atKill = await sink.stats();
    expect(atKill.accepted).toBeLessThan(N);

    const second = startWorker(c.scratch.url, c.scratch.dir);
    let logs = '';
    second.stdout?.on('data', (chunk: Buffer) => {
      logs += chunk.toString();
    });
    try {
      await sink.waitForCount(N, 180_000);
      // The sink has every message; wait until the outbox has recorded every outcome too.
      for (let i = 0; i < 600 && (await countFinal(c)) < N; i++) await new Promise((r) => setTimeout(r, 100));
    } finally {
      second.kill('SIGTERM');
    }
    expect(await waitForExit(second)).toBe(0);
    expect(logs).toContain('took over the jobs of a worker that is gone');

    const statuses = await sql<{ status: string; n: number }>`select status, count(*) as n from messages group by status`.execute(
      c.db.kysely,
    );
    expect(statuses.rows.map((r) => [r.status, Number(r.n)])).toEqual([['sent', N]]);

    const received = await sink.messages({ raw: false, limit: N * 2 });
    const ids = new Set(received.map((m) => m.messageId));
    const keys = await sql<{ idempotency_key: string }>`select idempotency_key from messages`.execute(c.db.kysely);
    const expected = new Set(keys.rows.map((r) => messageIdFor(r.idempotency_key, FROM)));
    expect(ids.size).toBe(N);
    expect([...expected].filter((id) => !ids.has(id))).toEqual([]);

    // A message cut mid-send is sent again with the same Message-ID; only those can repeat.
    const resent = await sql<{
      n: number;
    }>`select count(*) as n from message_attempts where detail like 'sent again after an interrupted attempt%'`.execute(
      c.db.kysely,
    );
    const final = await sink.stats();
    const duplicates = final.accepted - final.uniqueMessageIds;
    expect(duplicates).toBeLessThanOrEqual(Number(resent.rows[0]?.n ?? 0));
    expect(Number(resent.rows[0]?.n ?? 0)).toBeLessThanOrEqual(16);
    console.log(
      `[crash ${dialect}] killed after ${atKill.accepted} of ${N}; after restart ${final.accepted} SMTP deliveries of ${final.uniqueMessageIds} distinct Message-IDs: ` +
        `${duplicates} repeated, ${Number(resent.rows[0]?.n ?? 0)} messages re-sent because their send was cut, 0 lost`,
    );
  }, 300_000);
});
