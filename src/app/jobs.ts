import { z } from 'zod';
import { HOUR } from '../core/clock.js';
import { defineJob, type JobHandler, JobWorker } from '../db/jobs/worker.js';
import type { Services } from './services.js';

const PURGE_SESSIONS = 'auth.purge_sessions';

/** Every job kind this codebase runs, with its handler. Features add theirs here. */
export function jobHandlers(services: Services): JobHandler[] {
  return [
    services.outbox.deliverJob(),
    ...services.detection.jobHandlers(),
    ...services.subscribers.jobHandlers(),
    ...services.cadence.jobHandlers(),
    ...services.playbook.jobHandlers(),
    ...services.statusPublisher.jobHandlers(),
    ...services.mirror.jobHandlers(),
    ...services.drills.jobHandlers(),
    ...services.connectors.jobHandlers(),
    ...services.crmOutage.jobHandlers(),
    ...services.sequences.jobHandlers(),
    ...services.privacy.jobHandlers(),
    ...services.reports.jobHandlers(),
    ...services.credits.jobHandlers(),
    defineJob({
      kind: PURGE_SESSIONS,
      payload: z.object({}).passthrough(),
      async run(_payload, ctx) {
        const removed = await services.auth.purgeExpiredSessions();
        if (removed > 0) ctx.log.info({ removed }, 'expired sessions removed');
        await services.db.tx((trx) => services.jobs.scheduleRecurring(trx, PURGE_SESSIONS, HOUR));
      },
    }),
  ];
}

/** Recurring jobs that must always have a next run scheduled. */
export async function scheduleRecurringJobs(services: Services): Promise<void> {
  await services.db.tx(async (trx) => {
    await services.jobs.scheduleRecurring(trx, PURGE_SESSIONS, HOUR);
    await services.detection.scheduleRecurring(trx);
    await services.playbook.scheduleRecurring(trx);
    await services.privacy.scheduleRecurring(trx);
    await services.credits.scheduleRecurring(trx);
  });
}

export function createWorker(services: Services, options: { workerId?: string } = {}): JobWorker {
  const { config } = services;
  const worker = new JobWorker({
    db: services.db,
    clock: services.clock,
    log: services.log.child({ role: 'worker' }),
    handlers: jobHandlers(services),
    concurrency: config.jobs.concurrency,
    leaseMs: config.jobs.leaseSeconds * 1000,
    pollMs: config.jobs.pollMilliseconds,
    ...(options.workerId && { workerId: options.workerId }),
  });
  services.bus.on('job.enqueued', () => worker.notify());
  // A public change enqueued its status.publish job inside its transaction: pick it up at once.
  services.bus.on('public.changed', () => worker.notify());
  return worker;
}
