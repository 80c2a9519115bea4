import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import type { Config } from '../config/config.js';
import { AppError, tooManyRequests } from '../core/errors.js';
import { RateLimiter } from '../core/rate-limit.js';
import { clientKeyOf } from '../detection/beacons/beacons.js';
import { registerSdkRoute } from '../status/banner.routes.js';
import { registerEventConsole } from './events.console.js';
import {
  browserBatchSchema,
  checkSite,
  EVENT_TYPES,
  eventBatchSchema,
  MAX_BROWSER_BATCH_BYTES,
  MAX_BROWSER_EVENTS,
  MAX_EVENTS_PER_BATCH,
  normaliseOrigin,
  type SiteKey,
} from './events.js';
import type { IntentEventService } from './events.service.js';

export const EVENTS_PATH = '/api/v1/events';
export const BROWSER_EVENTS_PATH = '/api/v1/events/browser';
export const EVENTS_SDK_PATH = '/sdk/keepwarm-events.js';

const batchAnswer = z.object({
  accepted: z.number(),
  duplicates: z.number(),
  unmatched: z.number(),
  errors: z.array(z.object({ index: z.number(), field: z.string(), message: z.string() })),
});

const EVENT_SHAPE = `Each event: {messageId, type: ${EVENT_TYPES.join('|')}, leadId? | email? | anonymousId?, product?, value?, at?, properties?}.`;

const eventView = z.object({
  id: z.string(),
  message_id: z.string(),
  type: z.string(),
  lead_id: z.string().nullable(),
  lead_email: z.string().nullable(),
  email: z.string().nullable(),
  anonymous_id: z.string().nullable(),
  product: z.string().nullable(),
  value: z.number().nullable(),
  properties: z.record(z.string(), z.unknown()),
  at: z.string(),
  received_at: z.string(),
  source: z.string().describe('api (an API token) or site:<name> (a site key from the browser SDK)'),
  incident: z
    .object({ id: z.string(), name: z.string().nullable(), drill: z.boolean() })
    .nullable()
    .describe('The incident whose window covers the event time (drills marked), or null'),
});

export const eventListQuery = z.object({
  incident: z.string().trim().min(1).max(100).optional(),
  lead: z.string().trim().min(1).max(100).optional(),
  type: z.enum(EVENT_TYPES).optional(),
  source: z.string().trim().min(1).max(100).optional(),
  attributed: z.enum(['yes', 'no']).optional(),
  before: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

function tooLarge(): AppError {
  return new AppError(
    413,
    'payload_too_large',
    `A browser batch may be at most ${MAX_BROWSER_BATCH_BYTES / 1024} KiB; send fewer events per batch.`,
    { limit_bytes: MAX_BROWSER_BATCH_BYTES },
  );
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    throw new AppError(400, 'malformed_json', `The body of POST ${BROWSER_EVENTS_PATH} is not valid JSON: ${reason}`);
  }
}

function siteOf(req: FastifyRequest, sites: readonly SiteKey[]): SiteKey {
  const key = (req.query as Record<string, unknown> | undefined)?.key;
  const check = checkSite(sites, typeof key === 'string' ? key : undefined, req.headers.origin);
  if (!check.ok) {
    throw new AppError(check.status, check.code, check.message, {
      field: 'key',
      ...(check.code === 'origin_not_allowed' && { origin: req.headers.origin }),
    });
  }
  return check.site;
}

const BROWSER_DESCRIPTION = [
  'Intent events from the browser SDK (web/sdk/keepwarm-events.js), authorised by a public site key instead of a secret token.',
  '',
  `Query: key = the site's public key (crm.events.sites[].key). Body: JSON {events: [...], sentAt?}, sent as text/plain (what navigator.sendBeacon sends; no CORS preflight) or application/json, at most ${MAX_BROWSER_BATCH_BYTES / 1024} KiB and ${MAX_BROWSER_EVENTS} events. ${EVENT_SHAPE}`,
  'sentAt (the browser clock when sending) corrects a skewed device clock: every at is shifted by the difference to ours when it exceeds 5 s.',
  'Deduplicated by messageId across batches, retries and concurrent posts (the SDK resends a batch it is not sure arrived); each stored event is attributed to the incident whose window covers its time.',
  "CORS: an Origin among the site key's origins gets Access-Control-Allow-Origin (and may read Retry-After); any other Origin gets 403. A request without Origin (a server) is taken: Origin is no authentication, and a site key is public; they only keep other sites' pages out. What a site key allows is posting events, nothing else.",
  'Limits per process: crm.events.perClientPerMinute batches a minute per client address (IPv6: per /64) and crm.events.perSitePerMinute per site key, else 429 with Retry-After.',
].join('\n');

/**
 * The browser intake in a scope of its own: its body parser (text/plain and JSON, 64 KiB), the site
 * key and origin check, CORS and rate limits, all before the body is read.
 */
async function registerBrowserIntake(
  scope: FastifyInstance,
  r: Router,
  events: IntentEventService,
  sites: readonly SiteKey[],
  limits: { perClient: RateLimiter; perSite: RateLimiter },
): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    ['text/plain', 'application/json'],
    { parseAs: 'string', bodyLimit: MAX_BROWSER_BATCH_BYTES },
    (_req, body, done) => {
      try {
        done(null, parseJson(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  scope.setErrorHandler((err: FastifyError) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw tooLarge();
    throw err;
  });
  scope.addHook('onRequest', async (req, reply) => {
    reply.header('vary', 'Origin');
    const site = siteOf(req, sites);
    const origin = req.headers.origin;
    if (origin !== undefined) {
      reply.header('access-control-allow-origin', origin);
      reply.header('access-control-expose-headers', 'Retry-After');
    }
    if (req.method === 'OPTIONS') return;
    for (const decision of [limits.perClient.take(clientKeyOf(req.ip)), limits.perSite.take(site.name)]) {
      if (!decision.ok)
        throw tooManyRequests(
          'Too many event batches; the SDK keeps them and sends them later.',
          Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
        );
    }
    if (Number(req.headers['content-length'] ?? 0) > MAX_BROWSER_BATCH_BYTES) throw tooLarge();
  });

  scope.options(BROWSER_EVENTS_PATH, async (_req, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'Content-Type')
      .header('access-control-max-age', '7200')
      .send(),
  );
  r.document({
    method: 'OPTIONS',
    url: BROWSER_EVENTS_PATH,
    summary: 'CORS preflight for browser events sent as application/json',
    description: "The site key's origins (crm.events.sites[].origins) are allowed; others get 403.",
    tags: ['crm', 'public'],
    access: 'public',
    responses: {
      204: { description: 'Preflight answered' },
      401: { description: 'No site key', schema: errorBodySchema },
      403: { description: 'Unknown site key, or origin not allowed', schema: errorBodySchema },
    },
  });

  new Router(scope, r.auth, r.openapi).route({
    method: 'POST',
    url: BROWSER_EVENTS_PATH,
    summary: `Intent events from showroom pages (browser SDK), with a public site key; up to ${MAX_BROWSER_EVENTS} a batch`,
    description: BROWSER_DESCRIPTION,
    tags: ['crm', 'public'],
    access: 'public',
    body: browserBatchSchema,
    bodyContentType: 'text/plain',
    responses: {
      200: { description: 'Recorded', schema: batchAnswer },
      400: { description: 'Not JSON, or a batch field at fault (each named)', schema: errorBodySchema },
      401: { description: 'No site key (query parameter key)', schema: errorBodySchema },
      403: { description: 'Unknown site key, or origin not allowed', schema: errorBodySchema },
      413: { description: `Body over ${MAX_BROWSER_BATCH_BYTES / 1024} KiB`, schema: errorBodySchema },
      415: { description: 'Neither text/plain nor application/json', schema: errorBodySchema },
      429: { description: 'Too many batches (Retry-After)', schema: errorBodySchema },
    },
    async handler({ body, req }) {
      const site = siteOf(req, sites);
      return events.record(body.events, { site: site.name, sentAt: body.sentAt });
    },
  });
}

/** The key of the site whose origins include Keepwarm's own (the banner preview page embeds the SDK with it). */
export function previewEventsKey(config: Pick<Config, 'publicUrl' | 'crm'>): string | null {
  const own = normaliseOrigin(config.publicUrl);
  return config.crm.events.sites.find((s) => s.origins.some((o) => normaliseOrigin(o) === own))?.key ?? null;
}

/**
 * Intent events: the server-to-server path (an API token that may write events), the browser path
 * (a public site key, CORS, limits), the list with incident attribution, the SDK file and the
 * console page.
 */
export function registerEventRoutes(r: Router, services: Services): void {
  const events = services.intentEvents;
  const settings = services.config.crm.events;

  r.route({
    method: 'POST',
    url: EVENTS_PATH,
    summary: `Intent events in batches of up to ${MAX_EVENTS_PER_BATCH}, deduplicated by messageId`,
    description:
      `${EVENT_SHAPE} Optional sentAt (the sender's clock when sending) corrects a skewed clock. ` +
      'A repeated messageId counts as a duplicate (also across batches and concurrent posts); an invalid event is listed by its index and the others are kept. ' +
      'Each stored event is attributed to the incident whose window (started_at to resolved_at) covers its time. Pages use POST /api/v1/events/browser with a site key instead.',
    tags: ['crm'],
    access: 'events.write',
    body: eventBatchSchema,
    responses: { 200: { description: 'Recorded', schema: batchAnswer }, ...STANDARD_ERRORS },
    async handler({ body }) {
      return events.record(body.events, { sentAt: body.sentAt });
    },
  });

  r.route({
    method: 'GET',
    url: EVENTS_PATH,
    summary: 'Intent events, most recently received first, with the lead and the incident each is attributed to',
    description:
      'Filters: incident (id), lead (id), type, source (api or site:<name>), attributed (yes: inside some incident window, no: outside all). Pages: limit (default 100, at most 500) and before = next_cursor.',
    tags: ['crm'],
    access: 'leads.read',
    query: eventListQuery,
    responses: {
      200: {
        description: 'Events',
        schema: z.object({ events: z.array(eventView), next_cursor: z.string().nullable() }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      return events.list({
        incidentId: query.incident,
        leadId: query.lead,
        type: query.type,
        source: query.source,
        attributed: query.attributed === undefined ? undefined : query.attributed === 'yes',
        before: query.before,
        limit: query.limit,
      });
    },
  });

  const limits = {
    perClient: new RateLimiter({ capacity: settings.perClientPerMinute, perMs: 60_000, clock: services.clock }),
    perSite: new RateLimiter({ capacity: settings.perSitePerMinute, perMs: 60_000, clock: services.clock }),
  };
  r.app.register(async (scope) => registerBrowserIntake(scope, r, events, settings.sites, limits));

  registerSdkRoute(r, {
    path: EVENTS_SDK_PATH,
    file: 'keepwarm-events.js',
    summary: 'The browser script a showroom embeds to buffer intent events through outages (zero dependencies)',
    tags: ['crm', 'public'],
  });

  registerEventConsole(r, events);
}
