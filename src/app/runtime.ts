import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';
import { systemClock } from '../core/clock.js';
import { openDatabase } from '../db/database.js';
import type { JobWorker } from '../db/jobs/worker.js';
import { migrateToLatest } from '../db/migrate.js';
import { type LocalMonitor, startLocalMonitor } from '../detection/probes/local.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { buildApp } from './build-app.js';
import { createWorker, scheduleRecurringJobs } from './jobs.js';
import { createServices, type Services } from './services.js';

/** web: console and APIs; worker: the job queue; monitor: the probes of this process's region (detection.region). */
export const PROCESS_ROLES = ['web', 'worker', 'monitor'] as const;
export type ProcessRole = (typeof PROCESS_ROLES)[number];

export interface Running {
  services: Services;
  app: FastifyInstance | null;
  worker: JobWorker | null;
  monitor: LocalMonitor | null;
  url: string | null;
  stop(): Promise<void>;
}

/** Open the database, migrate, and run the requested roles in this process. */
export async function startKeepwarm(
  config: Config,
  log: Logger,
  roles: readonly ProcessRole[],
  options: { approveDefaultTemplates?: boolean } = {},
): Promise<Running> {
  const db = openDatabase(config.databaseUrl);
  await migrateToLatest(db);
  const services = createServices({ config, db, clock: systemClock, log });
  await services.secret.get();
  // The default template library, once: awaiting legal review (approved only in the demo).
  await seedDefaultTemplates(db, systemClock, { approve: options.approveDefaultTemplates === true });
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
  const monitor = roles.includes('monitor')
    ? startLocalMonitor({
        detection: services.detection,
        region: config.detection.region,
        log,
        bus: services.bus,
        now: () => services.clock.now(),
      })
    : null;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await monitor?.stop();
      await app?.close();
      await worker?.stop(10_000);
      await services.providers.close();
      await db.close();
    })();
    return stopping;
  };
  return { services, app, worker, monitor, url, stop };
}

/**
 * Run the requested roles. With `web.processes` > 1 this process becomes the primary of a
 * cluster: it migrates, runs every non-web role itself and forks that many web processes sharing
 * the port (the kernel and Node spread connections between them); a web process that dies is
 * replaced. In a forked web process, this runs the web role only.
 */
export async function launch(config: Config, log: Logger, roles: readonly ProcessRole[]): Promise<Running> {
  if (cluster.isWorker) return startKeepwarm(config, log.child({ web: cluster.worker?.id }), ['web']);
  if (!roles.includes('web') || config.web.processes <= 1) return startKeepwarm(config, log, roles);

  const local = await startKeepwarm(
    config,
    log,
    roles.filter((r) => r !== 'web'),
  );
  let stopping = false;
  const workers = new Set<Worker>();
  const fork = (): Promise<string> => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      if (!stopping) {
        log.error({ code, signal, pid: worker.process.pid }, 'web process died; starting another');
        fork().catch((err: unknown) => log.error({ err }, 'could not replace the web process'));
      }
    });
    return new Promise((resolve, reject) => {
      worker.once('listening', (address) =>
        resolve(`http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`),
      );
      worker.once('exit', (code) => reject(new Error(`web process exited (${code}) before listening`)));
    });
  };
  const urls = await Promise.all(Array.from({ length: config.web.processes }, fork));
  return {
    ...local,
    url: urls[0] ?? null,
    async stop() {
      stopping = true;
      await Promise.all(
        [...workers].map(
          (w) =>
            new Promise<void>((resolve) => {
              w.once('exit', () => resolve());
              w.process.kill('SIGTERM');
            }),
        ),
      );
      await local.stop();
    },
  };
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
