import { z } from 'zod';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { sendPage } from '../console/layout.js';
import { notFound } from '../core/errors.js';
import { MessagePage, OutboxPage } from './messages.pages.js';
import { countMessages, findMessage, listAttempts, listMessages } from './messages.repo.js';
import { messageFilterSchema } from './messages.routes.js';

export function registerMessageConsole(r: Router, services: Services): void {
  const { db } = services;
  r.route({
    method: 'GET',
    url: '/console/outbox',
    summary: 'Outbox page: messages by incident, channel and status',
    tags: ['console'],
    access: 'messages.read',
    page: true,
    query: messageFilterSchema.extend({
      channel: z.string().optional(),
      status: z.string().optional(),
    }),
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ query, actor, reply }) {
      const filter = {
        incident_id: query.incident_id || undefined,
        channel: query.channel || undefined,
        status: query.status || undefined,
        recipient: query.recipient || undefined,
      };
      const [messages, counts] = await Promise.all([
        listMessages(db.kysely, {
          limit: query.limit,
          incidentId: filter.incident_id,
          channel: filter.channel,
          status: filter.status,
          recipient: filter.recipient,
          before: query.before,
        }),
        countMessages(db.kysely, { incidentId: filter.incident_id }),
      ]);
      return sendPage(reply, OutboxPage({ actor, messages, counts, filter, providers: services.providers.describe() }));
    },
  });

  r.route({
    method: 'GET',
    url: '/console/outbox/:id',
    summary: 'One message: content and every delivery attempt',
    tags: ['console'],
    access: 'messages.read',
    page: true,
    params: z.object({ id: z.string() }),
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ params, actor, reply }) {
      const message = await findMessage(db.kysely, params.id);
      if (!message) throw notFound('Message', params.id);
      return sendPage(reply, MessagePage({ actor, message, attempts: await listAttempts(db.kysely, message.id) }));
    },
  });
}
