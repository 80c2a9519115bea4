import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { recordAudit } from '../audit/audit.repo.js';
import { toIso, toIsoOrNull } from '../core/clock.js';
import { notFound } from '../core/errors.js';
import { countMessages, findMessage, listAttempts, listMessages, type Message } from './messages.repo.js';
import { MESSAGE_STATUSES, OUTBOUND_CHANNELS } from './messaging.js';
import { addSuppression, listSuppressions, removeSuppression } from './suppressions.repo.js';

const messageSchema = z.object({
  id: z.string(),
  idempotency_key: z.string(),
  incident_id: z.string().nullable(),
  channel: z.enum(OUTBOUND_CHANNELS),
  purpose: z.enum(['transactional', 'marketing']),
  template_key: z.string().nullable(),
  recipient: z.string(),
  recipient_name: z.string().nullable(),
  status: z.enum(MESSAGE_STATUSES),
  status_reason: z.string().nullable(),
  provider: z.string().nullable(),
  provider_message_id: z.string().nullable(),
  attempts: z.number(),
  drill: z.boolean(),
  subject: z.string().nullable(),
  created_at: z.string(),
  sent_at: z.string().nullable(),
  delivered_at: z.string().nullable(),
});

export function messageJson(m: Message): z.output<typeof messageSchema> {
  return {
    id: m.id,
    idempotency_key: m.idempotencyKey,
    incident_id: m.incidentId,
    channel: m.channel,
    purpose: m.purpose,
    template_key: m.templateKey,
    recipient: m.recipient,
    recipient_name: m.recipientName,
    status: m.status,
    status_reason: m.statusReason,
    provider: m.provider,
    provider_message_id: m.providerMessageId,
    attempts: m.attempts,
    drill: m.drill,
    subject: m.subject,
    created_at: toIso(m.createdAt),
    sent_at: toIsoOrNull(m.sentAt),
    delivered_at: toIsoOrNull(m.deliveredAt),
  };
}

export const messageFilterSchema = z.object({
  incident_id: z.string().optional(),
  channel: z.enum(OUTBOUND_CHANNELS).optional(),
  status: z.enum(MESSAGE_STATUSES).optional(),
  recipient: z.string().optional(),
  before: z.string().optional().describe('Message id: older messages (paging)'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const recipientSchema = z.strictObject({
  address: z.string().trim().min(1, 'expected an email address, phone number or target'),
  name: z.string().max(200).optional(),
  ref: z.string().max(200).optional(),
  timezone: z.string().optional().describe('IANA time zone, e.g. Europe/Berlin (quiet hours)'),
  consent: z.strictObject({ email: z.boolean().optional(), sms: z.boolean().optional() }).optional(),
  variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

export const dispatchSchema = z.strictObject({
  template_key: z.string().min(1),
  locale: z.string().min(2).max(20).optional(),
  recipients: z.array(recipientSchema).min(1).max(100_000),
  variables: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  incident_id: z.string().optional(),
  step: z.string().min(1).max(200).default('manual'),
  drill: z.boolean().default(false),
});

export function registerMessageRoutes(r: Router, services: Services): void {
  const { db, outbox, clock } = services;

  r.route({
    method: 'POST',
    url: '/api/v1/messages',
    summary: 'Send an approved template to recipients (queued in the outbox, delivered by the worker)',
    description:
      'Each message is keyed by incident + channel + recipient + template + step: sending the same request again queues nothing new.',
    tags: ['messaging'],
    access: 'messages.send',
    body: dispatchSchema,
    responses: {
      202: {
        description: 'Queued',
        schema: z.object({ channel: z.string(), created: z.number(), existing: z.number(), message_ids: z.array(z.string()) }),
      },
      422: { description: 'Template not approved, or a variable missing for a recipient', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const now = clock.now();
      const result = await db.tx(async (trx) => {
        const res = await outbox.dispatch(trx, {
          templateKey: body.template_key,
          locale: body.locale,
          recipients: body.recipients,
          variables: body.variables,
          incidentId: body.incident_id ?? null,
          step: body.step,
          drill: body.drill,
        });
        await recordAudit(trx, {
          at: now,
          actor,
          action: 'messages.dispatch',
          ...(body.incident_id && { target: { type: 'incident', id: body.incident_id } }),
          details: { template: body.template_key, recipients: body.recipients.length, created: res.created, step: body.step },
        });
        return res;
      });
      reply.code(202);
      return { channel: result.channel, created: result.created, existing: result.existing, message_ids: result.messageIds };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/messages',
    summary: 'The outbox, newest first, filtered by incident, channel, status or recipient; with counts',
    tags: ['messaging'],
    access: 'messages.read',
    query: messageFilterSchema,
    responses: {
      200: {
        description: 'Messages',
        schema: z.object({
          counts: z.array(z.object({ channel: z.string(), status: z.string(), n: z.number() })),
          messages: z.array(messageSchema),
        }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      const [messages, counts] = await Promise.all([
        listMessages(db.kysely, {
          limit: query.limit,
          incidentId: query.incident_id,
          channel: query.channel,
          status: query.status,
          recipient: query.recipient,
          before: query.before,
        }),
        countMessages(db.kysely, { incidentId: query.incident_id }),
      ]);
      return { counts, messages: messages.map(messageJson) };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/messages/:id',
    summary: 'One message with its content and every delivery attempt',
    tags: ['messaging'],
    access: 'messages.read',
    params: z.object({ id: z.string() }),
    responses: {
      200: {
        description: 'The message',
        schema: messageSchema.extend({
          body_text: z.string(),
          body_html: z.string().nullable(),
          attempts_log: z.array(
            z.object({
              at: z.string(),
              provider: z.string(),
              outcome: z.string(),
              code: z.string().nullable(),
              detail: z.string().nullable(),
              duration_ms: z.number(),
            }),
          ),
        }),
      },
      404: { description: 'No such message', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      const message = await findMessage(db.kysely, params.id);
      if (!message) throw notFound('Message', params.id);
      const attempts = await listAttempts(db.kysely, message.id);
      return {
        ...messageJson(message),
        body_text: message.bodyText,
        body_html: message.bodyHtml,
        attempts_log: attempts.map((a) => ({
          at: toIso(a.at),
          provider: a.provider,
          outcome: a.outcome,
          code: a.code,
          detail: a.detail,
          duration_ms: a.durationMs,
        })),
      };
    },
  });

  const suppressionSchema = z.object({
    channel: z.enum(['email', 'sms']),
    address: z.string(),
    reason: z.string(),
    source: z.string().nullable(),
    created_at: z.string(),
  });

  r.route({
    method: 'GET',
    url: '/api/v1/suppressions',
    summary: 'Addresses that opted out (unsubscribe, STOP, provider opt-out)',
    tags: ['messaging'],
    access: 'messages.read',
    query: z.object({
      channel: z.enum(['email', 'sms']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    responses: {
      200: { description: 'Suppressions', schema: z.object({ suppressions: z.array(suppressionSchema) }) },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      const list = await listSuppressions(db.kysely, { limit: query.limit, ...(query.channel && { channel: query.channel }) });
      return {
        suppressions: list.map((s) => ({
          channel: s.channel,
          address: s.address,
          reason: s.reason,
          source: s.source,
          created_at: toIso(s.createdAt),
        })),
      };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/suppressions',
    summary: 'Suppress an address by hand (e.g. a complaint by phone)',
    tags: ['messaging'],
    access: 'suppressions.manage',
    body: z.strictObject({
      channel: z.enum(['email', 'sms']),
      address: z.string().trim().min(3),
      reason: z.string().trim().min(1).max(500).default('manual'),
    }),
    responses: { 201: { description: 'Suppressed (or already was)' }, ...STANDARD_ERRORS },
    async handler({ body, actor, reply }) {
      const now = clock.now();
      await db.tx(async (trx) => {
        await addSuppression(trx, {
          channel: body.channel,
          address: body.address,
          reason: body.reason,
          source: `manual:${actor.id ?? actor.type}`,
          at: now,
        });
        await recordAudit(trx, { at: now, actor, action: 'suppression.add', details: { channel: body.channel } });
      });
      return reply.code(201).send({ ok: true });
    },
  });

  r.route({
    method: 'DELETE',
    url: '/api/v1/suppressions/:channel/:address',
    summary: 'Lift a suppression (the person opted back in)',
    tags: ['messaging'],
    access: 'suppressions.manage',
    params: z.object({ channel: z.enum(['email', 'sms']), address: z.string() }),
    responses: {
      204: { description: 'Lifted' },
      404: { description: 'Not suppressed', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      const now = clock.now();
      await db.tx(async (trx) => {
        if (!(await removeSuppression(trx, params.channel, params.address))) throw notFound('Suppression', params.address);
        await recordAudit(trx, { at: now, actor, action: 'suppression.remove', details: { channel: params.channel } });
      });
      return reply.code(204).send();
    },
  });
}
