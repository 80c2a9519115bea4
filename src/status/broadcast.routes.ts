import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { updateSchema } from '../incidents/incidents.routes.js';
import { renderUpdateJson, renderUpdateResponseSchema } from '../messaging/templates.routes.js';
import { SURFACES } from './broadcast.js';
import type { BroadcastService } from './broadcast.service.js';

const problemSchema = z.object({
  level: z.enum(['error', 'warning']),
  code: z.string(),
  surface: z.enum(SURFACES).nullable(),
  message: z.string(),
});

const previewSchema = z.object({
  publishable: z.boolean(),
  problems: z.array(problemSchema),
  reach: z.array(z.object({ surface: z.enum(SURFACES), enabled: z.boolean(), recipients: z.number().nullable() })),
  rendering: renderUpdateResponseSchema,
});

/** The composer's API: what an update would say on every surface, and whether it may go out. */
export function registerBroadcastRoutes(r: Router, broadcast: BroadcastService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/preview',
    summary: 'Preview an update on every surface (nothing is published): renderings, reach and disagreements',
    tags: ['status'],
    access: 'incidents.update',
    params: z.object({ id: z.string().min(1) }),
    body: updateSchema,
    responses: {
      200: { description: 'What each surface would say', schema: previewSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body }) {
      const preview = await broadcast.preview(params.id, body);
      return {
        publishable: !preview.problems.some((p) => p.level === 'error'),
        problems: preview.problems,
        reach: preview.reach,
        rendering: renderUpdateJson(preview.rendering),
      };
    },
  });
}
