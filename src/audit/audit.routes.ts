import { z } from 'zod';
import { errorBodySchema } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { toIso } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { AuditPage } from './audit.pages.js';
import { listAudit } from './audit.repo.js';

const auditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.string().optional().describe('Entry id: return entries older than it (paging)'),
  action: z.string().optional(),
  target_type: z.string().optional(),
  target_id: z.string().optional(),
  actor_id: z.string().optional(),
});

export function registerAuditRoutes(r: Router, db: Database): void {
  const load = (q: z.output<typeof auditQuery>) =>
    listAudit(db.kysely, {
      limit: q.limit,
      ...(q.before && { before: q.before }),
      ...(q.action && { action: q.action }),
      ...(q.target_type && { targetType: q.target_type }),
      ...(q.target_id && { targetId: q.target_id }),
      ...(q.actor_id && { actorId: q.actor_id }),
    });

  r.route({
    method: 'GET',
    url: '/api/v1/audit',
    summary: 'The audit log, newest first: every state-changing call with actor, action, target, time and source address',
    tags: ['audit'],
    access: 'audit.read',
    query: auditQuery,
    responses: {
      200: {
        description: 'Entries',
        schema: z.object({
          entries: z.array(
            z.object({
              id: z.string(),
              at: z.string(),
              actor: z.object({ type: z.string(), id: z.string().nullable(), role: z.string().nullable() }),
              action: z.string(),
              target: z.object({ type: z.string(), id: z.string() }).nullable(),
              ip: z.string().nullable(),
              details: z.record(z.string(), z.unknown()),
            }),
          ),
        }),
      },
      401: { description: 'No valid credentials', schema: errorBodySchema },
      403: { description: 'Admins only', schema: errorBodySchema },
    },
    async handler({ query }) {
      const entries = await load(query);
      return { entries: entries.map((e) => ({ ...e, at: toIso(e.at) })) };
    },
  });

  r.route({
    method: 'GET',
    url: '/console/audit',
    summary: 'Audit log page',
    tags: ['console'],
    access: 'audit.read',
    page: true,
    query: auditQuery,
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ query, actor, reply }) {
      return sendPage(reply, AuditPage({ actor, entries: await load(query) }));
    },
  });
}
