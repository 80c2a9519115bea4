import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { openDatabase } from '../db/database.js';
import type { JobWorker } from '../db/jobs/worker.js';
import { migrateToLatest } from '../db/migrate.js';
import { buildApp } from './build-app.js';
import { createWorker, scheduleRecurringJobs } from './jobs.js';
import { createServices, type Services } from './services.js';

export const PROCESS_ROLES = ['web', 'worker'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

export interface Running {
  services: Services;
  app: FastifyInstance | null;
  worker: JobWorker | null;
  url: string | null;
  stop(): Promise<void>;
}

/** Open the database, migrate, and run the requested roles in this process. */
export async function startKeepwarm(config: Config, log: Logger, roles: readonly ProcessRole[]): Promise<Running> {
  const db = openDatabase(config.databaseUrl);
  await migrateToLatest(db);
  const services = createServices({ config, db, clock: systemClock, log });
  let app: FastifyInstance | null = null;
  let url: string | null = null;
  let worker: JobWorker | null = null;
  if (roles.includes('web')) {
    app = (await buildApp({ config, db, clock: systemClock, log, services })).app;
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  }
  if (roles.includes('worker')) {
    await scheduleRecurringJobs(services);
    worker = createWorker(services);
    worker.start();
  }
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app?.close();
      await worker?.stop(10_000);
      await db.close();
    })();
    return stopping;
  };
  return { services, app, worker, url, stop };
}

/** Stop cleanly on SIGTERM/SIGINT: finish in-flight requests and jobs, then exit. */
export function stopOnSignals(running: { stop(): Promise<void> }, log: Logger): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(130);
    signalled = true;
    log.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
