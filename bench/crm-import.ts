/**
 * crm-import: a 100,000-row HubSpot-style contacts export (quoted fields, commas inside quotes,
 * phones in several shapes, money, dates, unknown columns) imported through the CLI's code path
 * (file stream → CSV parser → mapping and validation → matching → batched inserts) into embedded
 * SQLite, and into PostgreSQL when KEEPWARM_BENCH_DATABASE_URL or KEEPWARM_TEST_DATABASE_URL is
 * set (a scratch database is created and dropped). Then the same file again: every row unchanged.
 * Figures: rows/s of the first import and of the re-import, peak RSS. Target: ≥ 50,000 rows/s.
 */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createServices } from '../src/app/services.js';
import { importLeadsFile } from '../src/cli/import.js';
import { loadConfig } from '../src/config/config.js';
import { systemClock } from '../src/core/clock.js';
import { silentLogger } from '../src/core/log.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { envNumber, formatInt, round } from './lib/env.js';
import { makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';

const TARGET_ROWS_PER_S = 50_000;

const HEADER = [
  'Record ID',
  'First Name',
  'Last Name',
  'Email',
  'Phone Number',
  'Mobile Phone Number',
  'Contact owner',
  'Lifecycle Stage',
  'Lead Status',
  'Associated Company',
  'Job Title',
  'Annual Revenue',
  'ARR Potential',
  'Create Date',
  'Last Activity Date',
  'Time Zone',
  'Industry',
  'City',
];
const STAGES = ['lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'subscriber'];
const STATUSES = ['New', 'Open', 'In progress', 'Connected', 'Attempted to contact', ''];
const FIRST = ['Ada', 'Bram', 'Chloé', 'Dev', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas'];
const LAST = ['Okafor', 'Lindqvist', "O'Neil", 'García', 'Nakamura', 'Schmidt', 'Moreau', 'Rossi'];
const ZONES = ['America/New_York', 'Europe/Berlin', 'Asia/Tokyo', 'America/Chicago', ''];

function quote(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A realistic export, written in chunks (the file is about 20 MB). */
export async function writeExport(path: string, rows: number): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  const write = (s: string) =>
    new Promise<void>((resolve, reject) => {
      bytes += Buffer.byteLength(s);
      out.write(s, (err) => (err ? reject(err) : resolve()));
    });
  await write(`${HEADER.map(quote).join(',')}\r\n`);
  let chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const first = FIRST[i % FIRST.length] ?? 'Ada';
    const last = LAST[(i >> 3) % LAST.length] ?? 'Okafor';
    const area = 200 + (i % 700);
    const line = [
      String(1_000_000 + i),
      first,
      last,
      `${first.toLowerCase().replace(/[^a-z]/g, '')}.${i}@lead${i % 997}.example`,
      i % 3 === 0
        ? `(${area}) 555-${String(i % 10_000).padStart(4, '0')}`
        : i % 3 === 1
          ? `+44 20 7946 ${String(i % 10_000).padStart(4, '0')}`
          : '',
      i % 4 === 0 ? `+1 ${area} 555 ${String((i * 7) % 10_000).padStart(4, '0')}` : '',
      i % 5 === 0 ? `rep${i % 20}@seller.example` : '',
      STAGES[i % STAGES.length] ?? 'lead',
      STATUSES[i % STATUSES.length] ?? '',
      `Company ${i % 5000}, Inc.`,
      i % 2 === 0 ? 'VP, Procurement' : 'Buyer',
      i % 7 === 0 ? `$${(1 + (i % 90)) * 100_000}` : '',
      i % 3 === 0 ? `${5 + (i % 40)}K` : String(1000 + (i % 30_000)),
      `2024-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')} 10:${String(i % 60).padStart(2, '0')}`,
      i % 2 === 0 ? `2026-11-${String(1 + (i % 27)).padStart(2, '0')}T08:00:00.000Z` : '',
      ZONES[i % ZONES.length] ?? '',
      i % 11 === 0 ? 'Industrial "heavy" equipment' : 'Retail',
      'Springfield',
    ];
    chunk.push(`${line.map(quote).join(',')}\r\n`);
    if (chunk.length === 5000) {
      await write(chunk.join(''));
      chunk = [];
    }
  }
  if (chunk.length > 0) await write(chunk.join(''));
  await new Promise<void>((resolve) => out.end(resolve));
  return bytes;
}

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

interface Measured {
  importS: number;
  /** CPU seconds of this process during the import (the machine may be shared). */
  importCpuS: number;
  phases: string;
  importRate: number;
  reimportS: number;
  reimportRate: number;
  rssMb: number;
  stored: number;
}

async function measure(databaseUrl: string, dir: string, file: string, rows: number): Promise<Measured> {
  const config = loadConfig({ env: {}, cwd: dir, overrides: { dataDir: dir, databaseUrl } });
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
    const { leads } = createServices({ config, db, clock: systemClock, log: silentLogger });
    const rss = peakRss();
    let t = performance.now();
    const cpu = process.cpuUsage();
    const first = await importLeadsFile(leads, file, 'csv');
    const importS = (performance.now() - t) / 1000;
    const used = process.cpuUsage(cpu);
    const importCpuS = (used.user + used.system) / 1e6;
    const { read_ms, match_ms, write_ms } = first.phases;
    const phases = `read+validate ${(read_ms / 1000).toFixed(2)} s, match ${(match_ms / 1000).toFixed(2)} s, write ${(write_ms / 1000).toFixed(2)} s`;
    if (first.errors > 0 || first.created !== rows)
      throw new Error(`import: ${first.created} created, ${first.errors} errors (${JSON.stringify(first.error_list[0])})`);
    t = performance.now();
    const second = await importLeadsFile(leads, file, 'csv');
    const reimportS = (performance.now() - t) / 1000;
    const rssMb = rss.stop() / 2 ** 20;
    if (second.unchanged !== rows) throw new Error(`re-import: ${second.unchanged} unchanged of ${rows}`);
    const count = await db.kysely
      .selectFrom('leads')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return {
      importS,
      importCpuS,
      phases,
      importRate: rows / importS,
      reimportS,
      reimportRate: rows / reimportS,
      rssMb,
      stored: Number(count.n),
    };
  } finally {
    await db.close();
  }
}

async function scratchPostgres(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `kw_bench_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

function line(label: string, m: Measured): string {
  return `  ${label.padEnd(10)} import ${formatInt(Math.round(m.importRate))} rows/s (${m.importS.toFixed(2)} s: ${m.phases}; ${m.importCpuS.toFixed(2)} s CPU in this process), re-import (all unchanged) ${formatInt(Math.round(m.reimportRate))} rows/s (${m.reimportS.toFixed(2)} s), peak RSS ${m.rssMb.toFixed(0)} MB, ${formatInt(m.stored)} leads stored`;
}

async function run(): Promise<BenchResult> {
  const rows = envNumber('BENCH_LEADS', 100_000, { integer: true, min: 1 });
  const dir = await makeTempDir('keepwarm-crm-import-');
  try {
    const file = join(dir, 'hubspot-contacts.csv');
    const bytes = await writeExport(file, rows);
    console.log(`crm-import: ${formatInt(rows)} HubSpot-style rows, ${(bytes / 2 ** 20).toFixed(1)} MB CSV, CLI code path`);
    const sqlite = await measure(`sqlite:${join(dir, 'keepwarm.sqlite')}`, dir, file, rows);
    console.log(line('sqlite', sqlite));
    const pgBase = process.env.KEEPWARM_BENCH_DATABASE_URL ?? process.env.KEEPWARM_TEST_DATABASE_URL;
    let postgres: Measured | null = null;
    if (pgBase) {
      const scratch = await scratchPostgres(pgBase);
      try {
        postgres = await measure(scratch.url, dir, file, rows);
        console.log(line('postgres', postgres));
      } finally {
        await scratch.drop();
      }
    } else console.log('  postgres   skipped (set KEEPWARM_BENCH_DATABASE_URL or KEEPWARM_TEST_DATABASE_URL)');
    const pass = sqlite.importRate >= TARGET_ROWS_PER_S;
    return {
      bench: 'crm-import',
      figures: {
        rows,
        sqlite_rows_per_s: Math.round(sqlite.importRate),
        sqlite_seconds: round(sqlite.importS, 2),
        sqlite_cpu_seconds: round(sqlite.importCpuS, 2),
        sqlite_reimport_rows_per_s: Math.round(sqlite.reimportRate),
        sqlite_peak_rss_mb: round(sqlite.rssMb, 0),
        postgres_rows_per_s: postgres ? Math.round(postgres.importRate) : null,
        postgres_seconds: postgres ? round(postgres.importS, 2) : null,
        postgres_cpu_seconds: postgres ? round(postgres.importCpuS, 2) : null,
        postgres_reimport_rows_per_s: postgres ? Math.round(postgres.reimportRate) : null,
        postgres_peak_rss_mb: postgres ? round(postgres.rssMb, 0) : null,
      },
      reference: { target_rows_per_s: TARGET_ROWS_PER_S },
      ratio: round(sqlite.importRate / TARGET_ROWS_PER_S, 2),
      target: `>= ${formatInt(TARGET_ROWS_PER_S)} rows/s on SQLite`,
      pass,
    };
  } finally {
    await removeTempDir(dir);
  }
}

export const crmImport: Benchmark = {
  name: 'crm-import',
  description: 'CSV import of 100,000 HubSpot-style leads (CLI path): rows/s on SQLite and PostgreSQL, peak RSS',
  run,
};
