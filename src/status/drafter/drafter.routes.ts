import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import { DRAFT_STATUSES } from './drafter.js';
import type { DrafterService } from './drafter.service.js';

export const draftRequestSchema = z
  .strictObject({
    status: z.enum(DRAFT_STATUSES).optional().describe('The status the update will announce (default: the current one)'),
  })
  .default({});

const draftResponseSchema = z.object({
  text: z.string(),
  source: z
    .enum(['template', 'builtin', 'llm'])
    .describe('template: approved skeleton; builtin: neutral text (no skeleton approved); llm'),
  fallback_reason: z.string().optional().describe('Why the draft is not what was asked for'),
  skeleton: z.object({ key: z.string(), version: z.number() }).nullable(),
  facts: z.record(z.string(), z.unknown()),
});

export function registerDrafterRoutes(r: Router, drafter: DrafterService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/draft',
    summary: 'Draft the next public update of an incident (never publishes)',
    description:
      "Renders legal's approved skeleton for the status with the incident's facts: components, scope, duration, what changed since the last update, the fallback URL and the next update time. With an LLM endpoint configured, the model rewrites it; any failure keeps the template draft and says why.",
    tags: ['incidents', 'status'],
    access: 'incidents.update',
    params: z.object({ id: z.string().min(1) }),
    body: draftRequestSchema,
    responses: {
      200: { description: 'A draft for a person to edit and publish', schema: draftResponseSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body }) {
      const draft = await drafter.draft(params.id, body.status);
      return { ...draft, facts: draft.facts as unknown as Record<string, unknown> };
    },
  });
}
