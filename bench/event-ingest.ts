/**
 * event-ingest: intent events through IntentEventService.record (what POST /api/v1/events and the
 * browser path run after parsing the body) into embedded SQLite, in batches of 500: validation,
 * deduplication by messageId (10% of the batches are sent twice, as an SDK does after a lost answer),
 * matching to 2,000 leads by email, and attribution to three incident windows (one a drill).
 * Reference, measured in the same run: a plain INSERT of the same rows (same columns, same batches
 * and transactions) without dedupe, matching or attribution. Target: ≥ 20,000 events/s stored.
 */
import { join } from 'node:path';
import { SYSTEM_ACTOR } from '../src/app/actor.js';
import { createServices } from '../src/app/services.js';
import { importLeadsFile } from '../src/cli/import.js';
import { loadConfig } from '../src/config/config.js';
import { FakeClock, HOUR, MINUTE } from '../src/core/clock.js';
import { newId } from '../src/core/ids.js';
import { silentLogger } from '../src/core/log.js';
import { toDbJson } from '../src/db/codec.js';
import { type Database, openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import type { NewRow } from '../src/db/schema.js';
import { writeExport } from './crm-import.js';
import { envNumber, formatInt, round } from './lib/env.js';
import { makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TARGET_EVENTS_PER_S = 20_000;
const BATCH = 500;
const LEADS = 2_000;
const TYPES = ['product_viewed', 'product_viewed', 'product_viewed', 'cart_updated', 'form_submitted', 'demo_booked'] as const;

interface Generated {
  messageId: string;
  type: (typeof TYPES)[number];
  email?: string;
  anonymousId?: string;
  product?: string;
  value?: number;
  at: string;
}

/** Events over the last 6 hours; one in three from a known lead (the CSV's emails). */
function generate(count: number, now: number): Generated[] {
  const out: Generated[] = [];
  for (let i = 0; i < count; i++) {
    const type = TYPES[i % TYPES.length] ?? 'product_viewed';
    const lead = i % 3 === 0 ? i % LEADS : -1;
    const e: Generated = {
      messageId: `${(i * 2654435761) % 4294967296}-${i}`,
      type,
      at: new Date(now - 6 * HOUR + Math.floor((i / count) * 6 * HOUR)).toISOString(),
    };
    if (lead >= 0) {
      const first = ['ada', 'bram', 'chlo', 'dev', 'elif', 'femi', 'greta', 'hiro', 'ines', 'jonas'][lead % 10];
      e.email = `${first}.${lead}@lead${lead % 997}.example`;
    } else e.anonymousId = `anon-${i % 5000}`;
    if (type === 'product_viewed' || type === 'cart_updated') e.product = `Product ${i % 800}`;
    if (type === 'cart_updated') e.value = 1000 + (i % 40_000);
    out.push(e);
  }
  return out;
}

async function openScratch(dir: string, name: string): Promise<Database> {
  const db = openDatabase(`sqlite:${join(dir, `${name}.sqlite`)}`);
  await migrateToLatest(db);
  return db;
}

interface Measured {
  seconds: number;
  /** CPU seconds of this process (SQLite runs in it): what the work costs on a machine shared with others. */
  cpuSeconds: number;
  stored: number;
  attributed: number;
  duplicates: number;
}

async function measureService(dir: string, events: Generated[], now: number): Promise<Measured> {
  const config = loadConfig({
    env: {},
    cwd: dir,
    overrides: { dataDir: dir, databaseUrl: `sqlite:${join(dir, 'service.sqlite')}` },
  });
  const db = await openScratch(dir, 'service');
  try {
    const clock = new FakeClock(now - 7 * HOUR);
    const services = createServices({ config, db, clock, log: silentLogger });
    const csv = join(dir, 'leads.csv');
    await writeExport(csv, LEADS);
    await importLeadsFile(services.leads, csv, 'csv');
    // A real outage from -5 h to -4 h, a drill from -3 h to -2.5 h, and a real one open since -1 h.
    const windows: Array<[number, number | null, boolean]> = [
      [5 * HOUR, 4 * HOUR, false],
      [3 * HOUR, 2.5 * HOUR, true],
      [1 * HOUR, null, false],
    ];
    for (const [start, end, drill] of windows) {
      clock.set(now - start + MINUTE);
      const { incident } = await services.incidents.declare(SYSTEM_ACTOR, {
        name: drill ? 'Drill' : 'Outage',
        drill,
        started_at: now - start,
      });
      if (end !== null) {
        clock.set(now - end);
        await services.incidents.postUpdate(SYSTEM_ACTOR, incident.id, { status: 'resolved', message: 'Resolved.' });
      }
    }
    clock.set(now);
    let duplicates = 0;
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
      const answer = await services.intentEvents.record(batch);
      if (answer.errors.length > 0) throw new Error(`batch ${i / BATCH}: ${JSON.stringify(answer.errors[0])}`);
      // Every tenth batch again: its answer was "lost", the SDK resends it.
      if ((i / BATCH) % 10 === 9) duplicates += (await services.intentEvents.record(batch)).duplicates;
    }
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const counts = await db.kysely
      .selectFrom('intent_events')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.count<number | string>('incident_id').as('attributed')])
      .executeTakeFirstOrThrow();
    return {
      seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      stored: Number(counts.n),
      attributed: Number(counts.attributed),
      duplicates,
    };
  } finally {
    await db.close();
  }
}

/** The same rows, inserted plainly: no ON CONFLICT, no lead lookups, no incident windows. */
async function measurePlain(dir: string, events: Generated[], now: number): Promise<Measured> {
  const db = await openScratch(dir, 'plain');
  try {
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < events.length; i += BATCH) {
      const rows: Array<NewRow<'intent_events'>> = events.slice(i, i + BATCH).map((e) => ({
        id: newId(now),
        message_id: e.messageId,
        lead_id: null,
        type: e.type,
        email: e.email ?? null,
        anonymous_id: e.anonymousId ?? null,
        product: e.product ?? null,
        value: e.value ?? null,
        properties: toDbJson({}),
        at: Date.parse(e.at),
        received_at: now,
        source: 'api',
        incident_id: null,
        incident_drill: null,
      }));
      await db.tx(async (trx) => {
        for (let j = 0; j < rows.length; j += 500)
          await trx
            .insertInto('intent_events')
            .values(rows.slice(j, j + 500))
            .execute();
      });
    }
    const seconds = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    return { seconds, cpuSeconds: (used.user + used.system) / 1e6, stored: events.length, attributed: 0, duplicates: 0 };
  } finally {
    await db.close();
  }
}

async function run(): Promise<BenchResult> {
  const count = envNumber('BENCH_EVENTS', 100_000, { integer: true, min: BATCH });
  const dir = await makeTempDir('keepwarm-event-ingest-');
  try {
    const now = Date.UTC(2026, 10, 28, 12, 0, 0);
    const events = generate(count, now);
    console.log(
      `event-ingest: ${formatInt(count)} events in batches of ${BATCH} (10% of batches sent twice), ${formatInt(LEADS)} leads, 3 incident windows, SQLite`,
    );
    const plain = await measurePlain(dir, events, now);
    const service = await measureService(dir, events, now);
    if (service.stored !== count) throw new Error(`stored ${service.stored} events of ${count}`);
    const rate = count / service.seconds;
    const plainRate = count / plain.seconds;
    console.log(
      `  record()      ${formatInt(Math.round(rate))} events/s (${service.seconds.toFixed(2)} s, ${service.cpuSeconds.toFixed(2)} s CPU in this process; ${formatInt(service.duplicates)} resent events counted as duplicates, ${formatInt(service.attributed)} attributed to an incident)`,
    );
    console.log(
      `  plain INSERT  ${formatInt(Math.round(plainRate))} events/s (${plain.seconds.toFixed(2)} s, ${plain.cpuSeconds.toFixed(2)} s CPU; the same rows, no dedupe, matching or attribution)`,
    );
    return {
      bench: 'event-ingest',
      figures: {
        events: count,
        sqlite_events_per_s: Math.round(rate),
        sqlite_seconds: round(service.seconds, 2),
        sqlite_cpu_seconds: round(service.cpuSeconds, 2),
        sqlite_events_per_cpu_s: Math.round(count / service.cpuSeconds),
        duplicates_detected: service.duplicates,
        attributed: service.attributed,
      },
      reference: {
        plain_insert_events_per_s: Math.round(plainRate),
        plain_insert_events_per_cpu_s: Math.round(count / plain.cpuSeconds),
        target_events_per_s: TARGET_EVENTS_PER_S,
      },
      ratio: round(rate / plainRate, 2),
      target: `>= ${formatInt(TARGET_EVENTS_PER_S)} events/s on SQLite (with dedupe, matching and attribution)`,
      pass: rate >= TARGET_EVENTS_PER_S,
    };
  } finally {
    await removeTempDir(dir);
  }
}

export const eventIngest: Benchmark = {
  name: 'event-ingest',
  description: 'Intent events with dedupe, lead matching and incident attribution: events/s on SQLite vs a plain INSERT',
  run,
};
