import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Database, type Dialect, openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { describeNeeding, PG_URL, postgresMissing } from './env.js';

export interface ScratchDatabase {
  dialect: Dialect;
  url: string;
  /** A folder for this database's test files (SQLite file, data dir). */
  dir: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of the given dialect: a SQLite file, or a new PostgreSQL database. */
export async function createScratchDatabase(dialect: Dialect): Promise<ScratchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'keepwarm-test-'));
  if (dialect === 'sqlite') {
    return {
      dialect,
      url: `sqlite:${join(dir, 'keepwarm.sqlite')}`,
      dir,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (!PG_URL) throw new Error('KEEPWARM_TEST_DATABASE_URL is not set');
  const name = `kw_test_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    dir,
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function openMigrated(scratch: ScratchDatabase): Promise<Database> {
  const db = openDatabase(scratch.url);
  await migrateToLatest(db);
  return db;
}

export const DIALECTS: readonly Dialect[] = ['sqlite', 'postgres'];

/**
 * Run the same suite on SQLite and on PostgreSQL. PostgreSQL needs KEEPWARM_TEST_DATABASE_URL
 * (a role allowed to create databases); each suite gets its own database.
 */
export function describeEachDialect(name: string, fn: (dialect: Dialect) => void): void {
  for (const dialect of DIALECTS) {
    describeNeeding('PostgreSQL', dialect === 'postgres' ? postgresMissing : null, `${name} [${dialect}]`, () => fn(dialect));
  }
}
