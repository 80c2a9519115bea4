import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { AppError, tooManyRequests } from '../../core/errors.js';
import { findJsonErrorOffset, lineAndColumn } from '../../core/json-error.js';
import { beaconSchema, clientKeyOf, MAX_BEACON_BYTES, MAX_COUNT, MAX_COUNT_ROWS, MAX_EVENTS } from './beacons.js';
import { type BeaconService, beaconsFor, DEFAULT_OVERALL, DEFAULT_PER_CLIENT } from './beacons.service.js';

export const BEACONS_PATH = '/api/v1/beacons';

const PREFLIGHT_MAX_AGE_SECONDS = 7200;

function tooLarge(): AppError {
  return new AppError(
    413,
    'payload_too_large',
    `A beacon body may be at most ${MAX_BEACON_BYTES} bytes (16 KiB); send fewer events per beacon, or totals in "counts".`,
    { limit_bytes: MAX_BEACON_BYTES },
  );
}

function parseBeaconJson(req: FastifyRequest, text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const position = findJsonErrorOffset(text);
    const where = position === null ? null : lineAndColumn(text, position);
    const reason = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    throw new AppError(
      400,
      'malformed_json',
      `The body of ${req.method} ${BEACONS_PATH} is not valid JSON${where ? ` (line ${where.line}, column ${where.column})` : ''}: ${reason}`,
      { path: BEACONS_PATH, ...(position !== null && where && { position, ...where }) },
    );
  }
}

const DESCRIPTION = [
  'Browser beacons from the showroom (the browser SDK sends them with navigator.sendBeacon, or fetch with keepalive).',
  '',
  'Body: JSON, sent as text/plain (what sendBeacon sends for a string; no CORS preflight) or application/json, at most 16 KiB.',
  '`{"v": 1, "page": "https://showroom.example/p/42", "events": [{"type": "resource_error", "url": "https://cdn.example/app.js", "status": 503}], "counts": [{"host": "cdn.example", "resource_ok": 118, "resource_error": 2}]}`',
  `- events (at most ${MAX_EVENTS}): type resource_error | resource_ok (a script, stylesheet, image or font that failed / loaded), fetch_error | fetch_ok (a fetch or XHR that failed at the network level or was answered 5xx / was answered), js_error (uncaught error or unhandled rejection); host (else taken from url), url, status, message, at (epoch ms, informational).`,
  `- counts (at most ${MAX_COUNT_ROWS} hosts, each number at most ${MAX_COUNT}): totals per host since the previous beacon; the cheap way to report successful loads, which the error rate needs.`,
  'Unknown fields are ignored; a wrong known field answers 400 naming it.',
  '',
  'Beacons are counted in memory per minute (by arrival time) and per component: a host belongs to the component whose detection.beacons.hosts list has it ("cdn.example" matches any port, "*.cdn.example" any subdomain); other hosts are counted as unmatched and ignored. When a minute closes, a component with at least detection.beacons.minEvents loads and fetches and an error rate errors / (errors + successes) at or above detection.beacons.errorRate fails, one below it succeeds; detection.failuresToDown failing minutes in a row fire the signal beacon:<component id> (severity down), detection.successesToUp good minutes resolve it. JS errors are reported but not in the rate. Only counts and a few failing URLs without query strings are kept; page URLs and messages are not stored.',
  '',
  'CORS: a request whose Origin is one of detection.beacons.origins (exact match) is answered with Access-Control-Allow-Origin; any other Origin gets 403. Requests without an Origin (curl, servers) are accepted: Origin is no authentication (anyone can send any), so refusing them would protect nothing; the limits below do.',
  `Limits: ${DEFAULT_PER_CLIENT.capacity} beacons a minute per client address (IPv6: per /64; behind a reverse proxy set trustProxy, or every browser shares the proxy's allowance) and ${DEFAULT_OVERALL.capacity} a minute per process, else 429 with Retry-After. The answer is 204 at once: nothing waits for the database.`,
  'Several web processes each count their own share of the beacons (the error rate stays meaningful per process); a restart starts the counting afresh.',
].join('\n');

/**
 * The beacon intake in a scope of its own: its own body parser (text/plain and JSON, 16 KiB), CORS
 * for the configured showroom origins, and rate limits checked before the body is read.
 */
async function registerIntake(scope: FastifyInstance, r: Router, beacons: BeaconService): Promise<void> {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    ['text/plain', 'application/json'],
    { parseAs: 'string', bodyLimit: MAX_BEACON_BYTES },
    (req, body, done) => {
      try {
        done(null, parseBeaconJson(req, body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
  // A body over the limit without Content-Length (chunked) is caught while reading: say our limit,
  // not the app's 1 MiB. Everything else goes on to the app's error handler.
  scope.setErrorHandler((err: FastifyError, _req, _reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw tooLarge();
    throw err;
  });

  scope.addHook('onRequest', async (req, reply) => {
    reply.header('vary', 'Origin');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!beacons.allowsOrigin(origin)) {
        throw new AppError(
          403,
          'origin_not_allowed',
          `Beacons from ${JSON.stringify(origin)} are not accepted: add the origin to detection.beacons.origins.`,
          { origin },
        );
      }
      reply.header('access-control-allow-origin', origin);
    }
    if (req.method === 'OPTIONS') return;
    const decision = beacons.admit(clientKeyOf(req.ip));
    if (!decision.ok) {
      throw tooManyRequests(
        'Too many beacons from this address; send fewer, batched.',
        Math.max(1, Math.ceil(decision.retryAfterMs / 1000)),
      );
    }
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > MAX_BEACON_BYTES) throw tooLarge();
  });

  scope.options(BEACONS_PATH, async (_req, reply) =>
    reply
      .code(204)
      .header('access-control-allow-methods', 'POST')
      .header('access-control-allow-headers', 'Content-Type')
      .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_SECONDS))
      .send(),
  );
  r.document({
    method: 'OPTIONS',
    url: BEACONS_PATH,
    summary: 'CORS preflight for beacons sent as application/json',
    description:
      'Allowed origins (detection.beacons.origins, exact match) get Access-Control-Allow-Origin, -Methods: POST, -Headers: Content-Type and -Max-Age; any other Origin gets 403.',
    tags: ['detection', 'public'],
    access: 'public',
    responses: {
      204: { description: 'Preflight answered' },
      403: { description: 'Origin not allowed', schema: errorBodySchema },
    },
  });

  new Router(scope, r.auth, r.openapi).route({
    method: 'POST',
    url: BEACONS_PATH,
    summary: 'Browser beacons: failed and successful loads and fetches, JS errors, by host',
    description: DESCRIPTION,
    tags: ['detection', 'public'],
    access: 'public',
    body: beaconSchema,
    bodyContentType: 'text/plain',
    responses: {
      204: { description: 'Counted (or counted as unmatched)' },
      400: { description: 'Not JSON, or a field at fault (each named)', schema: errorBodySchema },
      403: { description: 'Origin not allowed', schema: errorBodySchema },
      413: { description: 'Body over 16 KiB', schema: errorBodySchema },
      415: { description: 'Neither text/plain nor application/json', schema: errorBodySchema },
      429: { description: 'Too many beacons (Retry-After says when to send again)', schema: errorBodySchema },
    },
    async handler({ body, req, reply }) {
      beacons.ingest(body, clientKeyOf(req.ip));
      return reply.code(204).send();
    },
  });
}

const statsSchema = z.looseObject({
  now: z.string(),
  beacons_received: z.number(),
  thresholds: z.object({ error_rate: z.number(), min_events: z.number() }),
  confirmation: z.object({ failures_to_down: z.number(), successes_to_up: z.number() }),
  origins: z.array(z.string()),
  configured_components: z.array(z.string()),
  open_windows: z.array(z.record(z.string(), z.unknown())),
  last_closed: z.record(z.string(), z.unknown()).nullable(),
  components: z.array(z.record(z.string(), z.unknown())),
  recent: z.array(z.record(z.string(), z.unknown())),
});

/**
 * POST /api/v1/beacons (with its CORS preflight) and GET /api/v1/beacons/stats. The beacon service
 * is the process's (one per service graph); its timer closes minute windows while the app runs.
 */
export function registerBeaconRoutes(r: Router, services: Services): void {
  const beacons = beaconsFor(services);
  r.app.register(async (scope) => registerIntake(scope, r, beacons));
  r.app.addHook('onReady', async () => beacons.start());
  r.app.addHook('onClose', async () => beacons.stop());

  r.route({
    method: 'GET',
    url: `${BEACONS_PATH}/stats`,
    summary: 'Browser beacons now: open windows, per-component confirmation, recent verdicts, unmatched hosts',
    description:
      'This process only (each web process counts its own share). Unmatched hosts of the last closed minute help complete detection.beacons.hosts.',
    tags: ['detection'],
    access: 'monitors.read',
    responses: { 200: { description: 'Beacon statistics', schema: statsSchema }, ...STANDARD_ERRORS },
    async handler() {
      return beacons.stats();
    },
  });
}
