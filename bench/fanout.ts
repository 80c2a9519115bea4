import { connect } from 'node:net';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import { createWorker } from '../src/app/jobs.js';
import { createServices, type Services } from '../src/app/services.js';
import { loadConfig } from '../src/config/config.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/log.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { SAMPLE_VARIABLES, seedDefaultTemplates } from '../src/messaging/default-templates.js';
import { listMessages } from '../src/messaging/messages.repo.js';
import { SmtpProvider } from '../src/messaging/providers/smtp.js';
import { type SmtpSink, startSmtpSink } from '../test/harness/smtp-sink.js';
import { envNumber, formatInt, round } from './lib/env.js';
import { makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TEMPLATE = 'email.initial_ack';
const FROM = 'Northwind Status <status@northwind.example>';

function peakRss(): { stop(): number } {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage.rss());
    },
  };
}

/** Keepwarm's whole path: render, outbox rows and jobs in one transaction, then the worker through the SMTP pool. */
async function fullPath(services: Services, count: number, step: string, sink: SmtpSink): Promise<{ ms: number; rssMb: number }> {
  const start = await sink.count();
  const rss = peakRss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const recipients = Array.from({ length: count }, (_, i) => ({
    address: `lead${i}@buyers.example`,
    variables: { first_name: `Lead ${i}` },
  }));
  await services.db.tx((trx) =>
    services.outbox.dispatch(trx, { templateKey: TEMPLATE, recipients, variables: SAMPLE_VARIABLES, incidentId: 'fanout', step }),
  );
  const queuedMs = performance.now() - t0;
  const worker = createWorker(services, { workerId: `bench-${step}` });
  await worker.runUntilIdle();
  const ms = performance.now() - t0;
  if (process.env.BENCH_DEBUG) {
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `  (${step}: dispatch ${queuedMs.toFixed(0)} ms, delivery ${(ms - queuedMs).toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1000 / ms).toFixed(2)} cores)`,
    );
  }
  const rssMb = rss.stop() / 2 ** 20;
  const got = (await sink.count()) - start;
  if (got !== count) throw new Error(`the sink received ${got} of ${count} messages`);
  return { ms, rssMb };
}

/**
 * The reference: nodemailer's pool sending the same pre-rendered messages (the same headers,
 * Message-IDs and parts, composed up front), nothing else.
 */
async function rawNodemailer(services: Services, sinkUrl: string, connections: number, sink: SmtpSink): Promise<number> {
  const composer = new SmtpProvider({ name: 'compose-only', url: sinkUrl, from: FROM, maxConnections: 1, timeoutMs: 10_000 });
  const mails = (await listMessages(services.db.kysely, { limit: 1_000_000 })).map((m) =>
    composer.compose({
      id: m.id,
      idempotencyKey: `raw|${m.idempotencyKey}`,
      channel: 'email',
      to: m.recipient,
      subject: m.subject ?? undefined,
      text: m.bodyText,
      html: m.bodyHtml ?? undefined,
      purpose: m.purpose,
      unsubscribeUrl: typeof m.metadata.unsubscribe_url === 'string' ? m.metadata.unsubscribe_url : undefined,
      metadata: {},
    }),
  );
  await composer.close();
  const url = new URL(sinkUrl);
  // Nagle off, as Keepwarm's provider does: otherwise every message waits ~40 ms for a delayed ACK
  // and the reference would be slow for a reason that has nothing to do with the work.
  const transport = nodemailer.createTransport(
    new SMTPPool({
      pool: true,
      url: sinkUrl,
      maxConnections: connections,
      maxMessages: Number.POSITIVE_INFINITY,
      getSocket: (_options, callback) =>
        callback(null, { connection: connect({ host: url.hostname, port: Number(url.port), noDelay: true }) }),
    }),
  );
  const start = await sink.count();
  const t0 = performance.now();
  await Promise.all(mails.map((mail) => transport.sendMail(mail)));
  const ms = performance.now() - t0;
  transport.close();
  const got = (await sink.count()) - start;
  if (got !== mails.length) throw new Error(`raw nodemailer: the sink received ${got} of ${mails.length}`);
  return ms;
}

async function run(): Promise<BenchResult> {
  const count = envNumber('BENCH_MESSAGES', 20_000, { integer: true, min: 1 });
  const connections = envNumber('BENCH_SMTP_CONNECTIONS', 5, { integer: true, min: 1 });
  const dir = await makeTempDir('keepwarm-bench-fanout-');
  const sink = await startSmtpSink({ countOnly: true });
  // A real relay answers in tens of milliseconds; BENCH_SINK_LATENCY_MS makes the sink wait that long per reply.
  const latencyMs = envNumber('BENCH_SINK_LATENCY_MS', 0, { integer: true, min: 0 });
  if (latencyMs > 0) await sink.latency(latencyMs);
  let services: Services | null = null;
  try {
    const config = loadConfig({
      env: {},
      cwd: dir,
      overrides: {
        dataDir: dir,
        databaseUrl: `sqlite:${join(dir, 'bench.sqlite')}`,
        'smtp.url': sink.url,
        'smtp.maxConnections': connections,
        'messaging.from': FROM,
        'messaging.emailPerSecond': 1_000_000,
        'jobs.concurrency': envNumber('BENCH_CONCURRENCY', 64, { integer: true, min: 1 }),
      },
    });
    const db = openDatabase(config.databaseUrl);
    await migrateToLatest(db);
    services = createServices({ config, db, clock: systemClock, log: silentLogger });
    await services.secret.get();
    await seedDefaultTemplates(db, systemClock, { approve: true });

    // Render throughput, on its own.
    const template = await services.templates.requireApproved(db.kysely, TEMPLATE);
    const renders = Math.min(count, 20_000);
    const r0 = performance.now();
    for (let i = 0; i < renders; i++)
      services.templates.render(template, {
        ...SAMPLE_VARIABLES,
        first_name: `Lead ${i}`,
        unsubscribe_url: `https://k.example/u/${i}`,
      });
    const rendersPerSec = renders / ((performance.now() - r0) / 1000);

    await fullPath(services, Math.min(200, count), 'warmup', sink);
    const full = await fullPath(services, count, 'measured', sink);
    await services.db.kysely.deleteFrom('messages').where('idempotency_key', 'like', '%|warmup').execute();
    const rawCpu0 = process.cpuUsage();
    const rawMs = await rawNodemailer(services, sink.url, connections, sink);
    if (process.env.BENCH_DEBUG) {
      const cpu = process.cpuUsage(rawCpu0);
      console.log(`  (raw: ${rawMs.toFixed(0)} ms, CPU ${((cpu.user + cpu.system) / 1000 / rawMs).toFixed(2)} cores)`);
    }

    const fullRate = count / (full.ms / 1000);
    const rawRate = count / (rawMs / 1000);
    const ratio = round(fullRate / rawRate, 3);
    console.log(
      `fanout: ${formatInt(count)} approved emails (${TEMPLATE}) to ${formatInt(count)} recipients, SMTP pool of ${connections} into a local SMTP sink process`,
    );
    console.log(
      `  keepwarm full path  ${formatInt(fullRate)} msgs/s  (${(full.ms / 1000).toFixed(1)} s: render + outbox rows + jobs + worker + SMTP), peak RSS ${full.rssMb.toFixed(0)} MB`,
    );
    console.log(
      `  raw nodemailer pool ${formatInt(rawRate)} msgs/s  (${(rawMs / 1000).toFixed(1)} s, same pre-rendered messages)`,
    );
    console.log(`  render throughput   ${formatInt(rendersPerSec)} renders/s`);
    console.log(`  ratio ${ratio} (target >= 0.8): ${ratio >= 0.8 ? 'PASS' : 'MISS'}`);
    return {
      bench: 'fanout',
      figures: {
        keepwarm_msgs_per_s: round(fullRate, 0),
        raw_nodemailer_msgs_per_s: round(rawRate, 0),
        renders_per_s: round(rendersPerSec, 0),
        peak_rss_mb: round(full.rssMb, 0),
        messages: count,
        smtp_connections: connections,
        sink_latency_ms: latencyMs,
      },
      reference: { raw_nodemailer_msgs_per_s: round(rawRate, 0) },
      ratio,
      target: 'ratio >= 0.8',
      pass: ratio >= 0.8,
    };
  } finally {
    await services?.providers.close();
    await services?.db.close();
    await sink.stop();
    await removeTempDir(dir);
  }
}

export const fanout: Benchmark = { name: 'fanout', description: '20,000 emails through the outbox vs raw nodemailer', run };
