import { z } from 'zod';
import { STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { EVENT_TYPES, eventBatchSchema, MAX_EVENTS_PER_BATCH } from './events.js';
import type { IntentEventService } from './events.service.js';

/** The SDK's event buffer posts here with an API token that may only write events. */
export function registerEventRoutes(r: Router, events: IntentEventService): void {
  r.route({
    method: 'POST',
    url: '/api/v1/events',
    summary: `Intent events in batches of up to ${MAX_EVENTS_PER_BATCH}, deduplicated by messageId`,
    description:
      `Each event: {messageId, type: ${EVENT_TYPES.join('|')}, leadId? | email? | anonymousId?, product?, value?, at?, properties?}. ` +
      'A repeated messageId counts as a duplicate; an invalid event is listed by its index and the others are kept.',
    tags: ['crm'],
    access: 'events.write',
    body: eventBatchSchema,
    responses: {
      200: {
        description: 'Recorded',
        schema: z.object({
          accepted: z.number(),
          duplicates: z.number(),
          unmatched: z.number(),
          errors: z.array(z.object({ index: z.number(), field: z.string(), message: z.string() })),
        }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ body }) {
      return events.record(body.events);
    },
  });
}
