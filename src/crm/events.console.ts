import { z } from 'zod';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { EventsPage } from './events.pages.js';
import type { IntentEventService } from './events.service.js';

const LIMIT = 200;

/** The console list of intent events with their incident attribution. */
export function registerEventConsole(r: Router, events: IntentEventService): void {
  r.route({
    method: 'GET',
    url: '/console/events',
    summary: 'Intent events by incident (how many arrived after it ended) and the latest events with their attribution',
    tags: ['console'],
    access: 'leads.read',
    page: true,
    query: z.object({ incident: z.string().trim().max(100).optional() }),
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ query, actor, reply }) {
      const incidentId = query.incident ? query.incident : null;
      const [summaries, rows] = await Promise.all([
        events.summaries(20),
        events.listRows({ ...(incidentId !== null && { incidentId }), limit: LIMIT }),
      ]);
      return sendPage(reply, EventsPage({ actor, summaries, events: rows, incidentId, limit: LIMIT }));
    },
  });
}
