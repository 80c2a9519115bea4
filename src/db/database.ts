import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/** A query executor: the root handle or a transaction. Repositories take this. */
export type Executor = Kysely<DB>;

export interface Database {
  readonly dialect: Dialect;
  /** Root handle. Inside db.tx(), use the handle you are given instead (SQLite has one connection). */
  readonly kysely: Kysely<DB>;
  /**
   * Run fn in one write transaction. SQLite uses BEGIN IMMEDIATE, so the write lock is taken up
   * front and concurrent writers wait on busy_timeout instead of failing half-way.
   */
  tx<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** SQLite busy timeout in ms (default 5000). */
  busyTimeoutMs?: number;
}

export function dialectOf(url: string): Dialect {
  return /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
}

/** SQLite file path from a database URL: sqlite:PATH, file:PATH or a bare path. */
export function sqlitePath(url: string): string {
  const stripped = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:(\/\/)?/, '');
  return stripped === ':memory:' ? stripped : resolve(stripped);
}

// pg returns int8/numeric as strings and parses json; Keepwarm keeps times in int8 epoch ms and
// decodes JSON itself (see codec.ts), so both dialects hand back the same JS types.
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const PG_JSON = 114;
const PG_JSONB = 3802;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8 || oid === PG_NUMERIC) return (v: string) => Number(v);
    if (oid === PG_JSON || oid === PG_JSONB) return (v: string) => v;
    // biome-ignore lint/suspicious/noExplicitAny: pg's typing of the format overloads is loose
    return pg.types.getTypeParser(oid, format as any);
  },
};

export function openDatabase(url: string, options: OpenOptions = {}): Database {
  return dialectOf(url) === 'postgres' ? openPostgres(url, options) : openSqlite(url, options);
}

function openSqlite(url: string, options: OpenOptions): Database {
  const file = sqlitePath(url);
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const conn = new BetterSqlite3(file);
  conn.pragma('journal_mode = WAL');
  conn.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  const kysely = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(conn) }) });
  return {
    dialect: 'sqlite',
    kysely,
    async tx(fn) {
      // One connection: connection() holds Kysely's mutex for the whole transaction.
      return kysely.connection().execute(async (c) => {
        await sql`begin immediate`.execute(c);
        try {
          const result = await fn(c);
          await sql`commit`.execute(c);
          return result;
        } catch (err) {
          if (conn.inTransaction) await sql`rollback`.execute(c);
          throw err;
        }
      });
    },
    async close() {
      await kysely.destroy();
    },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
  };
}

/**
 * Kysely prepares every query anew; with better-sqlite3 preparing costs more than running a small
 * statement. Keep prepared statements by SQL text (one connection, queries never overlap).
 */
function withStatementCache(conn: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => conn.close(),
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (!statement) {
        statement = conn.prepare(sqlText);
        if (cache.size >= 1000) cache.clear();
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

function openPostgres(url: string, options: OpenOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    types: pgTypes,
    application_name: 'keepwarm',
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  const kysely = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    dialect: 'postgres',
    kysely,
    tx: (fn) => kysely.transaction().execute(fn),
    async close() {
      await kysely.destroy();
    },
    async ping() {
      await sql`select 1`.execute(kysely);
    },
  };
}
