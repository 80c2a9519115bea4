import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import { can } from '../../app/roles.js';
import type { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { sendPage } from '../../console/layout.js';
import { AppError } from '../../core/errors.js';
import { listComponents } from '../../incidents/components.repo.js';
import { maskSubscriberAddress, SUBSCRIBER_CHANNELS, SUBSCRIBER_STATES } from './subscribers.js';
import {
  ConfirmEmailPage,
  ConfirmResultPage,
  SmsCodeResultPage,
  SubscribeAnswerPage,
  SubscribeFormPage,
  SubscribersConsolePage,
  UnsubscribeSubscriberPage,
} from './subscribers.pages.js';
import type { SubscriberService } from './subscribers.service.js';

const FORM = 'application/x-www-form-urlencoded';
const html = { description: 'HTML page', contentType: 'text/html' };
const text = z.string().max(2000);

const subscribeBody = z.object({
  channel: text.optional(),
  address: text.optional(),
  email: text.optional(),
  phone: text.optional(),
  url: text.optional(),
  components: z.union([text, z.array(text).max(500)]).optional(),
});

const answerSchema = z.object({
  status: z.literal('pending'),
  channel: z.enum(SUBSCRIBER_CHANNELS),
  next: z.enum(['confirm_email', 'enter_code', 'answer_ping']),
  message: z.string(),
});

const NEXT_TEXT = {
  confirm_email: 'If the address can receive updates, a confirmation link is on its way.',
  enter_code: 'If the number can receive updates, a 6-digit code is on its way; POST it to /status/subscribe/sms.',
  answer_ping: 'A signed subscription.confirm request is on its way to the URL; answer it with a 2xx status.',
} as const;

function wantsJson(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().includes('json');
}

function subscriberServiceOf(services: Services): SubscriberService {
  return services.subscribers;
}

/**
 * Public subscription routes (subscribe, confirm, unsubscribe: HTML forms without JavaScript, or
 * JSON) and the admin API. The console page is registerSubscriberConsole.
 */
export function registerSubscriberRoutes(r: Router, services: Services): void {
  const subscribers = subscriberServiceOf(services);
  const pageName = services.config.status.pageName;

  const formPage = async (
    reply: FastifyReply,
    status: number,
    extra: { error?: string; values?: { channel?: string; address?: string } },
  ) => sendPage(reply, SubscribeFormPage({ pageName, components: await listComponents(services.db.kysely), ...extra }), status);

  r.route({
    method: 'GET',
    url: '/status/subscribe',
    summary: 'Subscribe form (HTML, no JavaScript)',
    tags: ['status', 'public'],
    access: 'public',
    responses: { 200: html },
    async handler({ reply }) {
      return formPage(reply, 200, {});
    },
  });

  const subscribe = async (req: FastifyRequest, reply: FastifyReply, body: z.output<typeof subscribeBody>, json: boolean) => {
    try {
      const answer = await subscribers.subscribe(body, req.ip);
      if (json) {
        reply.code(202);
        return { status: 'pending' as const, channel: answer.channel, next: answer.next, message: NEXT_TEXT[answer.next] };
      }
      return sendPage(reply, SubscribeAnswerPage({ pageName, next: answer.next, address: answer.address }), 202);
    } catch (err) {
      if (json || !(err instanceof AppError) || err.status >= 500) throw err;
      if (err.headers) reply.headers(err.headers);
      return formPage(reply, err.status, {
        error: err.message,
        values: { channel: body.channel ?? 'email', address: body.address ?? body.email ?? body.phone ?? body.url ?? '' },
      });
    }
  };

  r.route({
    method: 'POST',
    url: '/status/subscribe',
    summary: 'Subscribe to status updates from the status page form (HTML answer) or with JSON',
    description:
      'Fields: channel (email | sms | webhook), address (or email / phone / url), components (repeatable component ids; absent or "all" for everything). The answer is the same whether or not the address was known. A form post gets an HTML page; a JSON body gets JSON. Rate-limited per client IP (429) and per address (silently: no further message).',
    tags: ['status', 'public'],
    access: 'public',
    body: subscribeBody,
    bodyContentType: FORM,
    responses: {
      202: { description: 'Pending confirmation (HTML page, or JSON for a JSON body)', schema: answerSchema },
      422: { description: 'A field is not valid (named in details.field)', schema: errorBodySchema },
      429: { description: 'Too many requests from this client', schema: errorBodySchema },
    },
    async handler({ req, reply, body }) {
      return subscribe(req, reply, body, wantsJson(req));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/subscribers',
    summary: 'Subscribe to status updates (public JSON API)',
    description: 'Same as POST /status/subscribe with a JSON answer.',
    tags: ['status', 'public'],
    access: 'public',
    body: subscribeBody,
    responses: {
      202: { description: 'Pending confirmation', schema: answerSchema },
      422: { description: 'A field is not valid (named in details.field)', schema: errorBodySchema },
      429: { description: 'Too many requests from this client', schema: errorBodySchema },
    },
    async handler({ req, reply, body }) {
      return subscribe(req, reply, body, true);
    },
  });

  r.route({
    method: 'GET',
    url: '/status/subscribe/confirm',
    summary: 'Email confirmation page: one button (opening the link changes nothing)',
    tags: ['status', 'public'],
    access: 'public',
    query: z.object({ token: z.string().max(200).default('') }),
    responses: { 200: html, 400: html },
    async handler({ query, reply }) {
      const found = query.token ? await subscribers.inspectEmailToken(query.token) : { valid: false };
      return sendPage(
        reply,
        ConfirmEmailPage({
          token: query.token,
          valid: found.valid,
          masked: found.address ? maskSubscriberAddress('email', found.address) : undefined,
        }),
        found.valid ? 200 : 400,
      );
    },
  });

  r.route({
    method: 'POST',
    url: '/status/subscribe/confirm',
    summary: 'Confirm an email subscription (the confirmation page button)',
    tags: ['status', 'public'],
    access: 'public',
    body: z.object({ token: z.string().max(200) }),
    bodyContentType: FORM,
    responses: { 200: html, 400: html },
    async handler({ body, reply }) {
      const confirmed = await subscribers.confirmEmail(body.token);
      return sendPage(reply, ConfirmResultPage({ confirmed }), confirmed ? 200 : 400);
    },
  });

  r.route({
    method: 'POST',
    url: '/status/subscribe/sms',
    summary: 'Confirm an SMS subscription with the 6-digit code (form or JSON)',
    description: 'At most 5 tries per code; the code works for 15 minutes. Wrong, unknown and expired codes answer alike (400).',
    tags: ['status', 'public'],
    access: 'public',
    body: z.object({ phone: text, code: z.string().max(20) }),
    bodyContentType: FORM,
    responses: {
      200: { description: 'Confirmed', schema: z.object({ status: z.literal('confirmed') }) },
      400: { description: 'Code not accepted (wrong, locked or expired)', schema: errorBodySchema },
      422: { description: 'A field is not valid', schema: errorBodySchema },
    },
    async handler({ req, body, reply }) {
      const json = wantsJson(req);
      let outcome: Awaited<ReturnType<SubscriberService['confirmSms']>>;
      try {
        outcome = await subscribers.confirmSms(body.phone, body.code);
      } catch (err) {
        if (json || !(err instanceof AppError) || err.status >= 500) throw err;
        return sendPage(reply, SmsCodeResultPage({ outcome: 'wrong', phone: body.phone }), err.status);
      }
      if (json) {
        if (outcome === 'confirmed') return { status: 'confirmed' };
        throw new AppError(400, `code_${outcome}`, `The code was not accepted (${outcome}).`, { field: 'code' });
      }
      return sendPage(reply, SmsCodeResultPage({ outcome, phone: body.phone }), outcome === 'confirmed' ? 200 : 400);
    },
  });

  const unsubscribeAction = (token: string) =>
    `${services.config.publicUrl}/status/unsubscribe?token=${encodeURIComponent(token)}`;

  r.route({
    method: 'GET',
    url: '/status/unsubscribe',
    summary: 'Unsubscribe page of a subscription (signed link): the address, masked, and one button',
    tags: ['status', 'public'],
    access: 'public',
    query: z.object({ token: z.string().max(1000).default('') }),
    responses: { 200: html, 400: html },
    async handler({ query, reply }) {
      const row = await subscribers.readUnsubscribeToken(query.token);
      if (!row) return sendPage(reply, UnsubscribeSubscriberPage({ action: '', masked: null, state: 'invalid' }), 400);
      return sendPage(
        reply,
        UnsubscribeSubscriberPage({
          action: unsubscribeAction(query.token),
          masked: maskSubscriberAddress(row.channel, row.address),
          state: row.state === 'unsubscribed' ? 'already' : 'ask',
        }),
      );
    },
  });

  r.route({
    method: 'POST',
    url: '/status/unsubscribe',
    summary: 'Unsubscribe a subscription: RFC 8058 one-click (List-Unsubscribe=One-Click) or the page button',
    tags: ['status', 'public'],
    access: 'public',
    query: z.object({ token: z.string().max(1000).default('') }),
    body: z.record(z.string(), z.unknown()).optional(),
    bodyContentType: FORM,
    responses: { 200: { description: 'Unsubscribed (text for one-click, a page for the button)' }, 400: html },
    async handler({ query, body, reply }) {
      const row = await subscribers.readUnsubscribeToken(query.token);
      if (!row) return sendPage(reply, UnsubscribeSubscriberPage({ action: '', masked: null, state: 'invalid' }), 400);
      const oneClick =
        String(body?.['List-Unsubscribe'] ?? '')
          .trim()
          .toLowerCase() === 'one-click';
      const masked = maskSubscriberAddress(row.channel, row.address);
      if (!oneClick && body?.via !== 'page') {
        return sendPage(
          reply,
          UnsubscribeSubscriberPage({
            action: unsubscribeAction(query.token),
            masked,
            state: 'ask',
            error: 'Nothing was changed: use the button below to unsubscribe.',
          }),
          400,
        );
      }
      await subscribers.unsubscribe(row.id);
      if (oneClick)
        return reply.code(200).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('Unsubscribed.\n');
      return sendPage(reply, UnsubscribeSubscriberPage({ action: '', masked, state: 'done' }));
    },
  });

  const listQuery = z.object({
    channel: z.enum(SUBSCRIBER_CHANNELS).optional(),
    state: z.enum(SUBSCRIBER_STATES).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  });

  r.route({
    method: 'GET',
    url: '/api/v1/subscribers',
    summary: 'Status subscribers, newest first, with counts by channel and state',
    description: 'Addresses are shown to admin and commander; other roles see them masked.',
    tags: ['status'],
    access: 'subscribers.read',
    query: listQuery,
    responses: {
      200: {
        description: 'Subscribers and counts',
        schema: z.object({
          subscribers: z.array(
            z.object({
              id: z.string(),
              channel: z.enum(SUBSCRIBER_CHANNELS),
              address: z.string(),
              components: z.union([z.literal('all'), z.array(z.string())]),
              state: z.enum(SUBSCRIBER_STATES),
              created_at: z.string(),
              confirmed_at: z.string().nullable(),
              unsubscribed_at: z.string().nullable(),
            }),
          ),
          counts: z.array(z.object({ channel: z.string(), state: z.string(), count: z.number() })),
        }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query, actor }) {
      const result = await subscribers.list(query);
      const reveal = can(actor.role, 'subscribers.manage');
      return {
        counts: result.counts,
        subscribers: result.subscribers.map((s) => (reveal ? s : { ...s, address: maskSubscriberAddress(s.channel, s.address) })),
      };
    },
  });

  r.route({
    method: 'DELETE',
    url: '/api/v1/subscribers/:id',
    summary: 'Remove a subscriber (audited)',
    tags: ['status'],
    access: 'subscribers.manage',
    params: z.object({ id: z.string().max(100) }),
    responses: {
      204: { description: 'Removed' },
      404: { description: 'No such subscriber', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      await subscribers.remove(actor, params.id);
      return reply.code(204).send();
    },
  });
}

/** The console page /console/subscribers (list, counts, filters, remove). */
export function registerSubscriberConsole(r: Router, services: Services): void {
  const subscribers = subscriberServiceOf(services);
  const query = z.object({
    channel: z.union([z.enum(SUBSCRIBER_CHANNELS), z.literal('')]).optional(),
    state: z.union([z.enum(SUBSCRIBER_STATES), z.literal('')]).optional(),
    done: z.enum(['removed']).optional(),
  });

  r.route({
    method: 'GET',
    url: '/console/subscribers',
    summary: 'Subscribers page',
    tags: ['console'],
    access: 'subscribers.read',
    page: true,
    query,
    responses: { 200: html },
    async handler({ query: q, actor, reply }) {
      const filter = { channel: q.channel || undefined, state: q.state || undefined };
      const [result, components] = await Promise.all([
        subscribers.list({ ...filter, limit: 500, offset: 0 }),
        listComponents(services.db.kysely),
      ]);
      return sendPage(
        reply,
        SubscribersConsolePage({
          actor,
          subscribers: result.subscribers,
          counts: result.counts,
          filter,
          components: new Map(components.map((c) => [c.id, c.name])),
          showAddresses: can(actor.role, 'subscribers.manage'),
          notice: q.done === 'removed' ? 'Subscriber removed.' : undefined,
        }),
      );
    },
  });

  r.route({
    method: 'POST',
    url: '/console/subscribers/:id/delete',
    summary: 'Remove a subscriber from the console',
    tags: ['console'],
    access: 'subscribers.manage',
    page: true,
    params: z.object({ id: z.string().max(100) }),
    bodyContentType: FORM,
    body: z.record(z.string(), z.string()),
    responses: { 303: { description: 'Removed' } },
    async handler({ params, actor, reply }) {
      await subscribers.remove(actor, params.id);
      return reply.redirect('/console/subscribers?done=removed', 303);
    },
  });
}
