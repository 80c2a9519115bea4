import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import { conflict, notFound } from '../../core/errors.js';
import type { ConnectorService, PullProgress } from './connectors.service.js';

const progressSchema = z.object({
  run_id: z.string(),
  done: z.boolean(),
  pages: z.number(),
  contacts: z.number(),
  created: z.number(),
  updated: z.number(),
});

function present(p: PullProgress): z.output<typeof progressSchema> {
  return { run_id: p.runId, done: p.done, pages: p.pages, contacts: p.contacts, created: p.created, updated: p.updated };
}

/** Pull contacts from HubSpot into leads (a job pages through them), and follow its progress. */
export function registerConnectorRoutes(r: Router, connectors: ConnectorService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/leads/import/hubspot',
    summary: 'Import every HubSpot contact as a lead (CRM v3 paging, in the background)',
    description:
      'Starts a pull: a job pages through GET /crm/v3/objects/contacts and upserts each page by HubSpot record id, then email. Rate limits are honoured (429 Retry-After). Follow it with GET /api/v1/leads/import/hubspot/{run_id}.',
    tags: ['crm'],
    access: 'leads.import',
    responses: {
      202: { description: 'The pull started', schema: progressSchema },
      409: { description: 'HubSpot is not configured (crm.hubspot.accessToken)', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ reply }) {
      if (!connectors.hubspotEnabled) {
        throw conflict(
          'hubspot_not_configured',
          'HubSpot is not configured: set crm.hubspot.accessToken (KEEPWARM_HUBSPOT_TOKEN).',
          {
            field: 'crm.hubspot.accessToken',
          },
        );
      }
      const progress = await connectors.startHubspotPull();
      reply.code(202);
      return present(progress);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/leads/import/hubspot/:runId',
    summary: 'Progress of a HubSpot pull',
    tags: ['crm'],
    access: 'leads.import',
    params: z.object({ runId: z.string().min(1).max(64) }),
    responses: {
      200: { description: 'Pages and contacts imported so far', schema: progressSchema },
      404: { description: 'No such pull', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      const progress = await connectors.pullProgress(params.runId);
      if (!progress) throw notFound('Pull', params.runId);
      return present(progress);
    },
  });
}
