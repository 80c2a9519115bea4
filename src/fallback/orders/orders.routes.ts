import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { sendPage } from '../../console/layout.js';
import { AppError, tooManyRequests } from '../../core/errors.js';
import { RateLimiter } from '../../core/rate-limit.js';
import { clientKeyOf } from '../../detection/beacons/beacons.js';
import { checkOrder, MAX_LINES, MAX_ORDER_BYTES, MAX_QUANTITY, ORDER_STATES } from './orders.js';
import { OrderErrorsPage, OrdersConsolePage, OrderThanksPage } from './orders.pages.js';
import type { Order } from './orders.repo.js';
import { OrderService } from './orders.service.js';

export const ORDERS_PATH = '/fallback/v1/orders';

/** Per client address (IPv6: per /64): enough for a purchasing team behind one NAT, not for a flood. */
export const ORDER_LIMIT = { capacity: 30, perMs: 60 * 60_000 };

const html = { description: 'HTML page', contentType: 'text/html' };

function tooLarge(): AppError {
  return new AppError(413, 'payload_too_large', `An order may be at most ${MAX_ORDER_BYTES / 1024} KiB.`, {
    limit_bytes: MAX_ORDER_BYTES,
  });
}

/** application/x-www-form-urlencoded into fields; a repeated name (sku[], qty[]) becomes a list. */
export function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const had = out[key];
    if (had === undefined) out[key] = key.endsWith('[]') ? [value] : value;
    else out[key] = [...[had].flat(), value];
  }
  return out;
}

function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  if (accept.includes('application/json')) return true;
  return !accept.includes('text/html') && (req.headers['content-type'] ?? '').includes('application/json');
}

/** A link back for the buyer: the form's page or the Referer, only if it is an http(s) URL. */
function backLink(source: unknown, referer: string | undefined): string | null {
  for (const candidate of [source, referer]) {
    if (typeof candidate !== 'string') continue;
    try {
      const url = new URL(candidate);
      if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
    } catch {
      // not a URL: no link
    }
  }
  return null;
}

function orderJson(o: Order) {
  return {
    id: o.id,
    reference: o.reference,
    state: o.state,
    received_at: new Date(o.createdAt).toISOString(),
    unknown_skus: o.unknownSkus,
    lines: o.lines.map((l) => ({ sku: l.sku, name: l.name, quantity: l.quantity, known: l.known })),
  };
}

const orderAnswerSchema = z.object({
  id: z.string(),
  reference: z.string(),
  state: z.enum(ORDER_STATES),
  received_at: z.string(),
  unknown_skus: z.number().int(),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.number().int(), known: z.boolean() })),
});

const orderBodySchema = z
  .record(z.string(), z.unknown())
  .describe(
    'Form fields company, name, email, phone, notes, source, and sku[] / qty[] (product[] optional) per line; or JSON {company, name, email, phone?, notes?, source?, lines: [{sku, name?, quantity}]}.',
  );

const DESCRIPTION = [
  'The offline purchase-order form of the fallback mirror posts here (from another host, without JavaScript).',
  '',
  'Body (at most 64 KiB): an HTML form post (application/x-www-form-urlencoded) with company, name, email, phone (optional), notes (optional), source (optional: the mirror page) and one sku[] / qty[] pair per line (product[]: the name the buyer saw, optional; blank rows are skipped), or JSON `{"company": "Acme", "name": "Ada Buyer", "email": "ada@acme.example", "lines": [{"sku": "CH-100", "name": "Task chair", "quantity": 12}]}`.',
  `Rules: company, name and a valid email are required; 1 to ${MAX_LINES} lines; quantities are whole numbers from 1 to ${MAX_QUANTITY}. Every fault is named by field (sku[2], lines[0].quantity) and nothing is stored.`,
  'SKUs are checked against the latest catalog snapshot: an unknown SKU is kept and flagged (unknown_skus), never refused.',
  'On receipt the order is stored with the open incident, if any, and in the same transaction the sales email (template email.offline_order, to fallback.salesEmail) and the buyer receipt (email.offline_order_receipt) are queued.',
  'Answer: a thank-you page with the reference (KW-XXXX-XXXX), or a page listing the fields to correct (422); JSON instead when Accept names application/json (or a JSON body without Accept: text/html).',
  'CORS: an Origin listed in fallback.orderOrigins gets Access-Control-Allow-Origin (its pages may read the answer); other origins do not, and their preflights get 403. A plain form post is accepted from anywhere: Origin is no authentication, and an order must never be lost.',
  `Limit: ${ORDER_LIMIT.capacity} orders an hour per client address (IPv6: per /64), else 429 with Retry-After.`,
].join('\n');

async function registerIntake(
  scope: FastifyInstance,
  r: Router,
  orders: OrderService,
  origins: ReadonlySet<string>,
  limiter: RateLimiter,
) {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: MAX_ORDER_BYTES },
    (_req, body, done) => done(null, parseForm(body as string)),
  );
  scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_ORDER_BYTES }, (_req, body, done) => {
    try {
      const value = JSON.parse(body as string) as unknown;
      if (value === null || typeof value !== 'object' || Array.isArray(value))
        throw new AppError(400, 'malformed_json', 'The order must be a JSON object.');
      done(null, value);
    } catch (err) {
      done(
        err instanceof AppError
          ? err
          : new AppError(
              400,
              'malformed_json',
              `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
            ),
        undefined,
      );
    }
  });
  scope.setErrorHandler((err: FastifyError) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw tooLarge();
    throw err;
  });
  scope.addHook('onRequest', async (req, reply) => {
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin !== undefined && origins.has(origin)) reply.header('access-control-allow-origin', origin);
    if (req.method === 'OPTIONS') return;
    if (Number(req.headers['content-length'] ?? 0) > MAX_ORDER_BYTES) throw tooLarge();
  });

  scope.options(ORDERS_PATH, async (req, reply) => {
    const origin = req.headers.origin;
    if (origin === undefined || !origins.has(origin))
      throw new AppError(
        403,
        'origin_not_allowed',
        `Orders posted by scripts from ${JSON.stringify(origin ?? '')} are not accepted: add the origin to fallback.orderOrigins.`,
        { origin: origin ?? null },
      );
    return reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'Content-Type, Accept')
      .header('access-control-max-age', '7200')
      .send();
  });
  r.document({
    method: 'OPTIONS',
    url: ORDERS_PATH,
    summary: 'CORS preflight for orders posted by script from the mirror',
    description: 'Origins in fallback.orderOrigins (exact match) are allowed; others get 403.',
    tags: ['fallback', 'public'],
    access: 'public',
    responses: {
      204: { description: 'Preflight answered' },
      403: { description: 'Origin not allowed', schema: errorBodySchema },
    },
  });

  new Router(scope, r.auth, r.openapi).route({
    method: 'POST',
    url: ORDERS_PATH,
    summary: 'Offline purchase order from the fallback mirror (HTML form or JSON)',
    description: DESCRIPTION,
    tags: ['fallback', 'public'],
    access: 'public',
    body: orderBodySchema,
    bodyContentType: 'application/x-www-form-urlencoded',
    responses: {
      200: { ...html, description: 'Thank-you page with the reference (form posts)' },
      201: { description: 'Order stored (JSON)', schema: orderAnswerSchema },
      400: { description: 'Malformed JSON', schema: errorBodySchema },
      413: { description: 'Body over 64 KiB', schema: errorBodySchema },
      415: { description: 'Neither a form post nor JSON', schema: errorBodySchema },
      422: { description: 'Fields to correct, each named (an HTML page for form posts)', schema: errorBodySchema },
      429: { description: 'Too many orders from this address (Retry-After)', schema: errorBodySchema },
    },
    async handler({ body, req, reply }) {
      const json = wantsJson(req);
      const decision = limiter.take(clientKeyOf(req.ip));
      if (!decision.ok)
        throw tooManyRequests(
          'Too many orders from this address; please wait, or email us your order.',
          Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
        );
      const isForm = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
      const raw = { ...body, source: body.source ?? req.headers.referer };
      const checked = checkOrder(raw, isForm ? 'form' : 'json');
      const back = backLink(body.source, req.headers.referer);
      if (!checked.ok) {
        if (json)
          throw new AppError(
            422,
            'validation_failed',
            checked.errors.map((e) => `${e.field}: ${e.message}`).join(' '),
            checked.errors.map((e) => ({ field: e.field, message: e.message })),
          );
        return sendPage(reply, OrderErrorsPage({ errors: checked.errors, back }), 422);
      }
      const order = await orders.receive(checked.order, { ip: req.ip });
      if (json) return reply.code(201).send(orderJson(order));
      return sendPage(reply, OrderThanksPage({ order, back }), 200);
    },
  });
}

/**
 * POST /fallback/v1/orders (public, with its CORS preflight) and the console list /console/orders
 * with its state changes.
 */
export function registerOrderRoutes(r: Router, services: Services): OrderService {
  const { config } = services;
  const orders = new OrderService({
    db: services.db,
    clock: services.clock,
    log: services.log.child({ feature: 'orders' }),
    outbox: services.outbox,
    secret: services.secret,
    catalogLatestId: () => services.catalog.latestId(),
    options: { salesEmail: config.fallback.salesEmail, publicUrl: config.publicUrl },
  });
  const origins = new Set(config.fallback.orderOrigins.map((o) => o.replace(/\/$/, '')));
  const limiter = new RateLimiter({ ...ORDER_LIMIT, clock: services.clock });
  r.app.register(async (scope) => registerIntake(scope, r, orders, origins, limiter));

  const listPage = async (
    actor: Parameters<typeof OrdersConsolePage>[0]['actor'],
    state: (typeof ORDER_STATES)[number] | undefined,
    extra: { notice?: string; error?: string } = {},
  ) => OrdersConsolePage({ actor, orders: await orders.list({ state }), state, salesEmail: orders.salesEmail, ...extra });

  r.route({
    method: 'GET',
    url: '/console/orders',
    summary: 'Offline orders: lines, flagged SKUs, the incident, email status; mark acknowledged or converted',
    tags: ['console'],
    access: 'orders.read',
    page: true,
    query: z.object({
      state: z.preprocess((v) => (v === '' ? undefined : v), z.enum(ORDER_STATES).optional()),
      done: z.string().max(40).optional(),
    }),
    responses: { 200: html },
    async handler({ query, actor, reply }) {
      const notice = query.done ? `Order ${query.done} updated.` : undefined;
      return sendPage(reply, await listPage(actor, query.state, notice ? { notice } : {}));
    },
  });

  for (const [action, to] of [
    ['acknowledge', 'acknowledged'],
    ['convert', 'converted'],
  ] as const) {
    r.route({
      method: 'POST',
      url: `/console/orders/:id/${action}`,
      summary: action === 'acknowledge' ? 'Mark an offline order acknowledged' : 'Mark an offline order converted',
      tags: ['console'],
      access: 'orders.write',
      page: true,
      params: z.object({ id: z.string().min(1).max(100) }),
      bodyContentType: 'application/x-www-form-urlencoded',
      body: z.record(z.string(), z.string()),
      responses: { 303: { description: 'Back to the list' }, 409: html, ...STANDARD_ERRORS },
      async handler({ params, actor, reply }) {
        try {
          const order = await orders.move(actor, params.id, to);
          return reply.redirect(`/console/orders?done=${encodeURIComponent(order.reference)}`, 303);
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          return sendPage(reply, await listPage(actor, undefined, { error: err.message }), err.status);
        }
      },
    });
  }
  return orders;
}
