import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errorBodySchema } from '../../app/openapi.js';
import { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { AppError } from '../../core/errors.js';
import { findJsonErrorOffset, lineAndColumn } from '../../core/json-error.js';
import { parseMultipartFields } from '../../messaging/inbound/inbound.routes.js';
import type { IntakeAdapter } from './adapter.js';
import { ADAPTERS } from './adapters/index.js';
import { INTAKE_SOURCES, type IntakeSource } from './alert.js';
import { authenticateIntake } from './auth.js';
import { IntakeService } from './intake.service.js';
import { compileRules } from './rules.js';

export const HOOKS_PREFIX = '/api/v1/hooks';

export function intakePath(source: IntakeSource): string {
  return `${HOOKS_PREFIX}/${source}`;
}

export const receiptSchema = z.object({
  received: z.number().describe('Alerts read from the payload'),
  firing: z.number(),
  resolved: z.number(),
  changed: z.number().describe('Signals whose state or severity changed (0 when the same payload comes again)'),
  unmapped: z
    .array(z.object({ fingerprint: z.string(), summary: z.string(), reason: z.string() }))
    .describe('Alerts no rule or component label maps: recorded without a component'),
  ignored: z
    .array(z.string())
    .describe('Parts of the payload that are not alerts (test notifications, maintenance, other events)'),
});

const COMMON_DESCRIPTION =
  " Deduplicated by (source, fingerprint): the same notification again changes nothing. Each alert is mapped to a component by detection.rules (first match on its labels; values exact or /regex/), else by a keepwarm_component or component label naming one; unmapped alerts are still recorded, without a component, and listed in the answer. Severity: what the source says, else a keepwarm_severity label (down|degraded), else the rule's, else down; a `region` label makes the outage regional.";

function malformed(req: FastifyRequest, text: string, reason: string): AppError {
  const path = req.url.split('?')[0] ?? req.url;
  const position = findJsonErrorOffset(text);
  const where = position === null ? null : lineAndColumn(text, position);
  return new AppError(
    400,
    'malformed_json',
    `The body of ${req.method} ${path} is not valid JSON${where ? ` (line ${where.line}, column ${where.column})` : ''}: ${reason}`,
    { path, ...(position !== null && where && { position, ...where }) },
  );
}

function hasReservedKey(value: unknown): string | null {
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== 'object' || node === null) continue;
    for (const key of Object.keys(node)) {
      const child = (node as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && typeof child === 'object')) return key;
      stack.push(child);
    }
  }
  return null;
}

/** JSON text → value; an AppError (400) when it is not JSON or uses a reserved key. */
function readJson(req: FastifyRequest, input: string): unknown {
  const text = input.replace(/^\uFEFF/, '');
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw malformed(req, text, (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' '));
  }
  const reserved = hasReservedKey(value);
  if (reserved) {
    throw new AppError(400, 'malformed_json', `The body uses the reserved key "${reserved}".`, { key: reserved });
  }
  return value;
}

/**
 * The hooks live in a scope of their own: the body parsers keep the exact bytes (HMAC signatures
 * cover them) and never fail before authentication; a preHandler checks the source's secrets
 * first, then reports a body that is not JSON. Any content type is read as JSON (some senders say
 * text/plain); multipart/form-data is read for Uptime Kuma's form-data mode (its `data` field).
 */
function registerHooks(scope: FastifyInstance, r: Router, services: Services, intake: IntakeService): void {
  const rawBodies = new WeakMap<FastifyRequest, Buffer>();
  const bodyErrors = new WeakMap<FastifyRequest, AppError>();
  const read = (req: FastifyRequest, text: string): unknown => {
    try {
      return readJson(req, text);
    } catch (err) {
      bodyErrors.set(req, err as AppError);
      return undefined;
    }
  };

  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (req, body, done) => {
    const buffer = body as Buffer;
    rawBodies.set(req, buffer);
    const fields = parseMultipartFields(req.headers['content-type'] ?? '', buffer.toString('utf8'));
    done(null, fields.data !== undefined ? read(req, fields.data) : { ...fields });
  });
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    const buffer = body as Buffer;
    rawBodies.set(req, buffer);
    done(null, read(req, buffer.toString('utf8')));
  });

  const adapters = new Map<string, IntakeAdapter>();
  scope.addHook('preHandler', async (req) => {
    const adapter = adapters.get(req.routeOptions.url ?? '');
    if (!adapter) return;
    const intakeConfig = services.config.detection.intake;
    authenticateIntake({
      adapter,
      secrets: Object.hasOwn(intakeConfig, adapter.source) ? intakeConfig[adapter.source] : undefined,
      headers: req.headers,
      query: req.query,
      rawBody: rawBodies.get(req),
    });
    const bodyError = bodyErrors.get(req);
    if (bodyError) throw bodyError;
  });

  const router = new Router(scope, r.auth, r.openapi);
  const errors = {
    400: { description: "Not JSON, or not this source's payload: every field at fault is listed", schema: errorBodySchema },
    401: { description: 'Credentials missing (token or signature)', schema: errorBodySchema },
    403: { description: 'Wrong token or signature', schema: errorBodySchema },
    413: { description: 'Body over 1 MiB', schema: errorBodySchema },
    503: { description: 'Nothing configured in detection.intake.<source>: the endpoint stays closed', schema: errorBodySchema },
  };

  for (const adapter of ADAPTERS.values()) {
    const url = intakePath(adapter.source);
    adapters.set(url, adapter);
    for (const method of adapter.methods) {
      router.route({
        method,
        url,
        summary: `Alert intake: ${adapter.title}`,
        description: `${adapter.description}${COMMON_DESCRIPTION}`,
        tags: ['detection', 'webhooks'],
        access: 'public',
        body: adapter.schema,
        ...(adapter.tokenInQuery && {
          query: z.looseObject({
            token: z
              .union([z.string(), z.array(z.string())])
              .optional()
              .describe(`detection.intake.${adapter.source}.token, for senders that cannot set headers`),
          }),
        }),
        responses: { 202: { description: 'Recorded', schema: receiptSchema }, ...errors },
        async handler({ body, reply }) {
          const receipt = await intake.receive(adapter.source, adapter.normalize(body));
          reply.code(202);
          return receipt;
        },
      });
    }
  }

  router.route({
    method: 'POST',
    url: `${HOOKS_PREFIX}/:source`,
    summary: 'Any other alert source: 404 naming the known ones',
    tags: ['detection', 'webhooks'],
    access: 'public',
    params: z.object({ source: z.string() }),
    responses: { 404: { description: 'No intake for this source', schema: errorBodySchema } },
    async handler({ params }) {
      throw new AppError(
        404,
        'unknown_source',
        `There is no alert intake for ${JSON.stringify(params.source)}; the sources are ${INTAKE_SOURCES.join(', ')}.`,
        { source: params.source, sources: [...INTAKE_SOURCES] },
      );
    },
  });
}

/**
 * /api/v1/hooks/<source>: alerts from the monitoring a team already runs (Alertmanager, Grafana,
 * Uptime Kuma, PagerDuty, upstream Statuspage pages, generic JSON), each authenticated with its
 * own secret from detection.intake, recorded as signals mapped to components by detection.rules.
 */
export function registerIntakeRoutes(r: Router, services: Services): void {
  const log = services.log.child({ role: 'intake' });
  const intake = new IntakeService({
    db: services.db,
    detection: services.detection,
    log,
    rules: compileRules(services.config.detection.rules),
  });
  // Settings that can never be used: said once at start-up, not on every refused webhook.
  for (const [key, secrets] of Object.entries(services.config.detection.intake)) {
    const adapter = ADAPTERS.get(key as IntakeSource);
    if (!adapter)
      log.warn({ setting: `detection.intake.${key}`, sources: INTAKE_SOURCES }, 'unknown alert source in detection.intake');
    else if (secrets.hmacSecret && !adapter.signature)
      log.warn(
        { setting: `detection.intake.${key}.hmacSecret` },
        `${adapter.title} does not sign its webhooks; hmacSecret is not used`,
      );
  }
  r.app.register(async (scope) => registerHooks(scope, r, services, intake));
}
