import { z } from 'zod';
import { errorBodySchema } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import { recordAudit } from '../../audit/audit.repo.js';
import { type Clock, toIso, toIsoOrNull } from '../../core/clock.js';
import { notFound } from '../../core/errors.js';
import type { Database } from '../database.js';
import { countJobsByState, listJobs, retryDeadJob } from './jobs.repo.js';

const jobSchema = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.enum(['queued', 'running', 'done', 'dead']),
  idempotency_key: z.string(),
  run_at: z.string(),
  attempts: z.number(),
  max_attempts: z.number(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
});

export function registerJobRoutes(r: Router, db: Database, clock: Clock): void {
  r.route({
    method: 'GET',
    url: '/api/v1/jobs',
    summary: 'Jobs of the outbox, newest first, with counts by state',
    tags: ['jobs'],
    access: 'jobs.read',
    query: z.object({
      state: z.enum(['queued', 'running', 'done', 'dead']).optional(),
      kind: z.string().optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    responses: {
      200: {
        description: 'Jobs',
        schema: z.object({ counts: z.record(z.string(), z.number()), jobs: z.array(jobSchema) }),
      },
      401: { description: 'No valid credentials', schema: errorBodySchema },
      403: { description: 'Role not allowed', schema: errorBodySchema },
    },
    async handler({ query }) {
      const [counts, jobs] = await Promise.all([
        countJobsByState(db.kysely),
        listJobs(db.kysely, {
          limit: query.limit,
          ...(query.state && { state: query.state }),
          ...(query.kind && { kind: query.kind }),
        }),
      ]);
      return {
        counts,
        jobs: jobs.map((j) => ({
          id: j.id,
          kind: j.kind,
          state: j.state,
          idempotency_key: j.idempotencyKey,
          run_at: toIso(j.runAt),
          attempts: j.attempts,
          max_attempts: j.maxAttempts,
          last_error: j.lastError,
          created_at: toIso(j.createdAt),
          finished_at: toIsoOrNull(j.finishedAt),
        })),
      };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/jobs/:id/retry',
    summary: 'Put a dead job back in the queue with a fresh attempt budget',
    tags: ['jobs'],
    access: 'jobs.manage',
    params: z.object({ id: z.string() }),
    responses: {
      204: { description: 'Queued again' },
      404: { description: 'No dead job with that id', schema: errorBodySchema },
    },
    async handler({ params, actor, reply }) {
      const now = clock.now();
      await db.tx(async (trx) => {
        if (!(await retryDeadJob(trx, params.id, now))) throw notFound('Dead job', params.id);
        await recordAudit(trx, { at: now, actor, action: 'job.retry', target: { type: 'job', id: params.id } });
      });
      return reply.code(204).send();
    },
  });
}
