import type { Command } from 'commander';
import { createServices, type Services } from '../app/services.js';
import { type Config, ConfigError, loadConfig } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { openDatabase } from '../db/database.js';
import { migrateToLatest } from '../db/migrate.js';

export interface CommonOptions {
  port?: string;
  dataDir?: string;
  config?: string;
  databaseUrl?: string;
  logLevel?: string;
}

/** Every command takes these: where data lives, which port, which config file. */
export function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--port <port>', 'HTTP port (env KEEPWARM_PORT, default 8080)')
    .option('--data-dir <dir>', 'data folder (env KEEPWARM_DATA_DIR, default ./data)')
    .option('--database-url <url>', 'database (env KEEPWARM_DATABASE_URL; postgres://… for PostgreSQL)')
    .option('--config <file>', 'YAML config file (env KEEPWARM_CONFIG, default ./keepwarm.yaml if present)')
    .option('--log-level <level>', 'log level (env KEEPWARM_LOG_LEVEL, default info)');
}

export function configFrom(
  options: CommonOptions,
  defaults: Record<string, unknown> = {},
  extraOverrides: Record<string, unknown> = {},
): Config {
  return loadConfig({
    env: process.env,
    file: options.config,
    defaults,
    overrides: {
      port: options.port,
      dataDir: options.dataDir,
      databaseUrl: options.databaseUrl,
      logLevel: options.logLevel,
      ...extraOverrides,
    },
  });
}

/** Run a command against the configured database (migrated first) with every service wired. */
export async function withServices<T>(options: CommonOptions, fn: (s: Services) => Promise<T>): Promise<T> {
  const config = configFrom(options);
  const log = createLogger(options.logLevel ?? 'warn');
  const db = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(db);
    return await fn(createServices({ config, db, clock: systemClock, log }));
  } finally {
    await db.close();
  }
}

/** Exit codes: 0 ok, 1 the command failed, 2 invalid usage or configuration. */
export function reportFailure(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof ConfigError) {
    stderr.write(`keepwarm: invalid configuration (${err.problems.length} problem${err.problems.length > 1 ? 's' : ''}):\n`);
    for (const problem of err.problems) stderr.write(`  - ${problem}\n`);
    return 2;
  }
  if (err instanceof AppError) {
    stderr.write(`keepwarm: ${err.message}\n`);
    return err.status === 400 || err.status === 422 ? 2 : 1;
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    stderr.write(`keepwarm: the port is already in use (${(err as Error).message}); choose another with --port.\n`);
    return 1;
  }
  stderr.write(`keepwarm: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  return 1;
}
